"""The official Voucherify client (``voucherify`` 6.x, generated from Voucherify's OpenAPI) driven against the
sandbox: its models parse every answer, so a field of the wrong type or name fails here as it would in an app.

Every operation of our contract that the client has is driven here: create, get, update, delete, permanent
deletion, list (page and ``starting_after``), segments, ``/activity`` (``list_customer_activity``), bulk and
metadata bulk update, CSV import, and ``get_async_action``. The client has no consents call and no deprecated
``/activities`` (contract section 4), so those are tested over plain HTTP only. Two of its methods on these APIs
are not in our contract and are not driven: ``CustomersApi.list_customer_redeemables``
(``GET /v1/customers/{customerId}/redeemables``) and ``AsyncActionsApi.list_async_actions``
(``GET /v1/async-actions``); the sandbox answers both with Voucherify's 404 for an unknown route."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from voucherify.api.async_actions_api import AsyncActionsApi
from voucherify.api.customers_api import CustomersApi
from voucherify.api_client import ApiClient
from voucherify.configuration import Configuration
from voucherify.exceptions import NotFoundException, UnauthorizedException
from voucherify.models.async_action_get_response_body import AsyncActionGetResponseBody
from voucherify.models.customers_create_request_body import CustomersCreateRequestBody
from voucherify.models.customers_create_request_body_address import CustomersCreateRequestBodyAddress
from voucherify.models.customers_metadata_update_in_bulk_request_body import CustomersMetadataUpdateInBulkRequestBody
from voucherify.models.customers_update_in_bulk_request_body import CustomersUpdateInBulkRequestBody
from voucherify.models.customers_update_in_bulk_request_body_address import CustomersUpdateInBulkRequestBodyAddress
from voucherify.models.customers_update_request_body import CustomersUpdateRequestBody
from voucherify.models.parameter_order_created_at import ParameterOrderCreatedAt

from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from tests.servers import SandboxProcess


def _client(url: str, app_id: str, token: str) -> Iterator[ApiClient]:
    configuration = Configuration(host=url, api_key={"X-App-Id": app_id, "X-App-Token": token})
    with ApiClient(configuration) as client:
        yield client


def _api(url: str, app_id: str, token: str) -> Iterator[CustomersApi]:
    for client in _client(url, app_id, token):
        yield CustomersApi(client)


@pytest.fixture
def client(voucherify: SandboxProcess) -> Iterator[ApiClient]:
    yield from _client(voucherify.url, DEMO_APP_ID, DEMO_APP_TOKEN)


@pytest.fixture
def customers(client: ApiClient) -> CustomersApi:
    return CustomersApi(client)


@pytest.fixture
def actions(client: ApiClient) -> AsyncActionsApi:
    return AsyncActionsApi(client)


def _until_done(actions: AsyncActionsApi, action_id: str, kind: str) -> AsyncActionGetResponseBody:
    """Reads the action as upstream's clients poll it: ENQUEUED, IN_PROGRESS, then DONE with a result."""
    reads = [actions.get_async_action(action_id) for _ in range(3)]
    assert [r.status for r in reads] == ["ENQUEUED", "IN_PROGRESS", "DONE"]
    assert [r.progress for r in reads] == [0, 50, 100]
    for read in reads:
        assert read.id == action_id
        assert read.type == kind
        assert read.object == "async_action"
        assert read.created_at is not None
        assert read.updated_at is not None
        assert read.request_id is not None
        assert read.request_id.startswith("v-")
    assert [r.result for r in reads[:2]] == [None, None]
    done = reads[-1]
    assert done.result is not None
    started, finished = reads[0].updated_at, done.updated_at
    assert started is not None
    assert finished is not None
    assert finished > started
    again = actions.get_async_action(action_id)
    assert again.status == "DONE"
    assert again.result == done.result
    return done


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


def test_activity_pages_with_starting_after_id(customers: CustomersApi) -> None:
    created = customers.create_customer(CustomersCreateRequestBody(source_id="sdk-act", name="Edit 0"))
    for index in range(1, 5):
        customers.update_customer("sdk-act", CustomersUpdateRequestBody(name=f"Edit {index}"))
    first = customers.list_customer_activity("sdk-act", limit=3)
    assert first.object == "list"
    assert first.data_ref == "data"
    assert first.has_more is True
    assert first.data is not None
    assert len(first.data) == 3
    assert first.more_starting_after == first.data[-1].id
    rest = customers.list_customer_activity("sdk-act", limit=3, starting_after_id=first.more_starting_after)
    assert rest.has_more is False
    assert rest.more_starting_after is None
    assert rest.data is not None
    events = first.data + rest.data
    assert [e.type for e in events] == ["customer.updated"] * 4 + ["customer.created"]
    assert len({e.id for e in events}) == 5
    assert all(e.created_at is not None and e.group_id is not None for e in events)
    stamps = [e.created_at for e in events if e.created_at is not None]
    assert stamps == sorted(stamps, reverse=True)
    assert events[0].data is not None
    assert events[0].data["customer"]["name"] == "Edit 4"
    assert events[-1].data is not None
    assert events[-1].data["customer"]["id"] == created.id
    oldest = customers.list_customer_activity(created.id or "", limit=1, order=ParameterOrderCreatedAt.CREATED_AT)
    assert oldest.data is not None
    assert [e.type for e in oldest.data] == ["customer.created"]
    since = customers.list_customer_activity("sdk-act", limit=10, start_date=events[1].created_at)  # client's format
    assert since.data is not None
    assert [e.id for e in since.data] == [e.id for e in events[:2]]
    with pytest.raises(NotFoundException) as missing:
        customers.list_customer_activity("sdk-nobody")
    assert missing.value.status == 404


def test_bulk_update_through_its_async_action(customers: CustomersApi, actions: AsyncActionsApi) -> None:
    scheduled = customers.update_customers_in_bulk([
        CustomersUpdateInBulkRequestBody(source_id="crm_00001", name="Bulk via SDK", birthdate=date(1990, 4, 1)),
        CustomersUpdateInBulkRequestBody(
            source_id="sdk-bulk-new",
            email="bulk.new@proton.me",
            address=CustomersUpdateInBulkRequestBodyAddress(city="Malmö", country="SE"),
            metadata={"tier": "silver"},
        ),
    ])  # fmt: skip
    assert scheduled.async_action_id is not None
    with pytest.raises(NotFoundException):
        customers.get_customer("sdk-bulk-new")
    done = _until_done(actions, scheduled.async_action_id, "CUSTOMERS.BULK_UPDATE")
    assert done.operation_status == "SUCCESS"
    assert done.result is not None
    assert done.result["done_count"] == 2
    assert done.result["failed_count"] == 0
    assert done.result["errors"] == []
    assert done.result["reports"] == []
    assert isinstance(done.result["reports_available_till"], str)
    renamed = customers.get_customer("crm_00001")
    assert renamed.name == "Bulk via SDK"
    assert renamed.birthdate == date(1990, 4, 1)
    upserted = customers.get_customer("sdk-bulk-new")
    assert upserted.email == "bulk.new@proton.me"
    assert upserted.address is not None
    assert upserted.address.city == "Malmö"
    assert upserted.metadata == {"tier": "silver"}


def test_metadata_bulk_update_through_its_async_action(customers: CustomersApi, actions: AsyncActionsApi) -> None:
    before = customers.get_customer("crm_00011").metadata or {}
    body = CustomersMetadataUpdateInBulkRequestBody(source_ids=["crm_00011", "sdk-meta-new"], metadata={"tier": "gold"})
    scheduled = customers.update_customers_metadata_in_bulk(body)
    assert scheduled.async_action_id is not None
    done = _until_done(actions, scheduled.async_action_id, "CUSTOMERS.METADATA_UPDATE")
    assert done.operation_status == "SUCCESS"
    assert done.result is not None
    assert done.result["done_count"] == 2
    assert done.result["failed_count"] == 0
    assert done.result["errors"] == []
    assert customers.get_customer("crm_00011").metadata == {**before, "tier": "gold"}
    assert customers.get_customer("sdk-meta-new").metadata == {"tier": "gold"}


CSV = (
    "Name,Source_id,Email,City,Country,Birthdate,favorite_brands\n"
    "Maja Holm,sdk-csv-1,maja.holm@proton.me,Lund,SE,1990-04-01,Fjällräven\n"
    "No Key,,nokey@gmail.com,,,,\n"
)


@pytest.mark.parametrize("as_path", [True, False], ids=["path", "bytes"])
def test_csv_import_through_its_async_action(
    customers: CustomersApi, actions: AsyncActionsApi, tmp_path: Path, as_path: bool
) -> None:
    """The client sends ``file`` as a multipart part (urllib3 ``encode_multipart``): given a path, named after the
    file with its guessed type; given bytes, named ``file`` with ``application/octet-stream``. Both import."""
    path = tmp_path / "customers.csv"
    path.write_text(CSV, encoding="utf-8")
    scheduled = customers.import_customers_using_csv(file=str(path) if as_path else CSV.encode())
    assert scheduled.async_action_id is not None
    assert scheduled.async_action_id.startswith("aa_")
    done = _until_done(actions, scheduled.async_action_id, "CUSTOMERS.IMPORT_CSV")
    assert done.result == {
        "message": "1 customer(s) imported successfully, 1 failed.",
        "failed": [{"source_id": "", "row": 2, "reason": "Source_id or Id is required"}],
        "done_count": 1,
        "failed_count": 1,
    }
    imported = customers.get_customer("sdk-csv-1")
    assert imported.name == "Maja Holm"
    assert imported.email == "maja.holm@proton.me"
    assert imported.birthdate == date(1990, 4, 1)
    assert imported.address is not None
    assert (imported.address.city, imported.address.country) == ("Lund", "SE")
    assert imported.metadata == {"favorite_brands": "Fjällräven"}


def test_unknown_async_action_is_not_found(actions: AsyncActionsApi) -> None:
    with pytest.raises(NotFoundException) as missing:
        actions.get_async_action("aa_000000000000000000")
    assert missing.value.status == 404
    assert missing.value.body is not None
    assert '"resource_type":"async_action"' in missing.value.body.replace(" ", "")


def test_rate_limit_headers_reach_the_client(customers: CustomersApi) -> None:
    first = customers.list_customers_with_http_info(limit=1)
    second = customers.get_customer_with_http_info("crm_00001")
    assert first.headers is not None
    assert second.headers is not None
    assert first.headers["X-Rate-Limit-Limit"] == second.headers["X-Rate-Limit-Limit"] == "2000"
    assert int(second.headers["X-Rate-Limit-Retry"]) >= int(time.time())
    assert int(second.headers["X-Rate-Limit-Remaining"]) == int(first.headers["X-Rate-Limit-Remaining"]) - 1


def test_methods_outside_the_contract_meet_the_unknown_route_404(
    customers: CustomersApi, actions: AsyncActionsApi
) -> None:
    with pytest.raises(NotFoundException) as redeemables:
        customers.list_customer_redeemables("crm_00001")
    with pytest.raises(NotFoundException) as listed:
        actions.list_async_actions()
    for missing in (redeemables.value, listed.value):
        assert missing.status == 404
        assert missing.body is not None
        assert "Cannot find route" in missing.body
