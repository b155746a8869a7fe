"""A real federation: the gateway and a second subgraph (tests/node/loyalty-subgraph.mjs), composed into a
supergraph and served by a real router from npm; queries that span the subgraphs run through it. Every test
runs behind both routers (tests/node/supergraph.mjs): @apollo/gateway, and Hive Gateway with its composer.

The loyalty subgraph references both of the gateway's entity types by the caller's own id: ``Customer`` by
``externalId`` (Polar) and ``VoucherifyCustomer`` by ``sourceId`` (Voucherify). A query through the router
joins all three: the loyalty subgraph, Polar's customer and Voucherify's, through the gateway's ``_entities``
and its join fields (``Customer.voucherify``, ``VoucherifyCustomer.customer``). Expected data is read from
both sandboxes directly; upstream requests are counted by their stats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.http.voucherify_keys import APP_ID, APP_TOKEN
from gateway.sandbox.seed import DEMO_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from tests.graphql_client import GraphQL, error_codes
from tests.node_tools import node_script
from tests.servers import GatewayProcess, SandboxProcess
from tests.voucherify.client import CUSTOMER_ROUTE, LIST_ROUTE, vf_client

ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "federation"
ROUTERS = ("apollo", "hive")
IN_BOTH, ONLY_IN_POLAR = 4, 1  # card holders: people in Polar and Voucherify, then people in Polar only
HOLDERS = IN_BOTH + ONLY_IN_POLAR
BY_EXTERNAL_ID = "GET /v1/customers/external/{external_id}"
POLAR_LIST = "GET /v1/customers/"
VOUCHERIFY_KEYS = {APP_ID: DEMO_APP_ID, APP_TOKEN: DEMO_APP_TOKEN}


def points_of(external_id: str | None) -> int | None:
    """The loyalty subgraph's rule, computed independently."""
    if not external_id:
        return None
    points = 0
    for character in external_id:
        points = (points * 31 + ord(character)) % 10007
    return points


def card_number(index: int) -> str:
    return f"LC-{index + 1:04d}"


class Router:
    def __init__(self, url: str, kind: str) -> None:
        self.url = url
        self.kind = kind
        self.http = httpx.Client(timeout=30)

    def execute(self, query: str, token: str | None = DEMO_TOKEN, *, keys: bool = True) -> dict[str, Any]:
        """The router's answer; the caller's Polar token and (with ``keys``) Voucherify server keys sent."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if keys:
            headers.update(VOUCHERIFY_KEYS)
        response = self.http.post(self.url, json={"query": query}, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


class Upstreams:
    """Both sandboxes read directly (the expected data), and their request counts."""

    def __init__(self, polar: SandboxProcess, voucherify: SandboxProcess) -> None:
        self.polar, self.voucherify = polar, voucherify
        self.polar_http = httpx.Client(base_url=polar.url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=10)
        self.voucherify_http = vf_client(voucherify, DEMO_APP_ID, DEMO_APP_TOKEN)
        self.before: tuple[dict[str, int], dict[str, int]] = ({}, {})

    def polar_customer(self, external_id: str) -> dict[str, Any] | None:
        """``{id externalId email}`` of the Polar customer with this external id; None when there is none."""
        response = self.polar_http.get(f"/v1/customers/external/{external_id}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        raw = response.json()
        assert raw["external_id"] == external_id
        return {"id": raw["id"], "externalId": raw["external_id"], "email": raw["email"]}

    def voucherify_customer(self, source_id: str) -> dict[str, Any] | None:
        """``{id sourceId email loyalty { points }}`` of the Voucherify customer with this source id."""
        response = self.voucherify_http.get(f"/v1/customers/{source_id}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        raw = response.json()
        if raw.get("source_id") != source_id:  # the path also takes an id: not this source id's customer
            return None
        return {"id": raw["id"], "sourceId": source_id, "email": raw.get("email"), "loyalty": {"points": raw["loyalty"]["points"]}}

    def voucherify_oldest(self, count: int) -> list[dict[str, Any]]:
        response = self.voucherify_http.get("/v1/customers", params={"limit": count, "order": "created_at"})
        assert response.status_code == 200, response.text
        return [{"id": raw["id"], "sourceId": raw.get("source_id")} for raw in response.json()["customers"]]

    def start_counting(self) -> None:
        self.before = (self.polar.stats(), self.voucherify.stats())

    def calls(self) -> tuple[dict[str, int], dict[str, int]]:
        """Requests each sandbox received since ``start_counting``: (Polar's, Voucherify's), by route."""
        return _since(self.before[0], self.polar.stats()), _since(self.before[1], self.voucherify.stats())

    def close(self) -> None:
        self.polar_http.close()
        self.voucherify_http.close()


def _since(before: dict[str, int], now: dict[str, int]) -> dict[str, int]:
    return {route: count - before.get(route, 0) for route, count in now.items() if count != before.get(route, 0)}


@pytest.fixture(scope="module")
def holders(
    gateway_server: GatewayProcess, sandbox_server: SandboxProcess, voucherify_server: SandboxProcess
) -> list[dict[str, Any]]:
    """Card holders, ``{id externalId email}``: the oldest Polar customers that Voucherify also has, then the
    newest that it has not (the sandboxes link the oldest external ids only)."""
    sandbox_server.reset()
    voucherify_server.reset()
    client = GraphQL(gateway_server.graphql_url, DEMO_TOKEN, sandbox_server)
    page = "{ customers(first: 20%s) { nodes { id externalId email } } }"
    oldest = client.data(page % ", sortKey: CREATED_AT")["customers"]["nodes"]
    newest = client.data(page % "")["customers"]["nodes"]
    client.close()
    upstreams = Upstreams(sandbox_server, voucherify_server)
    try:
        both = [c for c in oldest if c["externalId"] and upstreams.voucherify_customer(c["externalId"])]
        polar_only = [c for c in newest if c["externalId"] and not upstreams.voucherify_customer(c["externalId"])]
    finally:
        upstreams.close()
    chosen = both[:IN_BOTH] + polar_only[:ONLY_IN_POLAR]
    assert len(chosen) == HOLDERS, (both, polar_only)
    return chosen


@pytest.fixture(scope="module", params=ROUTERS)
def supergraph(
    request: pytest.FixtureRequest, gateway_server: GatewayProcess, holders: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    kind = request.param
    env = {
        "CUSTOMERS_URL": gateway_server.graphql_url,
        "LOYALTY_HOLDERS": json.dumps([h["externalId"] for h in holders]),
        "ROUTER": kind,
    }
    with node_script("supergraph.mjs", env, timeout=120) as (ready, _output):
        assert "compositionErrors" not in ready, ready
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"supergraph-{kind}.graphql").write_text(ready["supergraphSdl"])
        yield ready


@pytest.fixture
def router(supergraph: dict[str, Any]) -> Iterator[Router]:
    client = Router(supergraph["router"], supergraph["kind"])
    yield client
    client.http.close()


@pytest.fixture
def upstreams(sandbox: SandboxProcess, voucherify: SandboxProcess) -> Iterator[Upstreams]:
    """Both sandboxes freshly reset, read directly."""
    both = Upstreams(sandbox, voucherify)
    yield both
    both.close()


def _record(name: str, router: Router, query: str, body: dict[str, Any], calls: object) -> None:
    """What the router answered, kept as a test artifact for the issue's note."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    record = {"router": router.kind, "query": query, "response": body, "upstream_requests": calls}
    (ARTIFACTS / f"{name}-{router.kind}.json").write_text(json.dumps(record, indent=2))


def _reported(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Problems a router reported: its errors, and Apollo's value-completion notes (an entity a subgraph
    referenced and the owning subgraph did not find; Hive Gateway reports those as errors)."""
    notes: list[dict[str, Any]] = body.get("extensions", {}).get("valueCompletion", [])
    errors: list[dict[str, Any]] = body.get("errors", [])
    return errors + notes


def test_the_supergraph_composes_both_entity_types_with_both_keys(supergraph: dict[str, Any]) -> None:
    sdl = supergraph["supergraphSdl"]
    for directive in (
        '@join__type(graph: CUSTOMERS, key: "id")',
        '@join__type(graph: CUSTOMERS, key: "externalId")',
        '@join__type(graph: LOYALTY, key: "externalId")',
        '@join__type(graph: CUSTOMERS, key: "sourceId")',
        '@join__type(graph: LOYALTY, key: "sourceId")',
    ):
        assert directive in sdl, directive
    assert "loyaltyPoints: Int @join__field(graph: LOYALTY)" in sdl
    assert "loyaltyCardNumber: String @join__field(graph: LOYALTY)" in sdl
    assert "voucherify: VoucherifyCustomer @join__field(graph: CUSTOMERS)" in sdl
    assert "customer: Customer @join__field(graph: CUSTOMERS)" in sdl


def test_a_page_of_customers_with_fields_of_the_other_subgraph(router: Router, gql: GraphQL) -> None:
    query = "{ customers(first: 20) { nodes { id email externalId loyaltyPoints } } }"
    body = router.execute(query)
    assert "errors" not in body, body
    nodes = body["data"]["customers"]["nodes"]
    expected = gql.data("{ customers(first: 20) { nodes { id email externalId } } }")["customers"]["nodes"]
    assert [{k: n[k] for k in ("id", "email", "externalId")} for n in nodes] == expected
    assert [n["loyaltyPoints"] for n in nodes] == [points_of(n["externalId"]) for n in nodes]
    assert any(n["loyaltyPoints"] is None for n in nodes)
    assert any(n["loyaltyPoints"] for n in nodes)
    calls = gql.upstream_calls()
    assert calls == {POLAR_LIST: 2}  # one for the router, one for the expectation above
    _record("customers-with-loyalty", router, query, body, calls)


def test_cards_of_the_other_subgraph_resolve_their_holders_through_entities(
    router: Router, gql: GraphQL, holders: list[dict[str, Any]]
) -> None:
    query = """{ loyaltyCards { number holder { id externalId email loyaltyPoints
        state { activeSubscriptions { id status } grantedBenefits { id } } } } }"""
    body = router.execute(query)
    assert "errors" not in body, body
    cards = body["data"]["loyaltyCards"]
    assert [card["number"] for card in cards] == [card_number(i) for i in range(HOLDERS)]
    assert [{k: c["holder"][k] for k in ("id", "externalId", "email")} for c in cards] == holders
    assert [c["holder"]["loyaltyPoints"] for c in cards] == [points_of(h["externalId"]) for h in holders]
    calls = gql.upstream_calls()
    # Holders by external id through _entities (one each), then their state in one batch of three lists.
    assert calls == {
        BY_EXTERNAL_ID: HOLDERS,
        "GET /v1/subscriptions/": 1,
        "GET /v1/benefit-grants/": 1,
        "GET /v1/customer-meters/": 1,
    }
    for card in cards:
        direct = gql.data(
            "query ($id: ID!) { customer(id: $id) { state { activeSubscriptions { id status } grantedBenefits { id } } } }",
            {"id": card["holder"]["id"]},
        )
        assert card["holder"]["state"] == direct["customer"]["state"]
    _record("loyalty-cards-with-holders", router, query, body, calls)


JOINED_CARDS = """{ loyaltyCards { number
  holder { id externalId email loyaltyPoints voucherify { id sourceId email loyalty { points } loyaltyCardNumber } }
  member { id sourceId email loyalty { points } loyaltyCardNumber customer { id externalId email loyaltyPoints } } } }"""


def test_cards_join_the_loyalty_subgraph_polar_and_voucherify(
    router: Router, upstreams: Upstreams, holders: list[dict[str, Any]]
) -> None:
    """Each card reaches its holder both ways: Polar's customer and, through Customer.voucherify, Voucherify's;
    Voucherify's customer and, through VoucherifyCustomer.customer, Polar's; the loyalty subgraph adds a field
    to each. The card of the person only in Polar has no member, and no voucherify."""
    expected = []
    for index, holder in enumerate(holders):
        external_id = holder["externalId"]
        polar, voucherify = upstreams.polar_customer(external_id), upstreams.voucherify_customer(external_id)
        assert polar == holder
        assert (voucherify is None) == (index >= IN_BOTH)
        loyal = {"loyaltyPoints": points_of(external_id)}
        member = None if voucherify is None else {**voucherify, "loyaltyCardNumber": card_number(index)}
        expected.append({
            "number": card_number(index),
            "holder": {**polar, **loyal, "voucherify": member},
            "member": None if member is None else {**member, "customer": {**polar, **loyal}},
        })  # fmt: skip
    upstreams.start_counting()
    body = router.execute(JOINED_CARDS)
    assert body["data"]["loyaltyCards"] == expected
    # The one member Voucherify does not have: the gateway's _entities answers null for it, and its non-null id
    # makes the router null the member (and say so: Hive Gateway in errors, Apollo in extensions).
    assert [problem["path"] for problem in _reported(body)] == [["loyaltyCards", IN_BOTH, "member", "id"]]
    polar, voucherify = upstreams.calls()
    if router.kind == "apollo":
        # Apollo sends the holders' and the members' _entities as two requests: each has its own loaders, so
        # each looks up every person once (the members' Polar lookups only for those Voucherify has).
        assert polar == {BY_EXTERNAL_ID: HOLDERS + IN_BOTH}
        assert voucherify == {CUSTOMER_ROUTE: 2 * HOLDERS}
    else:
        # Hive Gateway sends both _entities in one request: one set of loaders, one lookup per person.
        assert polar == {BY_EXTERNAL_ID: HOLDERS}
        assert voucherify == {CUSTOMER_ROUTE: HOLDERS}
    _record("loyalty-cards-joined", router, JOINED_CARDS, body, {"polar": polar, "voucherify": voucherify})


def test_a_page_of_customers_joins_voucherify_and_the_loyalty_subgraph(
    router: Router, upstreams: Upstreams, gql: GraphQL, holders: list[dict[str, Any]]
) -> None:
    query = """{ customers(first: 20, sortKey: CREATED_AT) { nodes { id externalId email loyaltyPoints
        voucherify { id sourceId email loyalty { points } loyaltyCardNumber } } } }"""
    cards = {holder["externalId"]: card_number(index) for index, holder in enumerate(holders)}
    page = gql.data("{ customers(first: 20, sortKey: CREATED_AT) { nodes { id externalId email } } }")
    expected = []
    for node in page["customers"]["nodes"]:
        external_id = node["externalId"]
        voucherify = upstreams.voucherify_customer(external_id) if external_id else None
        joined = None if voucherify is None else {**voucherify, "loyaltyCardNumber": cards.get(external_id)}
        expected.append({**node, "loyaltyPoints": points_of(external_id), "voucherify": joined})
    external_ids = {node["externalId"] for node in expected if node["externalId"]}
    assert len(external_ids) < len(expected)  # customers without an external id cost no Voucherify call
    assert sum(node["voucherify"] is not None for node in expected) > 10
    assert sum(node["voucherify"] is not None and node["voucherify"]["loyaltyCardNumber"] is not None for node in expected) == IN_BOTH

    upstreams.start_counting()
    body = router.execute(query)
    assert "errors" not in body, body
    assert body["data"]["customers"]["nodes"] == expected
    polar, voucherify = upstreams.calls()
    assert polar == {POLAR_LIST: 1}
    assert voucherify == {CUSTOMER_ROUTE: len(external_ids)}
    _record("customers-joined", router, query, body, {"polar": polar, "voucherify": voucherify})


def test_a_page_of_voucherify_customers_joins_polar_and_the_loyalty_subgraph(
    router: Router, upstreams: Upstreams, holders: list[dict[str, Any]]
) -> None:
    query = """{ voucherifyCustomers(first: 10, sortKey: CREATED_AT) { nodes { id sourceId loyaltyCardNumber
        customer { id externalId email loyaltyPoints } } } }"""
    cards = {holder["externalId"]: card_number(index) for index, holder in enumerate(holders)}
    expected = []
    for node in upstreams.voucherify_oldest(10):
        source_id = node["sourceId"]
        polar = upstreams.polar_customer(source_id) if source_id else None
        customer = None if polar is None else {**polar, "loyaltyPoints": points_of(source_id)}
        expected.append({**node, "loyaltyCardNumber": cards.get(source_id), "customer": customer})
    source_ids = {node["sourceId"] for node in expected if node["sourceId"]}
    assert 0 < sum(node["customer"] is None for node in expected) < len(expected)
    assert sum(node["loyaltyCardNumber"] is not None for node in expected) > 0

    upstreams.start_counting()
    body = router.execute(query)
    assert "errors" not in body, body
    assert body["data"]["voucherifyCustomers"]["nodes"] == expected
    polar, voucherify = upstreams.calls()
    assert voucherify == {LIST_ROUTE: 1}
    assert polar == {BY_EXTERNAL_ID: len(source_ids)}
    _record("voucherify-customers-joined", router, query, body, {"polar": polar, "voucherify": voucherify})


def test_without_voucherify_keys_a_page_keeps_its_polar_and_loyalty_fields(
    router: Router, upstreams: Upstreams, gql: GraphQL
) -> None:
    query = """{ customers(first: 20, sortKey: CREATED_AT) { nodes { id externalId loyaltyPoints
        voucherify { id loyaltyCardNumber } } } }"""
    upstreams.start_counting()
    body = router.execute(query, keys=False)
    polar, voucherify = upstreams.calls()
    assert polar == {POLAR_LIST: 1}
    assert voucherify == {}
    nodes = body["data"]["customers"]["nodes"]
    page = gql.data("{ customers(first: 20, sortKey: CREATED_AT) { nodes { id externalId } } }")["customers"]["nodes"]
    assert nodes == [{**node, "loyaltyPoints": points_of(node["externalId"]), "voucherify": None} for node in page]
    # An error on the path of each customer that has an external id (the others make no call, and no error).
    linked = [index for index, node in enumerate(nodes) if node["externalId"]]
    assert 0 < len(linked) < len(nodes)
    assert sorted(error["path"] for error in body["errors"]) == sorted(
        ["customers", "nodes", index, "voucherify"] for index in linked
    )
    assert set(error_codes(body)) == {"UNAUTHENTICATED"}
    _record("customers-without-voucherify-keys", router, query, body, {"polar": polar})


def test_without_voucherify_keys_cards_keep_their_polar_holders(
    router: Router, upstreams: Upstreams, holders: list[dict[str, Any]]
) -> None:
    upstreams.start_counting()
    body = router.execute(JOINED_CARDS, keys=False)
    cards = body["data"]["loyaltyCards"]
    assert cards == [
        {
            "number": card_number(index),
            "holder": {**holder, "loyaltyPoints": points_of(holder["externalId"]), "voucherify": None},
            "member": None,
        }
        for index, holder in enumerate(holders)
    ]
    assert set(error_codes(body)) == {"UNAUTHENTICATED"}
    paths = [error["path"] for error in body["errors"]]
    holder_paths = [path for path in paths if path[2:] == ["holder", "voucherify"]]
    member_paths = [path for path in paths if path[2] == "member"]
    assert len(paths) == len(holder_paths) + len(member_paths)
    if router.kind == "apollo":
        assert holder_paths == [["loyaltyCards", index, "holder", "voucherify"] for index in range(HOLDERS)]
        # The members' own fetch asked Voucherify's entities only: one error for the whole field.
        assert member_paths == [["loyaltyCards", "@", "member", "_entities"]]
    else:
        # One error per holder, but Hive Gateway puts identical errors of one batched fetch on the first
        # index (graphql-tools' batch delegation, ardatan/graphql-tools#2951); the gateway's paths are right
        # (test_entities_batch.py).
        assert holder_paths == [["loyaltyCards", 0, "holder", "voucherify"]] * HOLDERS
        assert member_paths == [["loyaltyCards", index, "member", "id"] for index in range(HOLDERS)]
    polar, voucherify = upstreams.calls()
    assert polar == {BY_EXTERNAL_ID: HOLDERS}
    assert voucherify == {}
    _record("loyalty-cards-without-voucherify-keys", router, JOINED_CARDS, body, {"polar": polar})


def test_without_a_token_the_router_passes_on_the_gateway_error(router: Router, gql: GraphQL) -> None:
    body = router.execute("{ customers(first: 2) { nodes { id loyaltyPoints } } }", token=None)
    assert body.get("data") is None
    assert "UNAUTHENTICATED" in error_codes(body)
    assert gql.upstream_calls() == {}
