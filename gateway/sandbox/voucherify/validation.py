"""Checks on request bodies and list queries, failing with Voucherify's 400 bodies."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from .errors import invalid_payload, invalid_query
from .model import ADDRESS_KEYS, WRITABLE

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STRING_FIELDS = ("name", "description", "email", "phone")


def customer_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The writable fields of a create or update body, type-checked; unknown keys are ignored."""
    fields: dict[str, Any] = {}
    for key in WRITABLE:
        if key not in body:
            continue
        value = body[key]
        if key in STRING_FIELDS and value is not None and not isinstance(value, str):
            raise invalid_payload(f"Property .{key} must be string")
        if key in ("birthday", "birthdate") and value is not None and not is_date(value):
            raise invalid_payload(f"Property .{key} must be a date (YYYY-MM-DD)")
        if key == "address" and value is not None:
            if not isinstance(value, dict) or any(not isinstance(v, str | None) for v in value.values()):
                raise invalid_payload("Property .address must be an object of strings")
            value = {k: v for k, v in value.items() if k in ADDRESS_KEYS}
        if key == "metadata" and not isinstance(value, dict):
            raise invalid_payload("Property .metadata must be object")
        fields[key] = value
    return fields


def is_date(value: object) -> bool:
    if not isinstance(value, str) or not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def bounded_int(raw: str | None, name: str, low: int, high: int, default: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_query(f"Query param .{name} must be an integer") from None
    if not low <= value <= high:
        raise invalid_query(f"Query param .{name} must be between {low} and {high}")
    return value


def moment(raw: str, name: str) -> datetime:
    """An ISO 8601 date or date-time (``Z`` or an offset; none means UTC)."""
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_query(f"Query param .{name} must be an ISO 8601 date or date-time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
