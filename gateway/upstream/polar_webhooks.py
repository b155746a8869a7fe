"""Polar's webhook deliveries as they arrive: the Standard Webhooks signature checked (with the
``standardwebhooks`` library, keyed as Polar keys it), and the event read into the one thing the gateway
needs of it, which customer of which organization changed and how.

The envelope is ``{"type", "timestamp", "data"}``. Where the customer sits in ``data`` depends on the event:
the customer itself for ``customer.*`` (its state for ``customer.state_changed``), ``customer_id`` and an
embedded ``customer`` for subscription and benefit-grant events. Other event types are not about a
customer's record or state and are read as None.
"""

from __future__ import annotations

import binascii
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from ..polar_rules import webhook_signing_key

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_WEBHOOK_ID_CHARS = 200
TOLERANCE_S = 300.0  # the standardwebhooks library's, either way


class ChangeKind(Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    STATE_CHANGED = "STATE_CHANGED"


_CUSTOMER_EVENTS = {
    "customer.created": ChangeKind.CREATED,
    "customer.updated": ChangeKind.UPDATED,
    "customer.deleted": ChangeKind.DELETED,
    "customer.state_changed": ChangeKind.STATE_CHANGED,
}
# Events that carry a customer_id and change what that customer's state shows.
_STATE_EVENTS = frozenset(
    {
        "subscription.created",
        "subscription.active",
        "subscription.updated",
        "subscription.canceled",
        "subscription.uncanceled",
        "subscription.revoked",
        "subscription.cycled",
        "subscription.past_due",
        "subscription.paused",
        "subscription.resumed",
        "benefit_grant.created",
        "benefit_grant.updated",
        "benefit_grant.cycled",
        "benefit_grant.revoked",
    }
)

HANDLED_EVENTS = (*_CUSTOMER_EVENTS, *sorted(_STATE_EVENTS))  # what an endpoint for the gateway subscribes to


class NotVerified(Exception):
    """The delivery's signature headers are missing or malformed, its timestamp is over 5 minutes off, or no
    signature matches. The message is fixed: it quotes nothing the sender sent."""


NOT_VERIFIED = (
    "The delivery's Standard Webhooks signature did not verify with the endpoint secret (setting "
    "polar_webhook_secret), or its webhook-timestamp is more than 5 minutes off."
)


class Malformed(Exception):
    """A verified delivery whose body is not a Polar event about a customer of the shape the contract gives."""


@dataclass(frozen=True, slots=True)
class CustomerChange:
    """What one delivery says: which customer (of which organization) changed, how and when."""

    kind: ChangeKind
    event_type: str  # Polar's, e.g. subscription.active
    organization_id: str
    customer_id: str
    external_id: str | None
    occurred_at: datetime


def verifier(secret: str) -> Webhook:
    """The checker of one endpoint's deliveries (the library's, with Polar's key for the secret)."""
    return Webhook(webhook_signing_key(secret))


def plausible(headers: dict[str, str]) -> bool:
    """Whether the signature headers could verify, judged before the body is read: each present once, an id
    of at most ``MAX_WEBHOOK_ID_CHARS``, a timestamp within the 5 minutes the library allows. A stranger's
    request without them costs no body read and no HMAC."""
    if any(not headers.get(name) for name in SIGNATURE_HEADERS):
        return False
    if len(headers["webhook-id"]) > MAX_WEBHOOK_ID_CHARS:
        return False
    try:
        sent_at = float(headers["webhook-timestamp"])
    except ValueError:
        return False
    return abs(sent_at - time.time()) <= TOLERANCE_S


def verify(webhook: Webhook, body: bytes, headers: dict[str, str]) -> str:
    """The delivery's id once its signature and timestamp (within 5 minutes) check out; else ``NotVerified``.
    The library reads the headers and compares in constant time; what it raises on input it did not expect
    (bytes that are not UTF-8, a signature that is not base64) is a refusal too."""
    webhook_id = headers.get("webhook-id", "")
    if not webhook_id or len(webhook_id) > MAX_WEBHOOK_ID_CHARS:
        raise NotVerified("The delivery's webhook-id header is missing or too long.")
    try:
        webhook.verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError, binascii.Error, UnicodeDecodeError):
        raise NotVerified(NOT_VERIFIED) from None
    return webhook_id


def read_change(event: object) -> CustomerChange | None:
    """The customer change a verified event announces; None for event types about something else."""
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise Malformed("The event is not a JSON object with a string 'type'.")
    event_type: str = event["type"]
    kind = _CUSTOMER_EVENTS.get(event_type)
    if kind is None and event_type not in _STATE_EVENTS:
        return None
    data = event.get("data")
    if not isinstance(data, dict):
        raise Malformed(f"A {event_type} event needs an object 'data'.")
    customer: Any = data if kind is not None else data.get("customer")
    if not isinstance(customer, dict):
        raise Malformed(f"A {event_type} event needs its customer in 'data'.")
    customer_id = customer.get("id") if kind is not None else data.get("customer_id", customer.get("id"))
    organization_id, external_id = customer.get("organization_id"), customer.get("external_id")
    if not (_short_text(customer_id) and _short_text(organization_id)) or not _optional_text(external_id):
        raise Malformed(f"A {event_type} event needs the customer's id and organization_id as strings.")
    return CustomerChange(
        kind=kind or ChangeKind.STATE_CHANGED,
        event_type=event_type,
        organization_id=str(organization_id),
        customer_id=str(customer_id),
        external_id=external_id,
        occurred_at=_timestamp(event.get("timestamp")),
    )


def _short_text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_WEBHOOK_ID_CHARS


def _optional_text(value: object) -> bool:
    return value is None or (isinstance(value, str) and len(value) <= 1000)


def _timestamp(value: object) -> datetime:
    """The envelope's timestamp (ISO 8601); when absent or unreadable, now: the event has just arrived."""
    if isinstance(value, str) and len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)
