"""The two execution modes answer alike. Two gateways on one pair of sandboxes (Polar's and Voucherify's),
``lean_execution`` on and off, get the
same requests one after the other, and must give the same status, headers (date and request id aside) and
body, byte for byte: README's examples, every field of every type and every argument, errors (bad
arguments, unknown fields, limits, malformed requests, upstream faults) and documents generated from the
schema. Run it after upgrading Strawberry or graphql-core: the lean engine overrides their internals.

Mutations: reads only, plus mutations that cannot write (refused by validation, or aimed at a customer
that does not exist). A mutation that writes would answer differently the second time (a duplicate email
is TAKEN), so README's creating mutations are sent with an unknown argument, which validation refuses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, get_introspection_query
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import Mode
from hypothesis_graphql import strategies as gql_st

from gateway.sandbox.seed import DEMO_READ_TOKEN, DEMO_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from tests.conftest import MANY_NEW_DOCUMENTS
from tests.graphql.fields import CUSTOMER_FIELDS, STATE_FIELDS
from tests.graphql.lean_corpus import every_field, readme_operations, sample_value
from tests.graphql.test_fuzz import SCALARS, SDL
from tests.graphql_client import GRAPHQL_RESPONSE
from tests.hostile import SHAPES, benign
from tests.servers import NO_FAULTS, GatewayProcess, SandboxProcess, gateway_process

COMMON = {
    **MANY_NEW_DOCUMENTS,
    "GATEWAY_CURSOR_SECRET": "differential-test-cursor-secret-0123456789",  # cursors alike on both
    "GATEWAY_RETRY_BACKOFF_S": "0",
    "GATEWAY_BREAKER_FAILURE_THRESHOLD": "100000",  # upstream faults must not open one breaker before the other
}
UNCOMPARED_HEADERS = {"date", "x-request-id"}
VOUCHERIFY_KEYS = {"X-Voucherify-App-Id": DEMO_APP_ID, "X-Voucherify-App-Token": DEMO_APP_TOKEN}
ORGANIZATION = {"Authorization": f"Bearer {DEMO_TOKEN}", "Accept": GRAPHQL_RESPONSE, **VOUCHERIFY_KEYS}
KNOWN_EXTERNAL_ID = "usr_demo_00248"
KNOWN_SOURCE_ID = "crm_00001"
WRITES = (
    "customerCreate", "customerSessionCreate", "voucherifyCustomerUpsert", "voucherifyCustomerUpdate",
    "voucherifyCustomerDelete", "voucherifyCustomerPermanentDelete", "voucherifyCustomerConsentsUpdate",
    "voucherifyCustomersBulkUpdate", "voucherifyCustomersMetadataBulkUpdate", "voucherifyCustomersImport",
    "customerLoyaltyEnroll", "customerErase",  # both systems: an erasure finds nobody the second time
    "voucherifyAsyncAction",  # a read that moves the sandbox's action one step: it would differ the second time
)  # fmt: skip
SESSION = """mutation($e: String) { customerSessionCreate(externalCustomerId: $e) {
  customerSession { token } userErrors { code } } }"""
GENERATED = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Pair:
    """A lean gateway and a stock one; every request goes to both, and their answers must match."""

    def __init__(self, lean: GatewayProcess, stock: GatewayProcess) -> None:
        self.lean, self.stock = lean, stock
        self.http = httpx.Client(timeout=30)
        self.compared = 0

    def send(self, method: str = "POST", headers: dict[str, str] | None = None, **request: Any) -> httpx.Response:
        """The lean gateway's answer, once the stock one has given the same."""
        headers = ORGANIZATION if headers is None else headers
        lean = self.http.request(method, self.lean.graphql_url, headers=headers, **request)
        stock = self.http.request(method, self.stock.graphql_url, headers=headers, **request)
        assert _comparable(lean) == _comparable(stock), request
        self.compared += 1
        return lean

    def query(self, query: str, variables: dict[str, Any] | None = None, token: str = DEMO_TOKEN) -> Any:
        """The body of a POSTed operation, answered alike by both."""
        headers = {**ORGANIZATION, "Authorization": f"Bearer {token}"}
        body: dict[str, Any] = {"query": query} if variables is None else {"query": query, "variables": variables}
        return self.send(json=body, headers=headers).json()


def _comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() not in UNCOMPARED_HEADERS)
    return response.status_code, headers, response.content


@contextmanager
def _pair(sandbox_url: str, voucherify_url: str, env: dict[str, str] | None = None) -> Iterator[Pair]:
    """Two gateways on one pair of sandboxes, with the same settings but ``lean_execution``."""
    settings = {**COMMON, **(env or {})}
    with (
        gateway_process(sandbox_url, env={**settings, "GATEWAY_LEAN_EXECUTION": "true"},
                        voucherify_url=voucherify_url) as lean,
        gateway_process(sandbox_url, env={**settings, "GATEWAY_LEAN_EXECUTION": "false"},
                        voucherify_url=voucherify_url) as stock,
    ):  # fmt: skip
        both = Pair(lean, stock)
        yield both
        both.http.close()


@pytest.fixture(scope="module")
def pair(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess) -> Iterator[Pair]:
    with _pair(sandbox_server.url, voucherify_server.url) as both:
        yield both


def _session_token(pair: Pair) -> str:
    """A customer session of a customer with orders, made on the lean gateway only (a write)."""
    body = pair.http.post(pair.lean.graphql_url, json={"query": SESSION, "variables": {"e": KNOWN_EXTERNAL_ID}},
                          headers=ORGANIZATION).json()  # fmt: skip
    token: str = body["data"]["customerSessionCreate"]["customerSession"]["token"]
    return token


def _validation_refuses(operation: str) -> str:
    """The operation with an unknown argument on its first field: refused before anything runs."""
    return operation.replace("(", "(unknownArgument: 1, ", 1)


def test_readme_examples_answer_alike(pair: Pair, sandbox: SandboxProcess, voucherify: SandboxProcess) -> None:
    operations = readme_operations()
    assert len(operations) >= 15
    session = _session_token(pair)
    for operation in operations:
        if any(write in operation for write in WRITES):
            operation = _validation_refuses(operation)
        pair.query(operation)
        if "customerPortal" in operation:
            pair.query(operation, token=session)
    assert pair.compared >= len(operations)


def test_every_field_answers_alike(pair: Pair, sandbox: SandboxProcess) -> None:
    schema = SDL
    session = _session_token(pair)
    ids = [n["id"] for n in pair.query("{ customers(first: 3) { nodes { id } } }")["data"]["customers"]["nodes"]]
    portal_orders = pair.query("{ customerPortal { orders(first: 1) { nodes { id } } } }", token=session)
    [order] = portal_orders["data"]["customerPortal"]["orders"]["nodes"]
    arguments = {"CustomerPortal.order": f'id: "{order["id"]}"'}
    query_type, customer_type = schema.query_type, schema.get_type("Customer")
    assert query_type is not None
    assert customer_type is not None
    customer = every_field(schema, customer_type, arguments)
    assert "state" in customer
    assert "billingAddress" in customer
    everything = [
        f"{{ customers(first: 3) {{ {every_field(schema, schema.get_type('CustomerConnection'), arguments)} }} }}",  # type: ignore[arg-type]
        f'{{ customer(externalId: "{KNOWN_EXTERNAL_ID}") {{ {customer} }} }}',
        f'{{ customer(id: "{ids[0]}") {{ {customer} }} }}',
        f'{{ _entities(representations: [{{ __typename: "Customer", id: "{ids[1]}" }}, '
        f'{{ __typename: "Customer", externalId: "{KNOWN_EXTERNAL_ID}" }}]) {{ ... on Customer {{ {customer} }} }} }}',
        "{ customersExportUrl _service { sdl } }",
        get_introspection_query(descriptions=True),
        CUSTOMER_FIELDS + STATE_FIELDS + "{ customers(first: 20) { nodes { ...CustomerFields state { ...StateFields } } } }",
    ]
    for query in everything:
        assert "errors" not in pair.query(query)
    portal = every_field(schema, schema.get_type("CustomerPortal"), arguments)  # type: ignore[arg-type]
    assert "prices" in portal
    assert "errors" not in pair.query(f"{{ customerPortal {{ {portal} }} }}", token=session)
    pair.query(f"{{ customerPortal {{ {portal} }} }}")  # an organization token: an error, alike
    pair.query(CUSTOMER_FIELDS + STATE_FIELDS + "{ customers(first: 5) { nodes { state { ...StateFields } } } }",
               token=DEMO_READ_TOKEN)  # fmt: skip  # without the batch scopes: per-customer /state


def test_every_voucherify_field_and_argument_answers_alike(
    pair: Pair, sandbox: SandboxProcess, voucherify: SandboxProcess
) -> None:
    schema = SDL
    connection = every_field(schema, schema.get_type("VoucherifyCustomerConnection"), {})  # type: ignore[arg-type]
    customer = every_field(schema, schema.get_type("VoucherifyCustomer"), {})  # type: ignore[arg-type]
    assert "segments" in customer
    assert "activity" in customer
    first = pair.query(f"{{ voucherifyCustomers(first: 3) {{ {connection} }} }}")
    assert "errors" not in first
    [node, *_] = first["data"]["voucherifyCustomers"]["nodes"]
    assert "errors" not in pair.query(f'{{ voucherifyCustomer(id: "{node["id"]}") {{ {customer} }} }}')
    assert "errors" not in pair.query(f'{{ voucherifyCustomer(sourceId: "{KNOWN_SOURCE_ID}") {{ {customer} }} }}')
    page = "{ totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } }"
    for sort in [*_enum_values("VoucherifyCustomerSortKey"), None]:
        for reverse in ("true", "false"):
            sorting = f"sortKey: {sort}, " if sort else ""
            answer = pair.query(f"{{ voucherifyCustomers(first: 4, {sorting}reverse: {reverse}) {page} }}")
            end = answer["data"]["voucherifyCustomers"]["pageInfo"]["endCursor"]
            pair.query(f'{{ voucherifyCustomers(first: 4, after: "{end}", {sorting}reverse: {reverse}) {page} }}')
            pair.query(f'{{ voucherifyCustomers(last: 2, before: "{end}", {sorting}reverse: {reverse}) {page} }}')
            pair.query(f"{{ voucherifyCustomers(last: 3, {sorting}reverse: {reverse}) {page} }}")
    samples = {"String": '"a"', "Boolean": "true", "ID": '"seg_LoyalMembers0000000001"', "DateTime": '"2025-01-01T00:00:00Z"'}
    kind = SDL.get_type("VoucherifyCustomerFilter")
    assert isinstance(kind, GraphQLInputObjectType)
    for name, field in kind.fields.items():
        pair.query(f"{{ voucherifyCustomers(first: 5, filter: {{ {name}: {sample_value(field.type, samples)} }}) {page} }}")
    pair.query('{ voucherifyCustomer(id: "cust_nobody") { id } b: voucherifyCustomer(sourceId: "nobody") { id } }')
    pair.query('{ voucherifyCustomer(id: "a", sourceId: "b") { id } }')
    pair.query('{ voucherifyAsyncAction(id: "aa_000000000000000000") { id status } }')
    pair.query('mutation { voucherifyCustomerDelete(sourceId: "nobody-has-this-id") { deletedCustomerId userErrors { code } } }')
    pair.query('mutation { voucherifyCustomersBulkUpdate(customers: []) { asyncAction { id } userErrors { code } } }')
    pair.query('{ voucherifyCustomers(first: 1) { totalCount } }', token=DEMO_TOKEN)
    pair.send(json={"query": "{ voucherifyCustomers(first: 1) { totalCount } customers(first: 1) { totalCount } }"},
              headers={"Authorization": f"Bearer {DEMO_TOKEN}", "Accept": GRAPHQL_RESPONSE})  # fmt: skip


def test_every_argument_answers_alike(pair: Pair, sandbox: SandboxProcess) -> None:
    session = _session_token(pair)
    page = "{ totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } }"
    for sort in _enum_values("CustomerSortKey"):
        for reverse in ("true", "false"):
            pair.query(f"{{ customers(first: 7, sortKey: {sort}, reverse: {reverse}) {page} }}")
    for sort in _enum_values("OrderSortKey"):
        pair.query(f"{{ customerPortal {{ orders(last: 2, sortKey: {sort}, reverse: true) {page} }} }}", token=session)
    samples = {"String": '"a"', "Boolean": "true", "ID": '"00000000-0000-0000-0000-000000000000"'}
    for type_name, root in (("CustomerFilter", "customers"), ("OrderFilter", "customerPortal { orders")):
        kind = SDL.get_type(type_name)
        assert isinstance(kind, GraphQLInputObjectType)
        filters = [sample_value(kind, samples)] + [
            f"{{ {name}: {sample_value(field.type, samples)} }}" for name, field in kind.fields.items()
        ]
        closing = " }" if "{" in root else ""
        for sample in filters:
            pair.query(f"{{ {root}(first: 5, filter: {sample}) {page}{closing} }}", token=session)
    for billing in _enum_values("ProductBillingType"):
        pair.query(f"{{ customerPortal {{ orders(filter: {{ productBillingType: [{billing}] }}) {page} }} }}",
                   token=session)  # fmt: skip
    first = pair.query(f"{{ customers(first: 4) {page} }}")["data"]["customers"]["pageInfo"]
    pair.query(f'{{ customers(first: 4, after: "{first["endCursor"]}") {page} }}')
    pair.query(f'{{ customers(last: 2, before: "{first["endCursor"]}") {page} }}')
    pair.query(f"{{ customers(last: 3) {page} }}")
    paged = "query($n: Int, $a: String, $f: CustomerFilter) { customers(first: $n, after: $a, filter: $f) { totalCount nodes { id } } }"
    for variables in ({"n": 2}, {"n": None}, {}, {"n": 3, "a": first["endCursor"]}, {"f": {"query": "a"}, "n": 1}):
        pair.query(paged, variables)
    pair.query(f'{{ customer(id: "{"0" * 8}-0000-0000-0000-{"0" * 12}") {{ id }} }}')  # none: null
    pair.query('mutation { customerDelete(externalId: "nobody-has-this-id") { deletedCustomerId userErrors { field code } } }')
    pair.query('mutation { customerUpdate(externalId: "nobody-has-this-id", input: { name: "x" }) { userErrors { code } } }')
    for refused in REFUSED_MUTATIONS:  # userErrors, and nothing written
        body = pair.query(refused, token=session if "Portal" in refused else DEMO_TOKEN)
        assert any(payload["userErrors"] for payload in body["data"].values()), body


REFUSED_MUTATIONS = [
    'mutation { customerCreate(input: { email: "not an email" }) { customer { id } userErrors { field message code } } }',
    'mutation { customerCreate(input: { email: "ada@gmail.com", billingAddress: { country: "US", state: "ZZ" } }) '
    "{ customer { id } userErrors { field message code } } }",
    'mutation { customerSessionCreate(externalCustomerId: "nobody-has-this-id") { customerSession { token } '
    "userErrors { field message code } } }",
    'mutation { customerPortalOrderUpdate(id: "00000000-0000-0000-0000-000000000000", input: { billingName: "A" }) '
    "{ order { id } userErrors { field message code } } }",
]


ERRORS: list[dict[str, Any]] = [
    {"json": {"query": "{ customers(first: -1) { totalCount } }"}},
    {"json": {"query": "{ customers(first: 101) { totalCount } }"}},
    {"json": {"query": '{ customers(first: 2, after: "garbage") { totalCount } }'}},
    {"json": {"query": '{ customer(id: "a", externalId: "b") { id } }'}},
    {"json": {"query": "{ customer(id: 5) { id } }"}},
    {"json": {"query": "{ customer { id } }"}},
    {"json": {"query": "{ custmers(first: 1) { totalCount } }"}},
    {"json": {"query": "{ customers(frist: 1) { totalCount } }"}},
    {"json": {"query": "{ customers(first: 1) { totalCount"}},
    {"json": {"query": "{ customers(first: 1) }"}},
    {"json": {"query": "query($n: Int!) { customers(first: $n) { totalCount } }"}},
    {"json": {"query": "query($n: Int!) { customers(first: $n) { totalCount } }", "variables": {"n": "x"}}},
    {"json": {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"}},
    {"json": {"query": "{ customers(first: 100) { nodes { state { activeSubscriptions { meters { id } } } } } "
                       "b: customers(first: 100) { edges { node { state { activeSubscriptions { meters { id meterId "
                       "consumedUnits creditedUnits amount createdAt modifiedAt } } } } } } "
                       "c: customers(first: 100) { nodes { " + " ".join(f"e{i}: email" for i in range(25)) + " } } }"}},
    {"json": {"query": "{ __schema { types { name } } a: __schema { types { name } } }"}},
    {"json": {"query": "query A { __typename } query B { __typename }"}},
    {"json": {"query": "query A { __typename } query B { __typename }", "operationName": "B"}},
    {"json": {"query": "query A { __typename }", "operationName": "C"}},
    {"json": {"query": 'mutation { customerDelete(externalId: "x") { deletedCustomerId } }'}, "headers": {}},
    {"json": {"query": "{ customers(first: 1) { totalCount } }"}, "headers": {"Authorization": "Bearer nope"}},
    {"json": {"query": '{ customer(externalId: "x") { id } }'}, "headers": {"Authorization": "Basic abc"}},
    {"json": {"query": 'mutation { customerCreate(input: { email: "x@gmail.com" }) { userErrors { code } } }'},
     "headers": {"Authorization": f"Bearer {DEMO_READ_TOKEN}"}},
    {"json": {"query": "{ __typename }"}, "headers": {"Accept": "application/json"}},
    {"json": {"query": "{ nope }"}, "headers": {"Accept": "application/json"}},
    {"json": [{"query": "{ __typename }"}, {"query": "{ customers(first: 1) { totalCount } }"}]},
    {"json": [{"query": "{ nope }"}, {"query": "{ __typename }"}]},
    {"json": [{"query": "{ __typename }"}] * 11},
    {"json": []},
    {"json": {"query": 5}},
    {"json": {"query": "{ __typename }", "variables": [1]}},
    {"json": {"nothing": True}},
    {"content": b"{not json", "headers": {**ORGANIZATION, "Content-Type": "application/json"}},
    {"content": b'{"query": "{ __typename }", "x": NaN}', "headers": {**ORGANIZATION, "Content-Type": "application/json"}},
    {"content": b"{ __typename }", "headers": {**ORGANIZATION, "Content-Type": "application/graphql"}},
    {"content": b'{"query": "{ __typename }"}', "headers": {**ORGANIZATION, "Content-Type": "text/plain"}},
    {"json": {"query": "{ __typename }"}, "headers": {**ORGANIZATION, "Accept": "multipart/mixed"}},
    {"method": "GET", "params": {"query": "{ customers(first: 2) { nodes { id } } }"}},
    {"method": "GET", "params": {"query": 'mutation { customerDelete(externalId: "x") { deletedCustomerId } }'}},
    {"method": "GET", "params": {"query": "{ nope }"}},
    {"method": "PUT", "json": {"query": "{ __typename }"}},
]


def _send_errors(pair: Pair) -> set[int]:
    """``ERRORS`` sent to both gateways; the statuses they answered."""
    statuses = set()
    for request in ERRORS:
        request = dict(request)
        headers = request.pop("headers", None)
        if headers is not None and "Accept" not in headers:
            headers = {**ORGANIZATION, **headers} if headers else {"Accept": GRAPHQL_RESPONSE}
        statuses.add(pair.send(headers=headers, **request).status_code)
    return statuses


def test_errors_answer_alike(pair: Pair, sandbox: SandboxProcess) -> None:
    assert {200, 400, 405} <= _send_errors(pair)


def test_production_settings_answer_alike(sandbox: SandboxProcess, voucherify: SandboxProcess) -> None:
    """Without introspection, errors are masked and suggestions left out: by the same extensions in both."""
    with _pair(sandbox.url, voucherify.url, {"GATEWAY_INTROSPECTION": "false"}) as production:
        assert {200, 400, 405} <= _send_errors(production)
        production.query(get_introspection_query())
        production.query("{ customers(first: 2) { nodes { id emial } } }")


def test_the_cost_is_reported_in_one_place_on_every_path(pair: Pair, sandbox: SandboxProcess) -> None:
    """``extensions.cost``: the lean POST path, GET and batches (Strawberry's general path) say the same."""
    query = "{ customers(first: 3) { nodes { id email } } }"
    cost = {"cost": {"requested": 1 + 3 * 3, "limit": 20000}}
    assert pair.query(query)["extensions"] == cost
    assert pair.send("GET", params={"query": query}).json()["extensions"] == cost
    assert [answer["extensions"] for answer in pair.send(json=[{"query": query}] * 2).json()] == [cost, cost]
    pages = " ".join(f"p{n}: customers(first: 100) {{ nodes {{ ...CustomerFields state {{ ...StateFields }} }} }}"
                     for n in range(3))  # fmt: skip
    over = pair.send(json={"query": CUSTOMER_FIELDS + STATE_FIELDS + f"{{ {pages} }}"})
    assert over.status_code == 400
    assert "setting max_cost" in over.json()["errors"][0]["message"]
    reported = over.json()["extensions"]["cost"]
    assert reported["requested"] > reported["limit"] == 20000


def test_hostile_documents_are_refused_alike(pair: Pair, sandbox: SandboxProcess) -> None:
    """The limits are the gateway's own, not the engine's: both modes refuse the same documents the same way."""
    refused = [name for name, shape in SHAPES.items() if pair.send(json={"query": shape(0)}).status_code == 400]
    assert len(refused) >= len(SHAPES) // 2
    assert pair.send(json={"query": benign(0)}).status_code == 200


FAULTS = [
    {"error_rate": 1.0, "error_status": 503},
    {"error_rate": 1.0, "error_status": 500},
    {"error_rate": 1.0, "error_status": 429},  # retry-after 60: past the deadline, not waited for
    {"error_rate": 1.0, "error_status": 401},
    {"drop_rate": 1.0},
]
FAULTY_QUERIES = [
    "{ customers(first: 2) { totalCount nodes { id state { activeMeters { id } } } } }",
    f'{{ customer(externalId: "{KNOWN_EXTERNAL_ID}") {{ id email }} a: customersExportUrl }}',
    'mutation { customerDelete(externalId: "nobody-has-this-id") { deletedCustomerId userErrors { code } } }',
]


def test_upstream_faults_answer_alike(pair: Pair, sandbox: SandboxProcess) -> None:
    codes: set[str] = set()
    with sandbox.control() as control:
        try:
            for fault in FAULTS:
                control.post("/__sandbox/faults", json={**NO_FAULTS, **fault}).raise_for_status()
                for query in FAULTY_QUERIES:
                    body = pair.query(query)
                    codes.update(e.get("extensions", {}).get("code", "") for e in body.get("errors", []))
        finally:
            control.post("/__sandbox/faults", json=NO_FAULTS).raise_for_status()
    assert {"UPSTREAM_UNAVAILABLE", "RATE_LIMITED"} <= codes


@GENERATED
@given(query=gql_st.queries(SDL, custom_scalars=SCALARS))
def test_generated_queries_answer_alike(pair: Pair, query: str) -> None:
    pair.query(query)


@GENERATED
@given(document=gql_st.queries(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
def test_generated_invalid_queries_answer_alike(pair: Pair, document: str) -> None:
    pair.query(document)


@GENERATED
@given(document=gql_st.mutations(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
def test_generated_invalid_mutations_answer_alike(pair: Pair, document: str) -> None:
    """Invalid mutations only: a valid one may write, and would answer differently the second time."""
    response = pair.send(json={"query": document})
    assert response.status_code == 400 or re.search(r'"errors"', response.text)


def _enum_values(name: str) -> list[str]:
    kind = SDL.get_type(name)
    assert kind is not None
    assert not isinstance(kind, GraphQLObjectType)
    return list(getattr(kind, "values", {}))
