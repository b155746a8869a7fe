"""Walking a listing whose sort values tie: every customer once, in the same order whichever way the walk
goes. Polar keeps ties in creation order in both directions (polar-server-differences.md row 15), so the
reversed listing is not the forward one's mirror, and ``last`` reads forwards."""

from __future__ import annotations

import httpx

from tests.graphql_client import GraphQL

PAGE = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id }"
LISTING = 'filter: {query: "tie-walk"}, sortKey: NAME'


def _create_tied(demo: httpx.Client, count: int) -> list[str]:
    """Customers with one name, in creation order."""
    made = []
    for n in range(count):
        body = {"email": f"tie-walk-{n}@gmail.com", "name": "Same Name"}
        made.append(demo.post("/v1/customers/", json=body).json()["id"])
    return made


def _forwards(gql: GraphQL, size: int, reverse: bool = False) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        arguments = f"{LISTING}, reverse: {'true' if reverse else 'false'}, first: {size}"
        page = gql.data(f"query($a: String) {{ customers({arguments}, after: $a) {{ {PAGE} }} }}", {"a": after})
        seen += [node["id"] for node in page["customers"]["nodes"]]
        if not page["customers"]["pageInfo"]["hasNextPage"]:
            return seen
        after = page["customers"]["pageInfo"]["endCursor"]


def _backwards(gql: GraphQL, size: int) -> list[str]:
    seen: list[str] = []
    before = None
    while True:
        page = gql.data(f"query($b: String) {{ customers({LISTING}, last: {size}, before: $b) {{ {PAGE} }} }}", {"b": before})
        seen = [node["id"] for node in page["customers"]["nodes"]] + seen
        if not page["customers"]["pageInfo"]["hasPreviousPage"]:
            return seen
        before = page["customers"]["pageInfo"]["startCursor"]


def test_a_walk_over_ties_sees_each_customer_once_in_creation_order_either_way(
    gql: GraphQL, demo: httpx.Client
) -> None:
    made = _create_tied(demo, 13)
    assert _forwards(gql, 5) == made
    assert _backwards(gql, 5) == made
    last = gql.data(f"{{ customers({LISTING}, last: 4) {{ {PAGE} }} }}")["customers"]
    assert [node["id"] for node in last["nodes"]] == made[-4:]
    assert _forwards(gql, 4, reverse=True) == made  # descending, ties still in creation order
