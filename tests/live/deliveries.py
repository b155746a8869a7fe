"""Webhook deliveries made by the tests themselves, signed as Polar signs them (Standard Webhooks: ``webhook-id``,
``webhook-timestamp``, ``webhook-signature`` = ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, keyed by
``polar_rules.webhook_signing_key`` of the endpoint's secret), and Polar's event envelopes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

from gateway.polar_rules import webhook_signing_key


def envelope(event_type: str, data: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """Polar's ``{"type", "timestamp", "api_version", "data"}``."""
    when = (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return {"type": event_type, "timestamp": when, "api_version": "2026-04", "data": data}


def customer_data(customer_id: str, organization_id: str, external_id: str | None = None) -> dict[str, Any]:
    """The part of a customer (or of its state) the gateway reads; Polar sends more."""
    return {
        "id": customer_id,
        "organization_id": organization_id,
        "external_id": external_id,
        "email": "someone@example.com",
    }


def customer_event(
    event_type: str, customer_id: str, organization_id: str, external_id: str | None = None
) -> dict[str, Any]:
    return envelope(event_type, customer_data(customer_id, organization_id, external_id))


def subscription_event(
    event_type: str, customer_id: str, organization_id: str, external_id: str | None = None
) -> dict[str, Any]:
    """A subscription (or benefit grant) event: its ``customer_id`` and the customer embedded."""
    data = {
        "id": str(uuid.uuid4()),
        "customer_id": customer_id,
        "customer": customer_data(customer_id, organization_id, external_id),
    }
    return envelope(event_type, data)


class Delivery:
    """Signs deliveries for an endpoint secret."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.signer = Webhook(webhook_signing_key(secret))

    def headers(self, body: bytes, webhook_id: str | None = None, at: datetime | None = None) -> dict[str, str]:
        webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
        when = at or datetime.now(UTC)
        return {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": self.signer.sign(webhook_id, when, body.decode()),
            "content-type": "application/json",
            "user-agent": "polar.sh webhooks",
        }

    def signed(
        self, event: dict[str, Any] | bytes, webhook_id: str | None = None, at: datetime | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and the headers of a delivery of ``event`` (an envelope, or the exact bytes to send)."""
        body = event if isinstance(event, bytes) else json.dumps(event, separators=(",", ":")).encode()
        return body, self.headers(body, webhook_id, at)
