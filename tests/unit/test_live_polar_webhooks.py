"""Polar's deliveries read by ``gateway.upstream.polar_webhooks``: the signature checked for both forms of an
endpoint secret (Standard Webhooks' ``whsec_<base64 key>``, and Polar's older secrets, whose own bytes are the
key), the timestamp within 5 minutes, and each event family read into a ``CustomerChange``."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from gateway.sandbox.deliveries import generate_secret
from gateway.sandbox.webhook_endpoints import EVENT_TYPES
from gateway.upstream.polar_webhooks import (
    HANDLED_EVENTS,
    MAX_WEBHOOK_ID_CHARS,
    ChangeKind,
    Malformed,
    NotVerified,
    read_change,
    verifier,
    verify,
)

KEY = bytes(range(32))
STANDARD_SECRET = "whsec_" + base64.b64encode(KEY).decode()
LEGACY_SECRET = "whsec_0123456789abcdefghijklmnopqrstuvwxyzA1b2C3"  # Polar's older form: not base64 of a key
ORGANIZATION = "cd613e30-d8f1-4adf-91b7-584a2265b1f5"
CUSTOMER = "4fe819cf-076d-45c0-902a-babca43570fe"
BODY = b'{"type":"customer.updated","data":{}}'


def _signer(secret: str) -> Webhook:
    """How Polar signs an endpoint's deliveries, written independently of the gateway: the decoded key of a
    Standard Webhooks secret, else the secret's own bytes."""
    if secret == STANDARD_SECRET:
        return Webhook(secret)  # the library decodes whsec_<base64>
    return Webhook(secret.encode())


def _headers(secret: str, body: bytes = BODY, webhook_id: str = "msg_1", at: datetime | None = None) -> dict[str, str]:
    when = at or datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": _signer(secret).sign(webhook_id, when, body.decode()),
    }


@pytest.mark.parametrize("secret", [STANDARD_SECRET, LEGACY_SECRET], ids=["standard", "legacy"])
def test_a_delivery_signed_with_the_endpoint_secret_verifies(secret: str) -> None:
    assert verify(verifier(secret), BODY, _headers(secret)) == "msg_1"


def test_the_secret_forms_are_not_interchangeable() -> None:
    """A standard secret's key is its decoded bytes: a signature keyed by the secret's text does not verify."""
    text_keyed = Webhook(STANDARD_SECRET.encode()).sign("msg_1", datetime.now(UTC), BODY.decode())
    headers = {**_headers(STANDARD_SECRET), "webhook-signature": text_keyed}
    with pytest.raises(NotVerified):
        verify(verifier(STANDARD_SECRET), BODY, headers)


@pytest.mark.parametrize("legacy", [False, True], ids=["standard", "legacy"])
def test_the_sandboxs_own_secrets_verify(legacy: bool) -> None:
    secret = generate_secret(legacy=legacy)
    key = base64.b64decode(secret.removeprefix("whsec_")) if not legacy else secret.encode()
    when = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_2",
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(key).sign("msg_2", when, BODY.decode()),
    }
    assert verify(verifier(secret), BODY, headers) == "msg_2"


def test_one_matching_signature_among_several_verifies() -> None:
    """Standard Webhooks sends space-separated signatures while a secret rotates."""
    good = _headers(STANDARD_SECRET)
    other = _signer(LEGACY_SECRET).sign("msg_1", datetime.now(UTC), BODY.decode())
    headers = {**good, "webhook-signature": f"{other} {good['webhook-signature']}"}
    assert verify(verifier(STANDARD_SECRET), BODY, headers) == "msg_1"


def _without(name: str) -> dict[str, str]:
    return {k: v for k, v in _headers(STANDARD_SECRET).items() if k != name}


def _with(**changes: str) -> dict[str, str]:
    return {**_headers(STANDARD_SECRET), **{k.replace("_", "-"): v for k, v in changes.items()}}


@pytest.mark.parametrize(
    ("body", "headers"),  # the headers made when the test runs: the timestamps are now
    [
        (BODY, lambda: _headers(LEGACY_SECRET)),
        (BODY + b" ", lambda: _headers(STANDARD_SECRET)),
        (BODY, lambda: _with(webhook_id="msg_other")),
        (BODY, lambda: _without("webhook-id")),
        (BODY, lambda: _without("webhook-timestamp")),
        (BODY, lambda: _without("webhook-signature")),
        (BODY, lambda: _with(webhook_id="")),
        (BODY, lambda: _headers(STANDARD_SECRET, webhook_id="m" * (MAX_WEBHOOK_ID_CHARS + 1))),
        (BODY, lambda: _headers(STANDARD_SECRET, at=datetime.now(UTC) - timedelta(minutes=6))),
        (BODY, lambda: _headers(STANDARD_SECRET, at=datetime.now(UTC) + timedelta(minutes=6))),
        (BODY, lambda: _with(webhook_timestamp="soon")),
        (BODY, lambda: _with(webhook_signature="v1,***")),
        (BODY, lambda: _with(webhook_signature="v1")),
        (BODY, lambda: _with(webhook_signature="")),
        (BODY, lambda: _with(webhook_signature="v2," + _headers(STANDARD_SECRET)["webhook-signature"][3:])),
        (b'{"type": "\xff"}', lambda: _headers(STANDARD_SECRET)),
    ],
    ids=[
        "other-secret",
        "body-changed",
        "id-changed",
        "no-id",
        "no-timestamp",
        "no-signature",
        "empty-id",
        "id-too-long",
        "6-minutes-old",
        "6-minutes-ahead",
        "timestamp-not-a-number",
        "signature-not-base64",
        "signature-without-version",
        "empty-signature",
        "unknown-version",
        "body-not-utf8",
    ],
)
def test_a_delivery_that_does_not_check_out_is_not_verified(body: bytes, headers: Callable[[], dict[str, str]]) -> None:
    with pytest.raises(NotVerified) as refused:
        verify(verifier(STANDARD_SECRET), body, headers())
    assert "msg_" not in str(refused.value)  # the message quotes nothing the sender sent


def test_a_timestamp_within_five_minutes_either_way_verifies() -> None:
    for offset in (timedelta(minutes=-4, seconds=-50), timedelta(minutes=4, seconds=50)):
        headers = _headers(STANDARD_SECRET, at=datetime.now(UTC) + offset)
        assert verify(verifier(STANDARD_SECRET), BODY, headers) == "msg_1"


# Reading events ----------------------------------------------------------------------------------


def _customer(**fields: Any) -> dict[str, Any]:
    return {"id": CUSTOMER, "organization_id": ORGANIZATION, "external_id": "ext-1", "email": "a@b.co", **fields}


def _event(event_type: str, data: Any, timestamp: Any = "2026-11-30T12:00:00.123456Z") -> dict[str, Any]:
    return {"type": event_type, "timestamp": timestamp, "api_version": "2026-04", "data": data}


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("customer.created", ChangeKind.CREATED),
        ("customer.updated", ChangeKind.UPDATED),
        ("customer.deleted", ChangeKind.DELETED),
        ("customer.state_changed", ChangeKind.STATE_CHANGED),
    ],
)
def test_a_customer_event_carries_its_customer(event_type: str, kind: ChangeKind) -> None:
    change = read_change(_event(event_type, _customer()))
    assert change is not None
    assert (change.kind, change.event_type) == (kind, event_type)
    assert (change.organization_id, change.customer_id, change.external_id) == (ORGANIZATION, CUSTOMER, "ext-1")
    assert change.occurred_at == datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)


STATE_EVENTS = [t for t in HANDLED_EVENTS if not t.startswith("customer.")]


@pytest.mark.parametrize("event_type", STATE_EVENTS)
def test_a_subscription_or_benefit_grant_event_is_a_state_change_of_its_customer(event_type: str) -> None:
    data = {"id": "0b1d4c4e-0000-4000-8000-000000000001", "customer_id": CUSTOMER, "customer": _customer()}
    change = read_change(_event(event_type, data))
    assert change is not None
    assert (change.kind, change.event_type, change.customer_id) == (ChangeKind.STATE_CHANGED, event_type, CUSTOMER)
    assert (change.organization_id, change.external_id) == (ORGANIZATION, "ext-1")


def test_a_state_event_takes_customer_id_over_the_embedded_customers_id() -> None:
    data = {"customer_id": "the-customer-id", "customer": _customer(id="embedded-id")}
    change = read_change(_event("subscription.active", data))
    assert change is not None
    assert change.customer_id == "the-customer-id"


def test_a_state_event_without_customer_id_uses_the_embedded_customers() -> None:
    change = read_change(_event("benefit_grant.revoked", {"customer": _customer()}))
    assert change is not None
    assert change.customer_id == CUSTOMER


def test_a_customer_without_external_id_reads_none() -> None:
    change = read_change(_event("customer.updated", _customer(external_id=None)))
    assert change is not None
    assert change.external_id is None
    without = _customer()
    del without["external_id"]
    change = read_change(_event("customer.updated", without))
    assert change is not None
    assert change.external_id is None


def test_the_handled_events_are_all_polars_and_cover_each_family() -> None:
    assert set(HANDLED_EVENTS) <= set(EVENT_TYPES)  # an endpoint for them can be made (the sandbox, Polar)
    assert {"customer.created", "customer.updated", "customer.deleted", "customer.state_changed"} <= set(HANDLED_EVENTS)
    assert {t.split(".")[0] for t in HANDLED_EVENTS} == {"customer", "subscription", "benefit_grant"}


@pytest.mark.parametrize(
    "event_type",
    ["order.paid", "checkout.created", "benefit.updated", "organization.updated", "customer_seat.assigned", "x"],
)
def test_an_event_about_something_else_reads_none(event_type: str) -> None:
    assert read_change(_event(event_type, {"id": "x"})) is None
    assert read_change({"type": event_type}) is None  # whatever else it carries, or not


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-11-30T12:00:00Z", datetime(2026, 11, 30, 12, tzinfo=UTC)),
        ("2026-11-30T13:00:00+01:00", datetime(2026, 11, 30, 12, tzinfo=UTC)),
        ("2026-11-30T12:00:00", datetime(2026, 11, 30, 12, tzinfo=UTC)),
    ],
)
def test_the_envelopes_timestamp_is_when_it_occurred(timestamp: str, expected: datetime) -> None:
    change = read_change(_event("customer.updated", _customer(), timestamp))
    assert change is not None
    assert change.occurred_at == expected


@pytest.mark.parametrize("timestamp", [None, "yesterday", 1764504000, "2026-11-30T12:00:00Z" + " " * 64])
def test_without_a_readable_timestamp_it_occurred_now(timestamp: Any) -> None:
    before = datetime.now(UTC)
    change = read_change(_event("customer.updated", _customer(), timestamp))
    assert change is not None
    assert before <= change.occurred_at <= datetime.now(UTC)


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "customer.updated",
        {},
        {"type": 7, "data": _customer()},
        {"type": None},
        _event("customer.updated", None),
        _event("customer.updated", [_customer()]),
        _event("customer.updated", {"name": "no id"}),
        _event("customer.updated", _customer(id=None)),
        _event("customer.updated", _customer(id=7)),
        _event("customer.updated", _customer(id="")),
        _event("customer.updated", _customer(id="x" * (MAX_WEBHOOK_ID_CHARS + 1))),
        _event("customer.updated", _customer(organization_id=None)),
        _event("customer.state_changed", {"id": CUSTOMER}),
        _event("customer.updated", _customer(external_id=7)),
        _event("customer.updated", _customer(external_id="x" * 1001)),
        _event("subscription.active", None),
        _event("subscription.active", {"customer_id": CUSTOMER}),
        _event("subscription.active", {"customer_id": CUSTOMER, "customer": "not an object"}),
        _event("subscription.active", {"customer_id": None, "customer": _customer()}),
        _event("benefit_grant.created", {"customer_id": CUSTOMER, "customer": _customer(organization_id=7)}),
    ],
    ids=[
        "null",
        "list",
        "string",
        "no-type",
        "type-not-text",
        "type-null",
        "data-null",
        "data-list",
        "customer-without-id",
        "id-null",
        "id-number",
        "id-empty",
        "id-too-long",
        "organization-null",
        "state-without-organization",
        "external-id-number",
        "external-id-too-long",
        "subscription-data-null",
        "subscription-without-customer",
        "subscription-customer-not-object",
        "subscription-customer-id-null",
        "grant-organization-number",
    ],
)
def test_a_malformed_event_is_refused(event: Any) -> None:
    with pytest.raises(Malformed):
        read_change(event)
