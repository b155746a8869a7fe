"""The official Voucherify client (``voucherify`` 6.x, generated from Voucherify's OpenAPI) driven against the
sandbox: its models parse every answer, so a field of the wrong type or name fails here as it would in an app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from voucherify.api.customers_api import CustomersApi
from voucherify.api_client import ApiClient
from voucherify.configuration import Configuration
from voucherify.exceptions import NotFoundException, UnauthorizedException
from voucherify.models.customers_create_request_body import CustomersCreateRequestBody
from voucherify.models.customers_create_request_body_address import CustomersCreateRequestBodyAddress
from voucherify.models.customers_update_request_body import CustomersUpdateRequestBody

from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from tests.servers import SandboxProcess


def _api(url: str, app_id: str, token: str) -> Iterator[CustomersApi]:
    configuration = Configuration(host=url, api_key={"X-App-Id": app_id, "X-App-Token": token})
    with ApiClient(configuration) as client:
        yield CustomersApi(client)


@pytest.fixture
def customers(voucherify: SandboxProcess) -> Iterator[CustomersApi]:
    yield from _api(voucherify.url, DEMO_APP_ID, DEMO_APP_TOKEN)


def test_create_get_update_delete(customers: CustomersApi) -> None:
    created = customers.create_customer(
        CustomersCreateRequestBody(
            source_id="sdk-1",
            name="Signe Ek",
            email="signe.ek@fastmail.com",
            metadata={"lang": "sv"},
            address=CustomersCreateRequestBodyAddress(city="Uppsala", country="SE"),
        )
    )
    assert created.id is not None
    assert created.source_id == "sdk-1"
    assert created.address is not None
    assert created.address.city == "Uppsala"
    fetched = customers.get_customer("sdk-1")
    assert fetched.id == created.id
    assert fetched.email == "signe.ek@fastmail.com"
    updated = customers.update_customer(created.id, CustomersUpdateRequestBody(description="via the SDK"))
    assert updated.description == "via the SDK"
    assert updated.name == "Signe Ek"
    assert updated.updated_at is not None
    customers.delete_customer(created.id)
    with pytest.raises(NotFoundException) as missing:
        customers.get_customer(created.id)
    assert missing.value.status == 404


def test_list_pages_and_cursor(customers: CustomersApi) -> None:
    page = customers.list_customers(limit=25, page=2)
    assert page.total == 120
    assert page.customers is not None
    assert len(page.customers) == 25
    assert page.has_more is True
    last = page.customers[-1]
    assert last.created_at is not None
    older = customers.list_customers(limit=5, starting_after=last.created_at)
    assert older.customers is not None
    assert all(c.created_at is not None and c.created_at < last.created_at for c in older.customers)


def test_permanent_deletion_and_segments(customers: CustomersApi) -> None:
    segments = customers.list_customer_segments("crm_00001")
    assert segments.object == "list"
    report = customers.customer_permanently_deletion("crm_00001")
    assert report.object == "pernament_deletion"
    assert report.status == "DONE"


def test_bad_keys_are_unauthorized(voucherify: SandboxProcess) -> None:
    for api in _api(voucherify.url, DEMO_APP_ID, "wrong"):
        with pytest.raises(UnauthorizedException) as refused:
            api.list_customers()
        assert refused.value.status == 401
