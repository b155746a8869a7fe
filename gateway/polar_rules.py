"""Polar's input rules that both the sandbox and the gateway apply (contract sections 4.2 and 4.3)."""

from __future__ import annotations

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
