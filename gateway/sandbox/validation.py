"""Checks of request input with the messages Polar's server (FastAPI and pydantic) gives.

Each check appends pydantic-shaped details to a ``Problems`` list instead of raising, so that one
422 answer reports every problem of a request at once, as FastAPI does.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import email_validator
from stdnum import get_cc_module
from stdnum.exceptions import ValidationError as StdnumError

from ..polar_rules import (
    METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX_LENGTH,
    SUBDIVISIONS,
    SUPPORTED_COUNTRIES,
    subdivision,
)
from .errors import detail
from .model import Json, Metadata

# The tax id formats Polar tries per country (a subset of its map: the countries the seed and tests
# use, and every EU member, whose numbers share one format).
_EU = [
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
]
TAX_ID_FORMATS: dict[str, tuple[str, ...]] = {
    **{country: ("eu_vat",) for country in _EU},
    "US": ("us_ein",),
    "GB": ("gb_vat",),
    "CA": ("ca_bn",),
    "AU": ("au_abn",),
    "CH": ("ch_vat",),
    "NO": ("no_vat",),
    "BR": ("br_cnpj", "br_cpf"),
    "IN": ("in_gst",),
    "MX": ("mx_rfc",),
}

NULL_MX_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
LOCALE_PATTERN = r"^[a-zA-Z]{2,3}(-[a-zA-Z]{2}|-[0-9]{3})?$"
_LOCALE = re.compile(LOCALE_PATTERN)
_UUID_HEX = re.compile(r"[0-9a-fA-F]")
_UUID_SIMPLE = re.compile(r"[0-9a-fA-F]{32}")
_UUID_HYPHENATED = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_UUID_GROUP_STARTS = (0, 9, 14, 19, 24)
_UUID_GROUP_LENGTHS = (8, 4, 4, 4, 12)
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


class Problems(list[Json]):
    """The details of one 422 answer, collected across every field of a request."""

    def add(self, kind: str, loc: list[Any], msg: str, value: Any, ctx: Json | None = None) -> None:
        self.append(detail(kind, loc, msg, value, ctx))


def parse_uuid4(value: str, loc: list[Any], problems: Problems) -> str | None:
    """A UUID of version 4, as FastAPI's ``UUID4`` parameters accept it: the forms the Rust ``uuid`` crate
    parses (simple, hyphenated, braced, ``urn:uuid:``) and pydantic-core's messages."""
    if (parsed := _parse_uuid(value)) is None:
        reason = _uuid_error(value)
        problems.add("uuid_parsing", loc, f"Input should be a valid UUID, {reason}", value, {"error": reason})
        return None
    if int(parsed.hex[12], 16) != 4:  # pydantic-core compares the version nibble, whatever the variant
        problems.add("uuid_version", loc, "UUID version 4 expected", value, {"expected_version": 4})
        return None
    return str(parsed)


def _parse_uuid(value: str) -> uuid.UUID | None:
    if _UUID_SIMPLE.fullmatch(value) or _UUID_HYPHENATED.fullmatch(value):
        return uuid.UUID(value)
    if value[:1] == "{" and value[-1:] == "}" and _UUID_HYPHENATED.fullmatch(value[1:-1]):
        return uuid.UUID(value[1:-1])
    if value.startswith("urn:uuid:") and _UUID_HYPHENATED.fullmatch(value[9:]):
        return uuid.UUID(value[9:])
    return None


def _uuid_error(value: str) -> str:
    """Why the ``uuid`` crate refuses ``value``, as the pydantic-core that Polar pins (2.13.x) words it: the
    character message was measured on the real server (its position counts from 1, in bytes); the length, group
    count and group length messages are the crate's, unchanged across the versions pydantic-core has used."""
    raw = value.encode()
    if raw[:1] == b"{" and raw[-1:] == b"}":
        body, offset, simple = value[1:-1], 1, False
    elif value.startswith("urn:uuid:"):
        body, offset, simple = value[9:], 9, False
    else:
        body, offset, simple = value, 0, True
    hyphens: list[int] = []
    position = 0
    for character in body:
        if character == "-":
            hyphens.append(position)
        elif not _UUID_HEX.fullmatch(character):
            return f"invalid character: found `{character}` at {position + offset + 1}"
        position += len(character.encode())
    if not hyphens and simple:
        return f"invalid length: expected length 32 for simple format, found {len(raw)}"
    if len(hyphens) != 4:
        return f"invalid group count: expected 5, found {len(hyphens) + 1}"
    for group, (bound, start) in enumerate(zip(hyphens, _UUID_GROUP_STARTS, strict=False)):
        if bound != _UUID_GROUP_STARTS[group + 1] - 1:
            expected = _UUID_GROUP_LENGTHS[group]
            return f"invalid group length in group {group}: expected {expected}, found {bound - start}"
    return f"invalid group length in group 4: expected 12, found {len(raw) - _UUID_GROUP_STARTS[4]}"


def parse_positive_int(value: str, loc: list[Any], problems: Problems) -> int | None:
    try:
        number = int(value.strip())
    except ValueError:
        problems.add("int_parsing", loc, "Input should be a valid integer, unable to parse string as an integer", value)
        return None
    if number <= 0:
        problems.add("greater_than", loc, "Input should be greater than 0", value, {"gt": 0})
        return None
    return number


def parse_bool(value: str, loc: list[Any], problems: Problems) -> bool | None:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    problems.add("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", value)
    return None


def parse_datetime(value: str, loc: list[Any], problems: Problems) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        problems.add(
            "datetime_from_date_parsing",
            loc,
            "Input should be a valid datetime or date, invalid character in year",
            value,
            {"error": "invalid character in year"},
        )
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def enum_message(allowed: list[str]) -> str:
    quoted = [f"'{item}'" for item in allowed]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def parse_enum(value: Any, allowed: list[str], loc: list[Any], problems: Problems) -> str | None:
    if isinstance(value, str) and value in allowed:
        return value
    expected = enum_message(allowed)
    problems.add("enum", loc, f"Input should be {expected}", value, {"expected": expected})
    return None


def check_string(
    value: Any, loc: list[Any], problems: Problems, *, max_length: int | None = None, min_length: int = 0
) -> str | None:
    """A JSON string field with optional length bounds."""
    if not isinstance(value, str):
        problems.add("string_type", loc, "Input should be a valid string", value)
        return None
    if len(value) < min_length:
        unit = "character" if min_length == 1 else "characters"
        problems.add(
            "string_too_short",
            loc,
            f"String should have at least {min_length} {unit}",
            value,
            {"min_length": min_length},
        )
        return None
    if max_length is not None and len(value) > max_length:
        problems.add(
            "string_too_long",
            loc,
            f"String should have at most {max_length} characters",
            value,
            {"max_length": max_length},
        )
        return None
    return value


def check_email(value: Any, loc: list[Any], problems: Problems) -> str | None:
    """Polar's ``EmailStrDNS``: pydantic's ``EmailStr`` (syntax, which already refuses the special-use names
    ``.test``, ``.invalid``, ``.localhost``, ``.local``, ``.onion``, ``.arpa`` and a domain without a dot), then
    email-validator's DNS check. The sandbox does no DNS: it answers only for the reserved ``example`` names,
    whose answer is known (``undeliverable``), and takes every other domain as deliverable."""
    text = check_string(value, loc, problems)
    if text is None:
        return None
    try:
        checked = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        reason = str(error)
        problems.add("value_error", loc, f"value is not a valid email address: {reason}", value, {"reason": reason})
        return None
    email = str(checked.normalized)
    if (undelivered := undeliverable(str(checked.domain))) is not None:
        problems.add(
            "value_error",
            loc,
            f"{email} is not a valid email address: {undelivered}",
            value,
            {"email": email, "reason": undelivered},
        )
        return None
    return email


def undeliverable(domain: str) -> str | None:
    """What email-validator's DNS check says of a reserved domain (RFC 2606), None for any other domain.

    ``example.com``, ``example.net`` and ``example.org`` publish a null MX record ("does not accept email", as
    the real server answered); their subdomains and the ``example`` top-level domain have no records at all, so
    a resolver answers NXDOMAIN ("does not exist")."""
    domain = domain.lower()
    if domain in NULL_MX_DOMAINS:
        return f"The domain name {domain} does not accept email."
    if domain.endswith(".example") or any(domain.endswith("." + reserved) for reserved in NULL_MX_DOMAINS):
        return f"The domain name {domain} does not exist."
    return None


def check_metadata(value: Any, loc: list[Any], problems: Problems) -> Metadata | None:
    """At most 50 pairs; keys of 1 to 40 characters; values str (1-500), int, float or bool."""
    if not isinstance(value, dict):
        problems.add("dict_type", loc, "Input should be a valid dictionary", value)
        return None
    before = len(problems)
    for key, item in value.items():
        if len(key) < 1 or len(key) > METADATA_KEY_MAX_LENGTH:
            check_string(key, [*loc, key, "[key]"], problems, min_length=1, max_length=METADATA_KEY_MAX_LENGTH)
        if isinstance(item, bool | int | float):
            continue
        if isinstance(item, str):
            if "\x00" in item:
                problems.add("value_error", [*loc, key], "Value error, NUL character not allowed", item)
            else:
                check_string(
                    item, [*loc, key, "constrained-str"], problems, min_length=1, max_length=METADATA_VALUE_MAX_LENGTH
                )
            continue
        problems.add("string_type", [*loc, key, "constrained-str"], "Input should be a valid string", item)
        problems.add("int_type", [*loc, key, "int"], "Input should be a valid integer", item)
        problems.add("float_type", [*loc, key, "float"], "Input should be a valid number", item)
        problems.add("bool_type", [*loc, key, "bool"], "Input should be a valid boolean", item)
    if len(value) > METADATA_MAX_KEYS:
        problems.add(
            "too_long",
            loc,
            f"Dictionary should have at most {METADATA_MAX_KEYS} items after validation, not {len(value)}",
            value,
            {"field_type": "Dictionary", "max_length": METADATA_MAX_KEYS, "actual_length": len(value)},
        )
    return dict(value) if len(problems) == before else None


def check_address(value: Any, loc: list[Any], problems: Problems) -> dict[str, str | None] | None:
    """``AddressInput``: supported countries only, empty strings to null, US/CA states normalised."""
    if not isinstance(value, dict):
        problems.add("model_attributes_type", loc, "Input should be a valid dictionary or object", value)
        return None
    before = len(problems)
    address: dict[str, str | None] = {}
    for key in ("line1", "line2", "postal_code", "city", "state"):
        item = value.get(key)
        if item is None:
            address[key] = None
        elif (text := check_string(item, [*loc, key], problems)) is not None:
            address[key] = text or None
    country = value.get("country")
    if country is None and "country" not in value:
        problems.add("missing", [*loc, "country"], "Field required", value)
    elif (
        checked := parse_enum(
            country.upper() if isinstance(country, str) else country, SUPPORTED_COUNTRIES, [*loc, "country"], problems
        )
    ) is not None:
        address["country"] = checked
    if len(problems) > before:
        return None
    state, country_code = address.get("state"), address["country"]
    if state is not None and country_code in SUBDIVISIONS:
        code = subdivision(country_code, state)
        if code is None:
            message = "Invalid US state" if country_code == "US" else "Invalid CA subdivision"
            problems.add("value_error", loc, f"Value error, {message}", value, {"error": {}})
            return None
        address["state"] = code
    return {key: address.get(key) for key in ("line1", "line2", "postal_code", "city", "state", "country")}


def check_locale(value: Any, loc: list[Any], problems: Problems) -> str | None:
    text = check_string(value, loc, problems)
    if text is None:
        return None
    if not _LOCALE.match(text):
        problems.add(
            "string_pattern_mismatch",
            loc,
            f"String should match pattern '{LOCALE_PATTERN}'",
            value,
            {"pattern": LOCALE_PATTERN},
        )
        return None
    language, _, region = text.partition("-")
    return f"{language.lower()}-{region.upper()}" if region else language.lower()


def validate_tax_id(number: str, country: str) -> tuple[str, str] | None:
    """The compact number and its format, or None when no format of the country accepts it."""
    for tax_format in TAX_ID_FORMATS.get(country, ()):
        code, name = tax_format.split("_", 1)
        module = get_cc_module(code, name)
        if module is None:
            continue
        try:
            compact = module.validate(number)
        except StdnumError:
            continue
        if tax_format == "eu_vat" and not compact.startswith(country if country != "GR" else "EL"):
            continue
        return str(compact), tax_format
    return None
