"""Documents built to make validation slow or the caches big, sent to a real gateway without a token.

Validation takes time linear in a document's size, so a hostile 2 KB document costs the gateway about what
a benign one does; what is over a limit is refused before graphql-core's own rules run; and the caches of
parsed documents are bounded in bytes whatever is sent. The bounds are ratios and counts, not times.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.conftest import MANY_NEW_DOCUMENTS
from tests.hostile import SHAPES, benign, doubling_fragments
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

VARIANTS = 20
# A hostile shape may cost this many times a benign document of its size: the budget is 100 ms of
# CPU for any 2 KB document, and a benign one costs about 6 ms here.
MOST_TIMES_BENIGN = 15


def _cpu_per_document(gateway: GatewayProcess, client: httpx.Client, shape: Callable[[int], str]) -> float:
    """Seconds of the gateway's CPU per document, over ``VARIANTS`` documents it has not seen."""
    before = gateway.cpu_seconds()
    for variant in range(VARIANTS):
        response = client.post(gateway.graphql_url, json={"query": shape(variant + 1000)})
        assert response.status_code in (200, 400), response.text
        assert "Internal error" not in response.text
        assert "Traceback" not in response.text
        assert response.json().get("errors"), shape.__name__
    return (gateway.cpu_seconds() - before) / VARIANTS


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as http:
        yield http


def test_no_2kb_shape_costs_much_more_than_a_benign_document(
    gateway_server: GatewayProcess, client: httpx.Client
) -> None:
    _cpu_per_document(gateway_server, client, benign)  # warm
    baseline = max(_cpu_per_document(gateway_server, client, benign), 0.002)
    costs = {name: _cpu_per_document(gateway_server, client, shape) for name, shape in SHAPES.items()}
    over = {name: round(cost / baseline, 1) for name, cost in costs.items() if cost > MOST_TIMES_BENIGN * baseline}
    assert not over, f"times a benign document's CPU ({baseline * 1000:.1f} ms): {over}"


def test_doubling_fragments_cost_time_linear_in_their_length(
    gateway_server: GatewayProcess, client: httpx.Client
) -> None:
    """Four times as many levels would take 2^300 times as long if each spread were walked again; here it
    takes about four times as long (the bound leaves room for a noisy machine), and the error names the
    limit."""
    response = client.post(gateway_server.graphql_url, json={"query": doubling_fragments(1)})
    message = response.json()["errors"][0]["message"]
    assert re.search(r"expands to \d+ fields, over the limit of \d+ \(setting max_cost\)", message), message

    def levels(count: int) -> Callable[[int], str]:
        def document(variant: int) -> str:
            chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(count))
            return f"query Q{variant} {{ ...F0 }} {chain} fragment F{count} on Query {{ __typename }}"

        return document

    short = _cpu_per_document(gateway_server, client, levels(100))
    long = _cpu_per_document(gateway_server, client, levels(400))
    assert long <= 8 * max(short, 0.001), (short, long)


@pytest.mark.parametrize(
    "document",
    [
        "{ " + " ".join(f'customer(id: "{n}") {{ id }}' for n in range(500)) + " }",
        "{ " + " ".join(f"...C{n}" for n in range(100)) + " } "
        + " ".join(f'fragment C{n} on Query {{ customer(id: "{n}") {{ id }} }}' for n in range(100)),
        "{ " + " ".join(f'... on Query {{ customer(id: "{n}") {{ id }} }}' for n in range(300)) + " }",
    ],
    ids=["fields", "fragments", "inline-fragments"],
)
def test_one_response_key_selected_too_often_is_refused_before_merging(
    sandbox: SandboxProcess, gateway_server: GatewayProcess, client: httpx.Client, document: str
) -> None:
    response = client.post(gateway_server.graphql_url, json={"query": document})
    [error] = response.json()["errors"]
    assert "over the limit of 30 (setting max_repeated_field)" in error["message"]
    assert sandbox.stats() == {}


def test_thirty_selections_of_one_key_are_still_merged(gateway_server: GatewayProcess, client: httpx.Client) -> None:
    """At the limit, graphql-core's rule runs and reports the conflict it finds, as it always has."""
    document = "{ " + " ".join(f'customer(id: "{n}") {{ id }}' for n in range(30)) + " }"
    messages = [e["message"] for e in client.post(gateway_server.graphql_url, json={"query": document}).json()["errors"]]
    assert messages
    assert "conflict because they have differing arguments" in messages[0]


def _maximal(kind: str, variant: int) -> str:
    """About 5,000 tokens and 100 KB: a valid document of 990 operations, or an invalid one of 4,990 unknown
    fields."""
    if kind == "valid":
        return " ".join(f"query Q{variant}x{n}{'_' * 70} {{ __typename }}" for n in range(990))
    return "{ " + " ".join(f"f{variant}x{n:04d}{'_' * 10}" for n in range(4990)) + " }"


def _metric(gateway: GatewayProcess, name: str) -> float:
    text = httpx.get(f"{gateway.url}/metrics").text
    return float(re.search(rf"^{name} (\S+)$", text, re.MULTILINE).group(1))  # type: ignore[union-attr]


def test_distinct_maximal_documents_stay_within_the_cache_bound(sandbox: SandboxProcess) -> None:
    """570 such documents took a gateway from 68 MB to 2.16 GB when its caches counted entries; now the
    cache holds what its setting says, and the process stays within 100 MB of where it started."""
    budget = 8 * 2**20
    env = {"GATEWAY_DOCUMENT_CACHE_BYTES": str(budget), **MANY_NEW_DOCUMENTS}
    with gateway_process(sandbox.url, env=env) as gateway, httpx.Client(
        timeout=60
    ) as client:
        for variant in range(3):  # warm: allocator arenas and imports
            client.post(gateway.graphql_url, json={"query": _maximal("valid", variant), "operationName": f"Q{variant}x0{'_' * 70}"})
        started = gateway.rss_bytes()
        for variant in range(3, 243):
            kind = "valid" if variant % 2 else "invalid"
            body = {"query": _maximal(kind, variant), "operationName": f"Q{variant}x7{'_' * 70}" if kind == "valid" else None}
            response = client.post(gateway.graphql_url, json=body)
            assert ("errors" in response.json()) == (kind == "invalid")
        held = _metric(gateway, "gateway_document_cache_bytes")
        assert 0 < held <= budget
        grown = gateway.rss_bytes() - started
        print(f"RSS grew {grown / 2**20:.1f} MB; the cache holds {held / 2**20:.1f} MB")
        assert grown < 100 * 2**20


def test_new_documents_come_out_of_a_budget_and_seen_ones_always_pass(sandbox: SandboxProcess) -> None:
    """A flood of distinct documents gets 503 once the budget of new bytes (and of the CPU they took beyond
    1 ms per KB) is spent; a document the gateway has seen is answered all the while, and the budget fills
    again with time."""
    env = {"GATEWAY_NEW_DOCUMENT_BYTES_PER_S": "8000", "GATEWAY_NEW_DOCUMENT_BURST_BYTES": "20000"}
    with gateway_process(sandbox.url, env=env) as gateway, httpx.Client(timeout=30) as client:
        seen = {"query": benign(1)}
        assert client.post(gateway.graphql_url, json=seen).status_code == 200
        time.sleep(3)  # the first document also paid for the process's first parse
        statuses = [client.post(gateway.graphql_url, json={"query": benign(n)}).status_code for n in range(2, 30)]
        assert statuses[0] == 200
        assert statuses.count(503) > 2
        assert statuses.count(200) <= 10
        refused = client.post(gateway.graphql_url, json={"query": benign(99)})
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert "new_document_bytes_per_s" in refused.json()["errors"][0]["message"]
        assert client.post(gateway.graphql_url, json=seen).status_code == 200
        time.sleep(5)  # 40 KB more
        assert client.post(gateway.graphql_url, json={"query": benign(100)}).status_code == 200
