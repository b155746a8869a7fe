"""The official client, polar-sdk (package ``polar``), driven against the sandbox as a real
integration would use it. Where polar-sdk 1.0.2 misparses valid answers (contract document, 13),
the test asserts the defect by name, so it fails loudly once the SDK is fixed."""

from __future__ import annotations

import pytest
from polar.base import PolarDeserializationError
from polar.v2026_10 import Polar
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound

from gateway.sandbox.seed import DEMO_TOKEN
from tests.servers import SandboxProcess


@pytest.fixture
def polar(sandbox: SandboxProcess) -> Polar:
    client = Polar(DEMO_TOKEN, base_url=sandbox.url, timeout=10)
    return client


def test_create_get_update_delete(polar: Polar) -> None:
    created = polar.customers.create(
        email="sdk@fastmail.com",
        external_id="sdk-1",
        name="Sdk Person",
        metadata={"plan": "pro", "seats": 2},
        billing_address={"country": "US", "state": "CA", "line1": "1 Main St"},
    )
    assert created.email == "sdk@fastmail.com"
    assert created.billing_address is not None
    assert created.billing_address.state == "US-CA"
    assert polar.customers.get(created.id).id == created.id
    assert polar.customers.get_external("sdk-1").id == created.id
    updated = polar.customers.update(created.id, name="Renamed", metadata={"plan": "enterprise"})
    assert (updated.name, updated.metadata) == ("Renamed", {"plan": "enterprise"})
    updated_external = polar.customers.update_external("sdk-1", locale="fr")
    assert updated_external.locale == "fr"
    polar.customers.delete(created.id)
    with pytest.raises(ResourceNotFound):
        polar.customers.get(created.id)


def test_validation_errors_parse_as_http_validation_error(polar: Polar) -> None:
    existing = next(polar.customers.iter_list(limit=1))
    with pytest.raises(HTTPValidationError) as raised:
        polar.customers.create(email=str(existing.email))
    assert raised.value.status_code == 422


def test_list_paging_walks_every_customer_once(polar: Polar) -> None:
    ids = [customer.id for customer in polar.customers.iter_list(limit=37)]
    assert len(ids) == len(set(ids)) == 250
    page = polar.customers.list(page=2, limit=100)
    assert (page.pagination.total_count, page.pagination.max_page, len(page.items)) == (250, 3, 100)


def test_customer_session_creation(polar: Polar) -> None:
    customer = next(c for c in polar.customers.iter_list(limit=100) if c.external_id)
    session = polar.customer_sessions.create(external_customer_id=str(customer.external_id))
    assert session.customer_id == customer.id
    assert session.token.startswith("polar_cst_")


def test_state_of_a_customer_without_active_subscriptions_parses(polar: Polar) -> None:
    customer = next(polar.customers.iter_list(active=False, limit=100))
    state = polar.customers.get_state(customer.id)
    assert state.active_subscriptions == []


def test_sdk_1_0_2_defect_state_with_an_active_subscription_cannot_be_parsed(polar: Polar) -> None:
    """polar-sdk 1.0.2 types ``CustomerStateSubscription.status`` as ``Literal["granted", "disabled"]``
    (a generator name clash with license keys), so any state holding an active or trialing
    subscription raises PolarDeserializationError. The gateway therefore uses its own models."""
    customer = next(polar.customers.iter_list(active=True, limit=100))
    with pytest.raises(PolarDeserializationError):
        polar.customers.get_state(customer.id)


def test_the_portal_as_a_customer(polar: Polar, sandbox: SandboxProcess) -> None:
    customer = next(c for c in polar.customers.iter_list(active=True, limit=100) if c.email)
    session = polar.customer_sessions.create(customer_id=customer.id)
    portal = Polar(session.token, base_url=sandbox.url, timeout=10)
    me = portal.customer_portal.customers.get()
    assert (me.id, me.email, me.oauth_accounts) == (customer.id, customer.email, {})
    orders = portal.customer_portal.orders.list(limit=100)
    assert orders.items
    assert {order.customer_id for order in orders.items} == {customer.id}
    assert portal.customer_portal.orders.get(orders.items[0].id).id == orders.items[0].id
