"""Customer sessions and the customer portal, with the sandbox's tokens."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.graphql.fields import as_polar, polar_times
from tests.graphql_client import GraphQL, error_codes
from tests.sandbox.helpers import all_pages
from tests.servers import SandboxProcess

SESSION = """mutation($c: ID, $e: String, $r: String) {
  customerSessionCreate(customerId: $c, externalCustomerId: $e, returnUrl: $r) {
    customerSession { id token expiresAt returnUrl customerPortalUrl createdAt customer { id email } }
    userErrors { field message code } } }"""
ORDER_FIELDS = """
fragment OrderFields on Order {
  id status paid subtotalAmount discountAmount netAmount taxAmount totalAmount appliedBalanceAmount dueAmount
  refundedAmount refundedTaxAmount refundableAmount refundableTaxAmount currency billingReason billingName
  billingAddress { line1 line2 postalCode city state country } invoiceNumber isInvoiceGenerated receiptNumber
  seats description customerId productId discountId subscriptionId checkoutId nextPaymentAttemptAt
  createdAt modifiedAt
  product { id name description visibility recurringInterval recurringIntervalCount trialInterval
    trialIntervalCount meterInterval meterIntervalCount isRecurring isArchived organizationId medias
    prices { ...PriceFields } createdAt modifiedAt
    benefits { id type description selectable deletable isDeleted organizationId properties createdAt modifiedAt }
    organization { id name slug avatarUrl prorationBehavior allowCustomerUpdates
      customerPortalSettings createdAt modifiedAt } }
  subscription { id status amount currency recurringInterval recurringIntervalCount currentPeriodStart
    currentPeriodEnd currentMeterPeriodStart currentMeterPeriodEnd trialStart trialEnd cancelAtPeriodEnd
    canceledAt startedAt endsAt endedAt pastDueAt pauseAtPeriodEnd pausedAt resumesAt customerId productId
    discountId checkoutId seats customerCancellationReason customerCancellationComment createdAt modifiedAt }
  items { id label amount taxAmount proration productPriceId createdAt modifiedAt }
}
"""
PRICE_FIELDS = """
fragment PriceFields on ProductPrice {
  __typename id createdAt modifiedAt source amountType priceCurrency taxBehavior isArchived productId
  ... on ProductPriceFixed { priceAmount legacy recurringInterval }
  ... on ProductPriceCustom { minimumAmount maximumAmount presetAmount legacy recurringInterval }
  ... on ProductPriceSeatBased { seatTiers { seatTierType tiers { minSeats maxSeats pricePerSeat } minimumSeats maximumSeats } }
  ... on ProductPriceMeteredUnit { unitAmount capAmount meterId meter { id name unit customLabel customMultiplier } }
}
"""
ORDER_FIELDS += PRICE_FIELDS
PRICE_TYPES = {"fixed": "ProductPriceFixed", "custom": "ProductPriceCustom", "seat_based": "ProductPriceSeatBased",
               "metered_unit": "ProductPriceMeteredUnit"}  # fmt: skip
_WIRE_ONLY = {"amount", "from_balance_amount", "product_price_id", "units"}


def _session(gql: GraphQL, **variables: Any) -> dict[str, Any]:
    payload: dict[str, Any] = gql.data(SESSION, variables)["customerSessionCreate"]
    assert payload["userErrors"] == []
    session: dict[str, Any] = payload["customerSession"]
    return session


def _active_customer(demo: httpx.Client) -> dict[str, Any]:
    for customer in all_pages(demo, "/v1/customers/", [("active", "true")]):
        if customer["email"] and customer["external_id"]:
            found: dict[str, Any] = customer
            return found
    raise AssertionError("no active customer with email and external id")


def test_sessions_by_id_and_by_external_id(gql: GraphQL, demo: httpx.Client) -> None:
    customer = _active_customer(demo)
    by_id = _session(gql, c=customer["id"], r="https://app.example.com/account")
    assert by_id["token"].startswith("polar_cst_")
    assert by_id["customer"] == {"id": customer["id"], "email": customer["email"]}
    assert by_id["returnUrl"] == "https://app.example.com/account"
    assert by_id["customerPortalUrl"].startswith("https://polar.sh/demo/portal?customer_session_token=")
    assert by_id["expiresAt"] > by_id["createdAt"]
    assert _session(gql, e=customer["external_id"])["customer"]["id"] == customer["id"]


def test_an_unknown_customer_is_a_user_error(gql: GraphQL, gql_other: GraphQL, demo: httpx.Client) -> None:
    missing = gql.data(SESSION, {"e": "nobody-at-all"})["customerSessionCreate"]
    assert missing == {"customerSession": None, "userErrors": [
        {"field": ["externalCustomerId"], "message": "Customer does not exist.", "code": "NOT_FOUND"}]}  # fmt: skip
    demo_customer = _active_customer(demo)  # another organization's customer is unknown too
    other = gql_other.data(SESSION, {"c": demo_customer["id"]})["customerSessionCreate"]
    assert other["userErrors"][0]["field"] == ["customerId"]
    assert other["userErrors"][0]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "variables", [{}, {"c": "6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f60", "e": "x"}, {"c": "not-a-uuid"}]
)
def test_session_arguments_need_exactly_one_valid_id(gql: GraphQL, variables: dict[str, str]) -> None:
    body = gql.execute(SESSION, variables)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert gql.upstream_calls() == {}


def test_the_portal_shows_the_signed_in_customer_and_their_orders(gql: GraphQL, demo: httpx.Client) -> None:
    customer = _active_customer(demo)
    token = _session(gql, c=customer["id"])["token"]
    data = gql.data(
        ORDER_FIELDS
        + """{ customerPortal {
        customer { id email emailVerified name billingName type locale taxId { value format } oauthAccounts }
        orders(first: 100) { totalCount nodes { ...OrderFields } } } }""",
        token=token,
    )["customerPortal"]
    assert data["customer"]["id"] == customer["id"]
    assert data["customer"]["email"] == customer["email"]
    portal = httpx.Client(base_url=str(demo.base_url), headers={"Authorization": f"Bearer {token}"})
    rest = portal.get("/v1/customer-portal/orders/", params={"limit": 100}).json()
    assert data["orders"]["totalCount"] == rest["pagination"]["total_count"] > 0
    for node, order in zip(data["orders"]["nodes"], rest["items"], strict=True):
        expected = polar_times({k: v for k, v in order.items() if k not in _WIRE_ONLY})
        if expected["subscription"]:
            expected["subscription"] = {k: v for k, v in expected["subscription"].items() if k != "units"}
        expected["items"] = [{k: v for k, v in i.items() if k not in {"start_timestamp", "end_timestamp"}}
                             for i in expected["items"]]  # fmt: skip
        expected["product"]["organization"].pop("organization_features", None)
        for benefit in expected["product"]["benefits"]:
            benefit.setdefault("properties", None)  # GraphQL answers null where the JSON omits the key
        for price in node["product"]["prices"]:
            assert price.pop("__typename") == PRICE_TYPES[price["amountType"].lower()]
            if price.get("legacy") is False:  # current prices: Polar sends neither key
                del price["legacy"], price["recurringInterval"]
        assert as_polar(node) == expected


def test_order_lookup_filters_sorts_and_paging(gql: GraphQL, demo: httpx.Client) -> None:
    first_customer, second_customer = all_pages(demo, "/v1/customers/", [("active", "true")])[:2]
    token = _session(gql, c=first_customer["id"])["token"]
    other_token = _session(gql, c=second_customer["id"])["token"]
    orders = gql.data("{ customerPortal { orders(first: 100) { nodes { id productId product { name isRecurring } } } } }",
                      token=token)["customerPortal"]["orders"]["nodes"]  # fmt: skip
    one = orders[0]
    query = "query($id: ID!) { customerPortal { order(id: $id) { id } } }"
    assert gql.data(query, {"id": one["id"]}, token=token) == {"customerPortal": {"order": {"id": one["id"]}}}
    assert gql.data(query, {"id": one["id"]}, token=other_token) == {"customerPortal": {"order": None}}
    by_product = gql.data("query($p: ID!) { customerPortal { orders(first: 100, filter: {productId: [$p]}) { nodes { productId } } } }",
                          {"p": one["productId"]}, token=token)["customerPortal"]["orders"]["nodes"]  # fmt: skip
    assert by_product
    assert {o["productId"] for o in by_product} == {one["productId"]}
    recurring = gql.data("{ customerPortal { orders(first: 100, filter: {productBillingType: [RECURRING]}) { nodes { product { isRecurring } } } } }",
                         token=token)["customerPortal"]["orders"]["nodes"]  # fmt: skip
    assert all(o["product"]["isRecurring"] for o in recurring)
    by_amount = gql.data("{ customerPortal { orders(first: 100, sortKey: NET_AMOUNT, reverse: true) { nodes { netAmount } } } }",
                         token=token)["customerPortal"]["orders"]["nodes"]  # fmt: skip
    assert [o["netAmount"] for o in by_amount] == sorted((o["netAmount"] for o in by_amount), reverse=True)
    page = gql.data("{ customerPortal { orders(first: 1) { pageInfo { hasNextPage endCursor } nodes { id } } } }",
                    token=token)["customerPortal"]["orders"]  # fmt: skip
    if len(orders) > 1:
        assert page["pageInfo"]["hasNextPage"]
        after = page["pageInfo"]["endCursor"]
        second = gql.data("query($a: String) { customerPortal { orders(first: 1, after: $a) { nodes { id } } } }",
                          {"a": after}, token=token)["customerPortal"]["orders"]["nodes"]  # fmt: skip
        assert second[0]["id"] == orders[1]["id"]


def test_order_update_rules(gql: GraphQL, demo: httpx.Client) -> None:
    customer = next(c for c in all_pages(demo, "/v1/customers/", [("active", "true")]) if c["billing_address"])
    token = _session(gql, c=customer["id"])["token"]
    order = gql.data("{ customerPortal { orders(first: 1) { nodes { id billingName billingAddress { country state } } } } }",
                     token=token)["customerPortal"]["orders"]["nodes"][0]  # fmt: skip
    update = """mutation($id: ID!, $input: CustomerPortalOrderUpdateInput!) { customerPortalOrderUpdate(id: $id, input: $input) {
        order { id billingName billingAddress { country city } } userErrors { field message code } } }"""
    renamed = gql.data(update, {"id": order["id"], "input": {"billingName": "Portal Person"}}, token=token)
    assert renamed["customerPortalOrderUpdate"]["userErrors"] == []
    assert renamed["customerPortalOrderUpdate"]["order"]["billingName"] == "Portal Person"
    country = order["billingAddress"]["country"]
    moved = gql.data(update, {"id": order["id"], "input": {"billingAddress": {"country": "JP" if country != "JP" else "FR"}}},
                     token=token)["customerPortalOrderUpdate"]  # fmt: skip
    assert moved["order"] is None
    assert moved["userErrors"][0]["field"] == ["input", "billingAddress", "country"]
    assert moved["userErrors"][0]["code"] == "IMMUTABLE"
    embargo = gql.data(update, {"id": order["id"], "input": {"billingAddress": {"country": "KP"}}}, token=token)
    assert embargo["customerPortalOrderUpdate"]["userErrors"][0]["code"] == "INVALID"
    nobody = gql.data(
        update, {"id": "6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f60", "input": {"billingName": "x"}}, token=token
    )
    assert nobody["customerPortalOrderUpdate"]["userErrors"][0]["code"] == "NOT_FOUND"


def test_tokens_of_the_wrong_kind_are_forbidden_without_upstream_calls(gql: GraphQL, demo: httpx.Client) -> None:
    token = _session(gql, c=_active_customer(demo)["id"])["token"]
    before = gql.upstream_calls()
    portal_as_org = gql.execute("{ customerPortal { customer { id } } }")
    assert error_codes(portal_as_org) == ["FORBIDDEN"]
    for query in ("{ customers(first: 1) { totalCount } }", '{ customer(externalId: "x") { id } }', "{ customersExportUrl }",
                  'mutation { customerCreate(input: {email: "s@gmail.com"}) { customer { id } } }',
                  'mutation { customerSessionCreate(externalCustomerId: "x") { customerSession { token } } }'):  # fmt: skip
        assert error_codes(gql.execute(query, token=token)) == ["FORBIDDEN"], query
    assert gql.calls_since(before) == {}


def test_an_expired_session_is_unauthenticated(gql: GraphQL, demo: httpx.Client, sandbox: SandboxProcess) -> None:
    token = _session(gql, c=_active_customer(demo)["id"])["token"]
    assert gql.data("{ customerPortal { customer { id } } }", token=token)["customerPortal"]["customer"]
    with sandbox.control() as control:
        control.post("/__sandbox/clock", json={"advance_seconds": 3601}).raise_for_status()
    expired = gql.execute("{ customerPortal { customer { id } } }", token=token)
    assert error_codes(expired) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("host", [None, "evil.example.com", "evil.example.com:8443", "127.0.0.1:1"])
def test_the_export_url_is_relative_whatever_the_host_header(gql: GraphQL, host: str | None) -> None:
    """Without ``public_url`` the link is relative to the origin the client called: never the Host header's."""
    headers = {"Authorization": f"Bearer {gql.token}", **({"Host": host} if host else {})}
    response = gql.http.post(gql.url, json={"query": "{ customersExportUrl }"}, headers=headers)
    assert response.json() == {"data": {"customersExportUrl": "/export/customers.csv"}, "extensions": {"cost": {"requested": 1, "limit": 20000}}}
    served = httpx.get(gql.url.removesuffix("/graphql") + "/export/customers.csv", headers={"Authorization": f"Bearer {gql.token}"})
    assert served.status_code == 200  # where the relative link leads, from the GraphQL endpoint's origin
