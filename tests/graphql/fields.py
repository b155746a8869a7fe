"""Every field of the customer types, and their mapping back to Polar's JSON for comparisons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

CUSTOMER_FIELDS = """
fragment CustomerFields on Customer {
  id type externalId email emailVerified name billingName
  billingAddress { line1 line2 postalCode city state country }
  taxId { value format } locale metadata organizationId defaultPaymentMethodId
  createdAt modifiedAt deletedAt firstUserEventAt avatarUrl
}
"""
STATE_FIELDS = """
fragment StateFields on CustomerState {
  activeSubscriptions {
    id createdAt modifiedAt customFieldData metadata status amount currency recurringInterval
    currentPeriodStart currentPeriodEnd trialStart trialEnd cancelAtPeriodEnd canceledAt startedAt endsAt
    productId discountId priceId
    meters { id createdAt modifiedAt consumedUnits creditedUnits amount meterId }
  }
  grantedBenefits { id createdAt modifiedAt grantedAt benefitId benefitType benefitMetadata properties }
  activeMeters { id createdAt modifiedAt meterId consumedUnits creditedUnits balance }
}
"""
_ENUM_FIELDS = {"type", "status", "recurring_interval", "benefit_type", "billing_reason", "source", "amount_type",
                "tax_behavior", "seat_tier_type", "unit"}  # fmt: skip
_TIME_SUFFIXES = ("_at", "_start", "_end")


def snake(name: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name)


def as_polar(value: Any, key: str = "") -> Any:
    """A GraphQL answer in Polar's JSON shape: snake_case keys, lower-case enums, parsed times."""
    if isinstance(value, dict):
        if key == "tax_id":
            return [value["value"], value["format"]]
        if key in {"metadata", "custom_field_data", "benefit_metadata", "properties"}:
            return value
        return {snake(k): as_polar(v, snake(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [as_polar(item, key) for item in value]
    if isinstance(value, str) and key in _ENUM_FIELDS:
        return value.lower()
    if isinstance(value, str) and key.endswith(_TIME_SUFFIXES):
        return datetime.fromisoformat(value)
    return value


def polar_times(value: Any, key: str = "") -> Any:
    """Polar's JSON with its time strings parsed, to compare with ``as_polar``."""
    if isinstance(value, dict):
        if key in {"metadata", "custom_field_data", "benefit_metadata", "properties"}:
            return value
        return {k: polar_times(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [polar_times(item, key) for item in value]
    if isinstance(value, str) and key.endswith(_TIME_SUFFIXES):
        return datetime.fromisoformat(value)
    return value
