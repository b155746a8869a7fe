"""What the persisted-documents tests share: Apollo's protocol spelled out (a hash in ``extensions.persistedQuery``,
with or without the document), GraphQL over HTTP to one gateway with a caller's token, distinct documents of a
chosen size, samples of ``/metrics``, and manifests in both formats written to files."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Any

import httpx

from gateway.sandbox.seed import DEMO_TOKEN
from tests.servers import GatewayProcess, SandboxProcess

GRAPHQL_RESPONSE = "application/graphql-response+json"
_numbers = itertools.count(1)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def reference(digest: str) -> dict[str, Any]:
    """``extensions`` as Apollo's persisted-query link sends it."""
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def unique(prefix: str = "u") -> str:
    """A name no other document of the session has (each test's documents are new to every gateway)."""
    return f"{prefix}{next(_numbers)}"


def typename_document(size: int = 0, name: str | None = None) -> str:
    """A distinct valid document that needs no token and no upstream (``__typename``), of at least ``size``
    characters: padded with a comment, which costs no token of the parser's limit and no alias of the gateway's."""
    text = f"query {name or unique('T')} {{ first: __typename }}"
    return text if len(text) >= size else text + "\n# " + "x" * (size - len(text) - 3)


def customers_document(name: str | None = None) -> str:
    """A distinct document that reads Polar (one upstream call with a valid token)."""
    return f"query {name or unique('C')} {{ customers(first: 2) {{ totalCount nodes {{ id }} }} }}"


# Registrations need credentials an upstream accepted lately (``token_trust_s``): the gateways of these tests
# remember that for an hour, and ``proven`` has both demo credentials accepted once, at start.
TRUST_ENV = {"GATEWAY_TOKEN_TRUST_S": "3600"}
DEMO_VOUCHERIFY_KEYS = {"X-Voucherify-App-Id": "vf_sandbox_app", "X-Voucherify-App-Token": "vf_sandbox_secret"}


def proven(gateway: GatewayProcess, polar: SandboxProcess, voucherify: SandboxProcess) -> GatewayProcess:
    """The gateway, once Polar has accepted the demo token and Voucherify the demo keys through it (on the
    sandboxes reset first: an earlier module's test may have left faults on them)."""
    polar.reset()
    voucherify.reset()
    billing = post(gateway, {"query": "{ customers(first: 1) { totalCount } }"}, DEMO_TOKEN)
    assert "errors" not in billing.json(), billing.text
    loyalty = post(gateway, {"query": "{ voucherifyCustomers(first: 1) { totalCount } }"},
                   headers=DEMO_VOUCHERIFY_KEYS)  # fmt: skip
    assert "errors" not in loyalty.json(), loyalty.text
    return gateway


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def post(
    gateway: GatewayProcess,
    body: object,
    token: str | None = None,
    accept: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {**auth(token), **(headers or {})}
    if accept is not None:
        sent["Accept"] = accept
    return httpx.post(gateway.graphql_url, content=json.dumps(body), headers={"Content-Type": "application/json",
                      **sent}, timeout=30)  # fmt: skip


def get(
    gateway: GatewayProcess, params: dict[str, str], token: str | None = None, accept: str = "*/*"
) -> httpx.Response:
    return httpx.get(gateway.graphql_url, params=params, headers={**auth(token), "Accept": accept}, timeout=30)


def data_of(response: httpx.Response) -> dict[str, Any]:
    """The data of a response that must have run without errors."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def hash_only_params(digest: str, operation_name: str | None = None) -> dict[str, str]:
    """A GET as Apollo's link sends it with ``useGETForHashedQueries``: the hash alone, in the query string."""
    params = {"extensions": json.dumps(reference(digest))}
    if operation_name is not None:
        params["operationName"] = operation_name
    return params


def codes(body: dict[str, Any]) -> list[str | None]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


def metrics(gateway: GatewayProcess) -> str:
    response = httpx.get(f"{gateway.url}/metrics", timeout=10)
    response.raise_for_status()
    return response.text


def metric(gateway: GatewayProcess, name: str, labels: str = "") -> float:
    """One sample of ``/metrics`` (0 when absent), such as ``gateway_persisted_queries_total`` with
    ``outcome="hit"``."""
    selector = re.escape(name + (f"{{{labels}}}" if labels else ""))
    found = re.search(rf"^{selector} (\S+)$", metrics(gateway), re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def outcomes(gateway: GatewayProcess) -> dict[str, float]:
    """``gateway_persisted_queries_total`` by outcome."""
    found = re.findall(r'^gateway_persisted_queries_total\{outcome="(\w+)"\} (\S+)$', metrics(gateway), re.MULTILINE)
    return {outcome: float(value) for outcome, value in found}


def grew(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: after[key] - before.get(key, 0.0) for key in after if after[key] != before.get(key, 0.0)}


def write_apollo_manifest(path: Path, documents: list[str]) -> Path:
    """As ``@apollo/generate-persisted-query-manifest`` writes it: each operation's id is its body's SHA-256."""
    operations = [
        {"id": sha(text), "name": text.split()[1], "type": text.split()[0], "body": text} for text in documents
    ]
    path.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}))
    return path


def relay_id(text: str) -> str:
    """Relay's compiler names a document by the md5 of its text (``persistConfig``'s default)."""
    return hashlib.md5(text.encode()).hexdigest()


def write_relay_manifest(path: Path, documents: list[str]) -> Path:
    path.write_text(json.dumps({relay_id(text): text for text in documents}))
    return path
