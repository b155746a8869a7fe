"""Polar's input rules that both the sandbox and the gateway apply (contract sections 4.2 and 4.3)."""

from __future__ import annotations

import base64
import binascii

import pycountry

METADATA_MAX_KEYS = 50
METADATA_KEY_MAX_LENGTH = 40
METADATA_VALUE_MAX_LENGTH = 500
NAME_MAX_LENGTH = 256

ALL_COUNTRIES = sorted(country.alpha_2 for country in pycountry.countries)
EMBARGOED_COUNTRIES = frozenset({"CU", "IR", "KP", "SY", "RU"})
SUPPORTED_COUNTRIES = sorted(set(ALL_COUNTRIES) - EMBARGOED_COUNTRIES)

US_STATES = frozenset(
    "US-" + code
    for code in [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
    ]
)
CA_SUBDIVISIONS = frozenset(
    "CA-" + code for code in ["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"]
)

SUBDIVISIONS = {"US": US_STATES, "CA": CA_SUBDIVISIONS}  # the countries whose state Polar checks


def subdivision(country: str, state: str) -> str | None:
    """Polar's form of a US state or Canadian province for ``country`` (``CA`` or ``US-CA`` give ``US-CA``),
    or None when ``state`` is not one; as ``Address.validate_state`` of Polar's ``kit/address.py``, which
    is case-sensitive. Only for countries in ``SUBDIVISIONS``."""
    code = state if state.startswith(f"{country}-") else f"{country}-{state}"
    return code if code in SUBDIVISIONS[country] else None


# Webhook secrets (contract: webhooks). Polar signs with the Standard Webhooks scheme. A secret in the Standard
# Webhooks form (``whsec_`` and the base64 of 24 to 64 bytes, what Polar generates since 2026-09-08) is the
# base64 of the HMAC key; any other secret (Polar's older ``whsec_<43-character token>``, or one the caller
# chose) keys the HMAC with its own UTF-8 bytes, prefix included, as Polar still signs for older endpoints.
WEBHOOK_SECRET_PREFIX = "whsec_"
STANDARD_KEY_BYTES = range(24, 65)


def uses_standard_signature(secret: str) -> bool:
    """Whether ``secret`` is a Standard Webhooks secret, the base64 of the HMAC key after ``whsec_``."""
    return webhook_signing_key(secret) != secret.encode()


def webhook_signing_key(secret: str) -> bytes:
    """The HMAC key Polar signs an endpoint's deliveries with, from the endpoint's secret."""
    if secret.startswith(WEBHOOK_SECRET_PREFIX):
        try:
            key = base64.b64decode(secret[len(WEBHOOK_SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) in STANDARD_KEY_BYTES:
            return key
    return secret.encode()
