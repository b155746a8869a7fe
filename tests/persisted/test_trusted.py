"""``trusted_documents_only`` against real gateways, with a manifest in each format the clients' tools write
(Apollo's persisted-query manifest, Relay's ``persisted_queries.json``): the manifest's documents run by id
(``extensions.persistedQuery.sha256Hash``), by ``documentId`` and by identical text, over POST, GET, batches and
the multipart upload; anything else is ``DOCUMENT_NOT_TRUSTED`` before it is parsed (an unparsable or a huge
document gets that answer, not a syntax error nor a busy one, and leaves the document cache and the budget of
new documents as they were), with no upstream call. A gateway with a malformed manifest, or with
``trusted_documents_only`` and no manifest, does not start, and says why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN, OTHER_TOKEN
from tests.persisted.harness import (
    GRAPHQL_RESPONSE,
    codes,
    data_of,
    get,
    hash_only_params,
    metric,
    outcomes,
    post,
    reference,
    relay_id,
    sha,
    typename_document,
    write_apollo_manifest,
    write_relay_manifest,
)
from tests.servers import GatewayProcess, SandboxProcess, gateway_process
from tests.voucherify_writes.client import IMPORT, PREFLIGHT, SERVER_KEYS, Transcript, operations, upload

TYPENAME = "query TrustedTypename { __typename }"
CUSTOMERS = "query TrustedCustomers($first: Int!) { customers(first: $first) { totalCount nodes { id } } }"
BUDGET_PROBE = "query BudgetProbe { customers(first: 1) { totalCount } }"  # sent by one test only, once per gateway
DOCUMENTS = [TYPENAME, CUSTOMERS, BUDGET_PROBE, IMPORT]
NEW_DOCUMENT_BURST_BYTES = 16 * 1024  # a budget for the manifest's few documents, and little more
IMPORT_ROUTE = "POST /v1/customers/importCSV"
NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"


@dataclass
class Trusted:
    gateway: GatewayProcess
    id_of: Callable[[str], str]  # a document's id in the manifest the gateway was given


@pytest.fixture(scope="module", params=["apollo", "relay"])
def trusted(
    request: pytest.FixtureRequest,
    sandbox_server: SandboxProcess,
    voucherify_server: SandboxProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Trusted]:
    directory = tmp_path_factory.mktemp(f"trusted-{request.param}")
    if request.param == "apollo":
        manifest, id_of = write_apollo_manifest(directory / "manifest.json", DOCUMENTS), sha
    else:
        manifest, id_of = write_relay_manifest(directory / "persisted_queries.json", DOCUMENTS), relay_id
    env = {
        "GATEWAY_TRUSTED_DOCUMENTS": str(manifest),
        "GATEWAY_TRUSTED_DOCUMENTS_ONLY": "true",
        "GATEWAY_NEW_DOCUMENT_BURST_BYTES": str(NEW_DOCUMENT_BURST_BYTES),
        "GATEWAY_NEW_DOCUMENT_BYTES_PER_S": "1",
    }
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as server:
        yield Trusted(server, id_of)


def refused(response: httpx.Response) -> bool:
    """Whether the answer is the refusal of an untrusted document (as ``application/json`` has it: 200)."""
    body = response.json()
    return response.status_code == 200 and "data" not in body and codes(body) == [NOT_TRUSTED]


def calls(sandbox: SandboxProcess, before: dict[str, int]) -> dict[str, int]:
    now = sandbox.stats()
    return {route: count - before.get(route, 0) for route, count in now.items() if count != before.get(route, 0)}


def document_cache(gateway: GatewayProcess) -> tuple[float, float]:
    return metric(gateway, "gateway_document_cache_entries"), metric(gateway, "gateway_document_cache_bytes")


# The manifest's documents run ----------------------------------------------------------------------------------


def test_the_manifests_documents_run_by_id_by_document_id_and_by_identical_text(trusted: Trusted) -> None:
    gateway, id_of = trusted.gateway, trusted.id_of
    first = {"first": 2}
    expected = data_of(post(gateway, {"query": CUSTOMERS, "variables": first}, DEMO_TOKEN))
    assert len(expected["customers"]["nodes"]) == 2
    for body in (
        {"extensions": reference(id_of(CUSTOMERS)), "variables": first},
        {"extensions": reference(sha(CUSTOMERS)), "variables": first},
        {"query": CUSTOMERS, "extensions": reference(id_of(CUSTOMERS)), "variables": first},
        {"query": CUSTOMERS, "extensions": reference(sha(CUSTOMERS)), "variables": first},
        {"documentId": id_of(CUSTOMERS), "variables": first},
    ):
        assert data_of(post(gateway, body, DEMO_TOKEN)) == expected, body
    variables = json.dumps(first)
    for params in (
        {"documentId": id_of(CUSTOMERS), "variables": variables},
        {**hash_only_params(id_of(CUSTOMERS)), "variables": variables},
        {"query": CUSTOMERS, "variables": variables},
    ):
        assert data_of(get(gateway, params, DEMO_TOKEN)) == expected, params
    # Any caller: the manifest is the deployment's, not a caller's.
    assert data_of(post(gateway, {"documentId": id_of(TYPENAME)}, None)) == {"__typename": "Query"}
    assert data_of(post(gateway, {"documentId": id_of(TYPENAME)}, OTHER_TOKEN)) == {"__typename": "Query"}


def test_a_batch_of_trusted_documents_runs_and_an_untrusted_one_is_refused_in_its_place(
    trusted: Trusted, sandbox: SandboxProcess
) -> None:
    gateway, id_of = trusted.gateway, trusted.id_of
    batch = [
        {"documentId": id_of(TYPENAME)},
        {"query": "query Mine { __typename }"},
        {"extensions": reference(id_of(CUSTOMERS)), "variables": {"first": 1}},
        {"query": "{ customers(first: 1) { totalCount } }"},
        {"query": TYPENAME},
    ]
    before = sandbox.stats()
    answers = post(gateway, batch, DEMO_TOKEN).json()
    assert answers[0]["data"] == {"__typename": "Query"}
    assert codes(answers[1]) == [NOT_TRUSTED]
    assert answers[2]["data"]["customers"]["totalCount"] > 0
    assert codes(answers[3]) == [NOT_TRUSTED]
    assert answers[4]["data"] == {"__typename": "Query"}
    assert calls(sandbox, before) == {"GET /v1/customers/": 1}  # the trusted one's only


# Anything else is refused -----------------------------------------------------------------------------------


def test_ad_hoc_documents_and_unknown_ids_are_refused_without_an_upstream_call(
    trusted: Trusted, sandbox: SandboxProcess
) -> None:
    gateway = trusted.gateway
    ad_hoc = "query AdHoc { customers(first: 1) { totalCount } }"
    unknown = typename_document()
    before, counts = sandbox.stats(), outcomes(gateway)
    for body in (
        {"query": ad_hoc},
        {"query": CUSTOMERS + " ", "variables": {"first": 1}},  # the trusted text and one more byte
        {"query": CUSTOMERS.replace("nodes { id }", "nodes { id email }"), "variables": {"first": 1}},
        {"query": 'mutation { customerDelete(id: "00000000-0000-0000-0000-000000000000") { userErrors { code } } }'},
        {"query": "{ __schema { types { name } } }"},
        {"extensions": reference(sha(unknown))},
        {"extensions": reference(relay_id(unknown))},
        {"query": unknown, "extensions": reference(sha(unknown))},  # an automatic persisted query: not here
        {"query": unknown, "extensions": reference(trusted.id_of(TYPENAME))},
        {"documentId": relay_id(unknown)},
        {"documentId": sha(unknown)},
    ):
        assert refused(post(gateway, body, DEMO_TOKEN)), body
        strict = post(gateway, body, DEMO_TOKEN, accept=GRAPHQL_RESPONSE)
        assert strict.status_code == 403, (body, strict.text)
        assert codes(strict.json()) == [NOT_TRUSTED]
    for params in ({"query": ad_hoc}, hash_only_params(sha(unknown)), {"documentId": relay_id(unknown)}):
        assert refused(get(gateway, params, DEMO_TOKEN)), params
    # Sent with its hash, it was not registered: the hash alone is refused too.
    assert refused(post(gateway, {"extensions": reference(sha(unknown))}, DEMO_TOKEN))
    assert calls(sandbox, before) == {}
    assert outcomes(gateway).get("registered", 0) == counts.get("registered", 0)
    assert outcomes(gateway)["refused"] >= counts.get("refused", 0) + 26


def test_an_untrusted_document_is_refused_before_it_is_parsed_or_charged_to_the_budget(
    trusted: Trusted, sandbox: SandboxProcess
) -> None:
    """A document the budget of new documents could not take (over its burst) is answered DOCUMENT_NOT_TRUSTED,
    not "busy"; documents it could take one at a time leave it untouched; an unparsable one is not a syntax error;
    and the document cache holds none of them. The manifest's last unused document then runs: the budget had all
    the bytes it needs."""
    gateway = trusted.gateway
    cache_before = document_cache(gateway)
    before = sandbox.stats()
    hostile = [
        "query Deep {" + " a {" * 15_000 + " }" * 15_000 + " }",
        "{ " + " ".join(f"a{n}: customers(first: 100) {{ nodes {{ id }} }}" for n in range(2_000)) + " }",
        "query Unparsable { customers(first: 1) { ((((( }" + "!" * 50_000,
    ]
    hostile = [text[:95_000] for text in hostile]  # within max_body_bytes: the body is read, the document refused
    assert all(len(text) > NEW_DOCUMENT_BURST_BYTES for text in hostile)
    small = [f"query Small{n} {{ customers(first: 1) {{ totalCount }} }}" + " " * 12_000 for n in range(20)]
    for text in hostile + small:
        response = post(gateway, {"query": text}, DEMO_TOKEN)
        assert refused(response), response.text[:300]
    batch = post(gateway, [{"query": text} for text in small[:5]], DEMO_TOKEN)
    assert [codes(answer) for answer in batch.json()] == [[NOT_TRUSTED]] * 5
    assert refused(get(gateway, {"query": "query {" + " a {" * 500 + " }" * 500 + " }"}, DEMO_TOKEN))

    assert document_cache(gateway) == cache_before
    assert calls(sandbox, before) == {}
    assert data_of(post(gateway, {"query": BUDGET_PROBE}, DEMO_TOKEN))["customers"]["totalCount"] > 0


# Uploads --------------------------------------------------------------------------------------------------------


def test_an_upload_runs_only_a_trusted_import(trusted: Trusted, voucherify: SandboxProcess) -> None:
    gateway, transcript = trusted.gateway, Transcript()
    headers = {**PREFLIGHT, **SERVER_KEYS}
    csv = b"Source_id,Name\ncsv_trusted_1,Trusted Import\n"
    untrusted = IMPORT.replace("asyncAction { id type status progress }", "asyncAction { id }")
    before = voucherify.stats()
    for ops in (
        operations(untrusted),
        operations(IMPORT + " "),
        json.dumps({"query": untrusted, "variables": {"file": None}, "extensions": reference(sha(untrusted))}),
        json.dumps({"documentId": relay_id(untrusted), "variables": {"file": None}}),
    ):
        response = upload(gateway.graphql_url, csv, headers, transcript, ops=ops)
        assert response.status_code == 403, response.text
        assert "trusted_documents_only" in response.json()["errors"][0]["message"]
        assert response.headers.get("connection", "").lower() == "close"
    assert IMPORT_ROUTE not in calls(voucherify, before)

    for ops in (
        operations(IMPORT),
        json.dumps({"documentId": trusted.id_of(IMPORT), "variables": {"file": None}}),
        json.dumps({"extensions": reference(trusted.id_of(IMPORT)), "variables": {"file": None}}),
    ):
        response = upload(gateway.graphql_url, csv, headers, transcript, ops=ops)
        assert response.status_code == 200, response.text
        assert data_of(response)["voucherifyCustomersImport"]["asyncAction"]["id"].startswith("aa_")
    assert calls(voucherify, before)[IMPORT_ROUTE] == 3


# Starting -----------------------------------------------------------------------------------------------------

SECRET_DOCUMENT = "query SecretOperationOfTheFrontend { __typename }"


def _write(directory: Path, content: object) -> Path:
    path = directory / "manifest.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.mark.parametrize(
    ("content", "only", "reason"),
    [
        ('{"a": "' + SECRET_DOCUMENT, True, "is not JSON"),
        ({"a": SECRET_DOCUMENT, "b": 5}, True, "neither an Apollo persisted-query manifest nor Relay's"),
        ({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}, False, '"version": 1'),
        ({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "a"}]}, True,
         'operation 0 of the manifest needs a string "id" and a string "body"'),
        ({}, False, "lists no documents"),
        (None, True, "cannot read"),
        ("skip-manifest", True, "trusted_documents_only needs trusted_documents"),
    ],
    ids=["not-json", "relay-not-text", "apollo-version", "apollo-no-body", "empty", "missing-file", "only-no-manifest"],
)  # fmt: skip
def test_a_malformed_manifest_or_trusted_only_without_one_stops_the_start_saying_why(
    tmp_path: Path, content: object, only: bool, reason: str
) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GATEWAY_TRUSTED_DOCUMENTS_ONLY": str(only).lower()}
    if content is None:
        env["GATEWAY_TRUSTED_DOCUMENTS"] = str(tmp_path / "nowhere.json")
    elif content != "skip-manifest":
        env["GATEWAY_TRUSTED_DOCUMENTS"] = str(_write(tmp_path, content))
    nowhere = "http://127.0.0.1:9"  # never asked: the settings are read first
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "serve",
            "--port",
            "0",
            "--upstream-url",
            nowhere,
            "--voucherify-url",
            nowhere,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0, output
    assert "invalid settings" in output
    assert reason in output
    assert "SecretOperation" not in output
    assert "Traceback" not in output
    assert "listening" not in output
