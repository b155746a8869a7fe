"""Apollo's automatic persisted queries over real HTTP, as its persisted-query link speaks them, against one gateway
that keeps them in this process: a hash alone is ``PersistedQueryNotFound`` until the caller sends the document
with it, then runs by hash over POST and over GET (``Accept: */*`` gets the answer, not GraphiQL); another
caller never finds it; a hash that is not the document's, or a document that did not run, registers nothing; a
batch answers an unknown hash in its own place; a manifest beside them runs its documents by id for anyone."""

from __future__ import annotations

import json
from typing import Any

import httpx

from gateway.sandbox.seed import DEMO_READ_TOKEN, DEMO_TOKEN, OTHER_TOKEN
from tests.persisted.conftest import PUBLIC_CUSTOMERS, PUBLIC_TYPENAME
from tests.persisted.harness import (
    GRAPHQL_RESPONSE,
    codes,
    customers_document,
    data_of,
    get,
    grew,
    hash_only_params,
    outcomes,
    post,
    reference,
    relay_id,
    sha,
    typename_document,
    unique,
)
from tests.servers import GatewayProcess, SandboxProcess

CUSTOMERS_ROUTE = "GET /v1/customers/"
NOT_FOUND = {"errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]}


def hash_only(gateway: GatewayProcess, text: str, token: str | None = DEMO_TOKEN, **sent: Any) -> httpx.Response:
    return post(gateway, {"extensions": reference(sha(text))}, token, **sent)


def with_hash(
    gateway: GatewayProcess, text: str, token: str | None = DEMO_TOKEN, variables: dict[str, Any] | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"query": text, "extensions": reference(sha(text))}
    if variables is not None:
        body["variables"] = variables
    return post(gateway, body, token)


def calls(sandbox: SandboxProcess, before: dict[str, int]) -> dict[str, int]:
    now = sandbox.stats()
    return {route: count - before.get(route, 0) for route, count in now.items() if count != before.get(route, 0)}


# The protocol, over POST and GET ----------------------------------------------------------------------------


def test_a_hash_alone_is_not_found_then_the_document_registers_it_and_the_hash_alone_runs(
    apq_gateway: GatewayProcess, sandbox: SandboxProcess
) -> None:
    document = customers_document()
    before, counts = sandbox.stats(), outcomes(apq_gateway)

    missed = hash_only(apq_gateway, document)
    assert (missed.status_code, missed.json()) == (200, NOT_FOUND)  # application/json: 200, as Apollo's link reads
    assert missed.headers["content-type"].startswith("application/json")
    assert calls(sandbox, before) == {}

    first = data_of(with_hash(apq_gateway, document))
    assert first["customers"]["totalCount"] > 0
    again = data_of(hash_only(apq_gateway, document))
    assert again == first
    assert calls(sandbox, before) == {CUSTOMERS_ROUTE: 2}  # each run reads Polar; the miss read nothing
    assert grew(counts, outcomes(apq_gateway)) == {"miss": 1, "registered": 1, "hit": 1}


def test_under_graphql_response_json_a_miss_is_404_and_a_hit_is_200(apq_gateway: GatewayProcess) -> None:
    document = typename_document()
    missed = hash_only(apq_gateway, document, accept=GRAPHQL_RESPONSE)
    assert (missed.status_code, missed.json()) == (404, NOT_FOUND)
    assert missed.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert with_hash(apq_gateway, document).status_code == 200
    hit = hash_only(apq_gateway, document, accept=GRAPHQL_RESPONSE)
    assert hit.status_code == 200
    assert hit.json()["data"]["first"] == "Query"


def test_a_hash_alone_over_get_gets_the_answer_whatever_it_accepts_and_graphiql_only_a_browser_asking_for_a_page(
    apq_gateway: GatewayProcess,
) -> None:
    document = customers_document()
    missed = get(apq_gateway, hash_only_params(sha(document)), DEMO_TOKEN, accept="*/*")
    assert (missed.status_code, missed.json()) == (200, NOT_FOUND)
    expected = data_of(with_hash(apq_gateway, document))
    for accept in (
        "*/*",  # Apollo Client's GET of a hashed query
        "application/json",
        f"{GRAPHQL_RESPONSE},application/json;q=0.9",
        "text/html,application/json;q=0.9,*/*;q=0.8",  # a browser's: the hash in the URL still asks for the answer
    ):
        response = get(apq_gateway, hash_only_params(sha(document)), DEMO_TOKEN, accept=accept)
        assert response.status_code == 200, (accept, response.text)
        assert not response.headers["content-type"].startswith("text/html"), accept
        assert response.json()["data"] == expected, accept

    page = get(apq_gateway, {}, accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<!doctype html>" in page.text.lower()
    no_query = get(apq_gateway, {}, accept="*/*")  # a client's GET without a document: an answer, not a page
    assert no_query.status_code == 400
    assert no_query.headers["content-type"].startswith("application/json")
    assert "errors" in no_query.json()


def test_a_hash_alone_runs_with_the_variables_sent_beside_it(apq_gateway: GatewayProcess) -> None:
    name = unique("V")
    document = f"query {name}($first: Int!) {{ customers(first: $first) {{ nodes {{ id }} }} }}"
    assert len(data_of(with_hash(apq_gateway, document, variables={"first": 1}))["customers"]["nodes"]) == 1
    three = post(apq_gateway, {"extensions": reference(sha(document)), "variables": {"first": 3}}, DEMO_TOKEN)
    assert len(data_of(three)["customers"]["nodes"]) == 3
    params = {**hash_only_params(sha(document), name), "variables": json.dumps({"first": 2})}
    assert len(data_of(get(apq_gateway, params, DEMO_TOKEN))["customers"]["nodes"]) == 2


def test_a_registered_mutation_runs_by_hash_over_post_only(apq_gateway: GatewayProcess) -> None:
    """A hash alone over GET is still a GET: a mutation it names is refused (405), as its text would be."""
    document = (
        f"mutation {unique('M')}($id: ID!) {{ customerUpdate(id: $id, input: {{}}) {{ userErrors {{ code }} }} }}"
    )
    variables = {"id": "00000000-0000-0000-0000-000000000000"}
    assert "customerUpdate" in data_of(with_hash(apq_gateway, document, variables=variables))
    params = {**hash_only_params(sha(document)), "variables": json.dumps(variables)}
    refused = get(apq_gateway, params, DEMO_TOKEN)
    assert refused.status_code == 405
    assert refused.headers["allow"] == "POST"
    assert "customerUpdate" in data_of(post(apq_gateway, {"extensions": reference(sha(document)), "variables": variables},
                                        DEMO_TOKEN))  # fmt: skip


# Per caller ---------------------------------------------------------------------------------------------------


def test_a_hash_is_found_only_by_the_credential_that_registered_it(
    apq_gateway: GatewayProcess, sandbox: SandboxProcess
) -> None:
    document = customers_document()
    demo = data_of(with_hash(apq_gateway, document, DEMO_TOKEN))
    before = sandbox.stats()
    for token in (OTHER_TOKEN, DEMO_READ_TOKEN, "polar_oat_made_up_0123456789", None):
        assert hash_only(apq_gateway, document, token).json() == NOT_FOUND, token
        response = get(apq_gateway, hash_only_params(sha(document)), token)
        assert response.json() == NOT_FOUND, token
    assert calls(sandbox, before) == {}
    assert data_of(hash_only(apq_gateway, document, DEMO_TOKEN)) == demo

    # The other organization registers the same document: it runs with its own token, on its own customers.
    other = data_of(with_hash(apq_gateway, document, OTHER_TOKEN))
    assert other != demo
    assert data_of(hash_only(apq_gateway, document, OTHER_TOKEN)) == other
    assert data_of(hash_only(apq_gateway, document, DEMO_TOKEN)) == demo


def test_voucherify_keys_are_a_caller_of_their_own(apq_gateway: GatewayProcess) -> None:
    document = typename_document()
    keys = {"X-Voucherify-App-Id": "vf_sandbox_app", "X-Voucherify-App-Token": "vf_sandbox_secret"}
    assert data_of(post(apq_gateway, {"query": document, "extensions": reference(sha(document))}, headers=keys))
    assert data_of(hash_only(apq_gateway, document, None, headers=keys))
    assert hash_only(apq_gateway, document, None).json() == NOT_FOUND
    other_keys = {**keys, "X-Voucherify-App-Token": "vf_sandbox_other_secret"}
    assert hash_only(apq_gateway, document, None, headers=other_keys).json() == NOT_FOUND
    assert hash_only(apq_gateway, document, DEMO_TOKEN, headers=keys).json() == NOT_FOUND  # another combination


# What registers nothing ---------------------------------------------------------------------------------------


def test_a_hash_that_is_not_the_documents_is_refused_and_nothing_is_registered(
    apq_gateway: GatewayProcess, sandbox: SandboxProcess
) -> None:
    document, other = customers_document(), customers_document()
    before, counts = sandbox.stats(), outcomes(apq_gateway)
    body = {"query": document, "extensions": reference(sha(other))}
    refused = post(apq_gateway, body, DEMO_TOKEN)
    assert refused.status_code == 200
    assert "data" not in refused.json()
    assert codes(refused.json()) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert post(apq_gateway, body, DEMO_TOKEN, accept=GRAPHQL_RESPONSE).status_code == 400
    assert calls(sandbox, before) == {}
    for text in (document, other):
        assert hash_only(apq_gateway, text).json() == NOT_FOUND
    assert grew(counts, outcomes(apq_gateway)) == {"refused": 2, "miss": 2}


def test_an_invalid_document_sent_with_its_hash_leaves_the_hash_unknown(apq_gateway: GatewayProcess) -> None:
    for document in (
        f"query {unique('Broken')} {{ customers(first: 1) {{ ",
        f"query {unique('Unknown')} {{ customers(first: 1) {{ noSuchField }} }}",
        f'query {unique("BadArgument")} {{ customers(first: "two") {{ totalCount }} }}',
    ):
        sent = with_hash(apq_gateway, document)
        assert sent.status_code == 200
        assert "data" not in sent.json(), sent.text
        assert sent.json()["errors"], sent.text
        assert hash_only(apq_gateway, document).json() == NOT_FOUND, document


def test_a_valid_document_with_wrong_variables_is_not_registered_until_it_runs(apq_gateway: GatewayProcess) -> None:
    document = f"query {unique('Vars')}($first: Int!) {{ customers(first: $first) {{ totalCount }} }}"
    assert "data" not in with_hash(apq_gateway, document, variables={"first": "two"}).json()
    assert hash_only(apq_gateway, document).json() == NOT_FOUND
    assert data_of(with_hash(apq_gateway, document, variables={"first": 1}))
    assert data_of(post(apq_gateway, {"extensions": reference(sha(document)), "variables": {"first": 1}}, DEMO_TOKEN))


def test_a_document_that_ran_with_credentials_no_upstream_accepted_is_not_registered(
    apq_gateway: GatewayProcess, sandbox: SandboxProcess
) -> None:
    """Registering is for callers an upstream accepted lately: without a token (Polar's fields UNAUTHENTICATED,
    with no upstream call) or with a made-up one (Polar's 401), the document runs and nothing is kept, so that
    strangers cannot push real callers' registrations out of the store."""
    for token in (None, "polar_oat_made_up_0123456789abcdef"):
        document = customers_document()
        counts = outcomes(apq_gateway)
        first = with_hash(apq_gateway, document, token)
        assert codes(first.json()) == ["UNAUTHENTICATED"]
        assert hash_only(apq_gateway, document, token).json() == NOT_FOUND
        assert grew(counts, outcomes(apq_gateway)) == {"unproven": 1.0, "miss": 1.0}


def test_a_document_that_ran_into_field_errors_is_registered_for_a_proven_caller(apq_gateway: GatewayProcess) -> None:
    """What ran is registered, whatever its fields answered."""
    document = f"query {unique('E')} {{ customers(first: 1) {{ totalCount }} customerPortal {{ customer {{ id }} }} }}"
    first = with_hash(apq_gateway, document, DEMO_TOKEN)
    assert codes(first.json()) == ["FORBIDDEN"]  # the portal needs a customer session token
    assert first.json()["data"]["customers"]["totalCount"] > 0
    assert hash_only(apq_gateway, document, DEMO_TOKEN).json() == first.json()


# Batches ---------------------------------------------------------------------------------------------------


def test_a_batch_answers_an_unknown_hash_in_its_place_and_runs_the_others(apq_gateway: GatewayProcess) -> None:
    known, unknown, plain, registering = (typename_document() for _ in range(4))
    data_of(with_hash(apq_gateway, known))
    batch = [
        {"extensions": reference(sha(known))},
        {"extensions": reference(sha(unknown))},
        {"query": plain},
        {"query": registering, "extensions": reference(sha(registering))},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(plain)}}, "query": plain + " "},
    ]
    response = post(apq_gateway, batch, DEMO_TOKEN)
    assert response.status_code == 200, response.text
    answers = response.json()
    assert len(answers) == 5
    assert answers[0]["data"]["first"] == "Query"
    assert answers[1] == NOT_FOUND
    assert answers[2]["data"]["first"] == "Query"
    assert answers[3]["data"]["first"] == "Query"
    assert codes(answers[4]) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert "data" not in answers[4]
    # The batch registered its fourth document, and only that one.
    assert data_of(hash_only(apq_gateway, registering))["first"] == "Query"
    assert hash_only(apq_gateway, unknown).json() == NOT_FOUND
    assert hash_only(apq_gateway, plain).json() == NOT_FOUND


def test_a_malformed_reference_in_a_batch_fails_its_own_place(apq_gateway: GatewayProcess) -> None:
    document = typename_document()
    batch = [{"query": document}, {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha(document)}}}]
    answers = post(apq_gateway, batch, DEMO_TOKEN).json()
    assert answers[0]["data"]["first"] == "Query"
    assert codes(answers[1]) == ["BAD_PERSISTED_QUERY"]


# Malformed references ------------------------------------------------------------------------------------------


def test_a_malformed_reference_is_a_400_whatever_the_client_accepts(apq_gateway: GatewayProcess) -> None:
    document = typename_document()
    for extensions in (
        {"persistedQuery": {"version": 2, "sha256Hash": sha(document)}},
        {"persistedQuery": {"version": 1, "sha256Hash": 12}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not a hash"}},
        {"persistedQuery": "hash"},
    ):
        for accept in ("application/json", GRAPHQL_RESPONSE):
            response = post(apq_gateway, {"query": document, "extensions": extensions}, DEMO_TOKEN, accept=accept)
            assert response.status_code == 400, (extensions, accept, response.text)
            assert codes(response.json()) == ["BAD_PERSISTED_QUERY"]
    shaped = post(apq_gateway, {"query": document, "extensions": "persistedQuery"}, DEMO_TOKEN)
    assert shaped.status_code == 400  # not an object: the request's shape is wrong before anything else


# The manifest beside automatic persisted queries --------------------------------------------------------------


def test_the_manifests_documents_run_by_id_for_any_caller_and_other_documents_still_run(
    apq_gateway: GatewayProcess,
) -> None:
    for token in (DEMO_TOKEN, OTHER_TOKEN, None):
        by_relay_id = post(apq_gateway, {"documentId": relay_id(PUBLIC_TYPENAME)}, token)
        assert data_of(by_relay_id) == {"__typename": "Query"}
        by_digest = post(apq_gateway, {"extensions": reference(sha(PUBLIC_TYPENAME))}, token)
        assert data_of(by_digest) == {"__typename": "Query"}
        by_get = get(apq_gateway, {"documentId": relay_id(PUBLIC_TYPENAME)}, token)
        assert data_of(by_get) == {"__typename": "Query"}
    assert data_of(post(apq_gateway, {"documentId": relay_id(PUBLIC_CUSTOMERS)}, DEMO_TOKEN))["customers"]["totalCount"]
    assert data_of(post(apq_gateway, {"query": typename_document()}, DEMO_TOKEN))
    unknown = post(apq_gateway, {"documentId": relay_id(typename_document())}, DEMO_TOKEN)
    assert codes(unknown.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
