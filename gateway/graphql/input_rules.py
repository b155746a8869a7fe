"""Rules the gateway checks before any upstream call: metadata limits, email syntax, country codes, US and
CA states, and name length. Each broken rule is a userError with the path of the GraphQL input field."""

from __future__ import annotations

import math
from typing import Any

import email_validator

from ..polar_rules import (
    EMBARGOED_COUNTRIES,
    METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    SUBDIVISIONS,
    SUPPORTED_COUNTRIES,
    subdivision,
)
from .errors import UserError, UserErrorCode, state_message

_SUPPORTED = frozenset(SUPPORTED_COUNTRIES)
# Integers are kept exact only within signed 64 bits: orjson (here and in most clients) reads larger ones as
# floats, and JSON stores such as Polar's cannot be relied on past them either.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INT64_MESSAGE = (
    f"A metadata integer must fit in 64 bits ({INT64_MIN} to {INT64_MAX}); send a larger number as a string."
)
_FINITE_MESSAGE = "A metadata number must be finite: NaN and Infinity are not JSON numbers."


def check_email(value: str, path: list[str]) -> list[UserError]:
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        return [UserError(field=path, message=f"Not a valid email address: {error}", code=UserErrorCode.INVALID)]
    return []


def check_metadata(value: Any, path: list[str]) -> list[UserError]:
    if not isinstance(value, dict):
        return [
            UserError(field=path, message="Metadata must be an object of key-value pairs.", code=UserErrorCode.INVALID)
        ]
    errors: list[UserError] = []
    if len(value) > METADATA_MAX_KEYS:
        errors.append(
            UserError(
                field=path,
                message=f"At most {METADATA_MAX_KEYS} metadata pairs, not {len(value)}.",
                code=UserErrorCode.TOO_MANY,
            )
        )
    for key, item in value.items():
        where = [*path, key]
        if not 1 <= len(key) <= METADATA_KEY_MAX_LENGTH:
            errors.append(
                UserError(
                    field=where,
                    message=f"Metadata keys have 1 to {METADATA_KEY_MAX_LENGTH} characters.",
                    code=UserErrorCode.TOO_LONG if key else UserErrorCode.BLANK,
                )
            )
        if isinstance(item, str):
            if not item:
                errors.append(
                    UserError(field=where, message="A metadata string cannot be empty.", code=UserErrorCode.BLANK)
                )
            elif len(item) > METADATA_VALUE_MAX_LENGTH:
                errors.append(
                    UserError(
                        field=where,
                        message=f"A metadata string has at most {METADATA_VALUE_MAX_LENGTH} characters.",
                        code=UserErrorCode.TOO_LONG,
                    )
                )
        elif isinstance(item, bool):
            pass
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                errors.append(UserError(field=where, message=_INT64_MESSAGE, code=UserErrorCode.INVALID))
        elif isinstance(item, float):
            if not math.isfinite(item):
                errors.append(UserError(field=where, message=_FINITE_MESSAGE, code=UserErrorCode.INVALID))
        else:
            errors.append(
                UserError(
                    field=where,
                    message="A metadata value is a string, an integer, a float or a boolean.",
                    code=UserErrorCode.INVALID,
                )
            )
    return errors


def check_country(value: str, path: list[str]) -> list[UserError]:
    country = value.upper()
    if country in _SUPPORTED:
        return []
    reason = (
        "is not supported (trade embargo)" if country in EMBARGOED_COUNTRIES else "is not an ISO 3166-1 alpha-2 code"
    )
    return [UserError(field=path, message=f"Country '{value}' {reason}.", code=UserErrorCode.INVALID)]


def state_code(country: str, state: str | None) -> str | None:
    """The state as Polar stores it: for US and CA the ISO 3166-2 code (``ny``, ``NY`` and ``US-NY`` all
    give ``US-NY``), None when blank; other countries' states as given. None also for a US or CA state
    that is not one, which ``check_address`` refuses first."""
    country = country.strip().upper()
    if state is None or country not in SUBDIVISIONS:
        return state
    text = state.strip().upper()
    return subdivision(country, text) if text else None


def check_address(country: str, state: str | None, path: list[str]) -> list[UserError]:
    """The country, and for US and CA the state, with a message of ours at ``path + ["state"]``: Polar
    answers a whole-address ``Value error, Invalid US state`` (see ``gateway.upstream.problems``)."""
    errors = check_country(country, [*path, "country"])
    code = country.strip().upper()
    if errors or code not in SUBDIVISIONS or state is None or not state.strip():
        return errors  # no state is fine: Polar requires none
    if state_code(code, state) is None:
        return [UserError(field=[*path, "state"], message=state_message(code, state), code=UserErrorCode.INVALID)]
    return []


def check_name(value: str, path: list[str]) -> list[UserError]:
    if len(value) > NAME_MAX_LENGTH:
        return [UserError(field=path, message=f"At most {NAME_MAX_LENGTH} characters.", code=UserErrorCode.TOO_LONG)]
    return []
