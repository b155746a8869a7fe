"""Helpers for the write side of Voucherify through the gateway: a GraphQL client that sends the Voucherify key
headers, a client straight to the sandbox (server keys) to read back what a mutation did, multipart uploads
(over httpx and over a bare socket) and a transcript of every answer, checked for secrets after each test."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.sandbox.voucherify.seed import (
    DEMO_APP_ID,
    DEMO_APP_TOKEN,
    DEMO_CLIENT_APP_ID,
    DEMO_CLIENT_TOKEN,
    OTHER_APP_TOKEN,
    OTHER_CLIENT_TOKEN,
)
from tests import raw_http
from tests.servers import GatewayProcess, SandboxProcess

GRAPHQL_RESPONSE = "application/graphql-response+json"
ALLOWED_ORIGIN = "http://localhost:5173"
SERVER_KEYS = {"X-Voucherify-App-Id": DEMO_APP_ID, "X-Voucherify-App-Token": DEMO_APP_TOKEN}
CLIENT_KEYS = {
    "X-Voucherify-Client-Id": DEMO_CLIENT_APP_ID,
    "X-Voucherify-Client-Token": DEMO_CLIENT_TOKEN,
    "Origin": ALLOWED_ORIGIN,
}
NO_KEYS: dict[str, str] = {}
SECRETS = (DEMO_APP_TOKEN, OTHER_APP_TOKEN, DEMO_CLIENT_TOKEN, OTHER_CLIENT_TOKEN)
PREFLIGHT = {"Apollo-Require-Preflight": "true"}

IMPORT = (
    "mutation($file: Upload!) { voucherifyCustomersImport(file: $file) {"
    " asyncAction { id type status progress } userErrors { field message code } } }"
)
ASYNC_ACTION = (
    "query($id: ID!, $wait: Float) { voucherifyAsyncAction(id: $id, waitSeconds: $wait) {"
    " id type status operationStatus progress result } }"
)


@dataclass
class Transcript:
    """Every answer the tests saw (status line, headers, body) and the gateways they talked to."""

    answers: list[str] = field(default_factory=list)
    gateways: list[GatewayProcess] = field(default_factory=list)

    def record(self, response: httpx.Response) -> None:
        headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
        self.answers.append(f"{response.status_code}\n{headers}\n\n{response.text}")

    def record_raw(self, data: bytes) -> None:
        self.answers.append(data.decode("latin-1"))

    def leaks(self) -> list[str]:
        """Answers and gateway log lines that hold a Voucherify secret or client token."""
        lines = [line for gateway in self.gateways for line in list(gateway.output)]
        return [text[:300] for text in [*self.answers, *lines] if any(secret in text for secret in SECRETS)]


class VoucherifyGraphQL:
    """GraphQL over POST to one gateway, with the Voucherify key headers (server keys unless told)."""

    def __init__(self, url: str, sandbox: SandboxProcess, transcript: Transcript,
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
        self.url = url
        self.sandbox = sandbox
        self.transcript = transcript
        self.headers = SERVER_KEYS if headers is None else headers
        self.http = httpx.Client(timeout=30)

    def post(self, query: str, variables: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
        sent = {"Accept": GRAPHQL_RESPONSE, "Content-Type": "application/json",
                **(self.headers if headers is None else headers)}  # fmt: skip
        body = json.dumps({"query": query, "variables": variables or {}})
        response = self.http.post(self.url, content=body, headers=sent)
        self.transcript.record(response)
        return response

    def execute(self, query: str, variables: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        response = self.post(query, variables, headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        body = self.execute(query, variables, headers)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def calls(self) -> dict[str, int]:
        return self.sandbox.stats()

    def calls_since(self, before: dict[str, int]) -> dict[str, int]:
        now = self.sandbox.stats()
        return {route: count - before.get(route, 0) for route, count in now.items() if count != before.get(route, 0)}

    def close(self) -> None:
        self.http.close()


class Upstream:
    """The Voucherify sandbox read directly with server keys: what the gateway's writes left there."""

    def __init__(self, sandbox: SandboxProcess) -> None:
        self.http = httpx.Client(base_url=sandbox.url, headers={"X-App-Id": DEMO_APP_ID,
                                 "X-App-Token": DEMO_APP_TOKEN}, timeout=10)  # fmt: skip

    def customer(self, key: str) -> dict[str, Any] | None:
        response = self.http.get(f"/v1/customers/{key}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def must(self, key: str) -> dict[str, Any]:
        found = self.customer(key)
        assert found is not None, f"no customer {key} upstream"
        return found

    def total(self) -> int:
        response = self.http.get("/v1/customers", params={"limit": 1})
        response.raise_for_status()
        total: int = response.json()["total"]
        return total

    def first_customers(self, count: int) -> list[dict[str, Any]]:
        response = self.http.get("/v1/customers", params={"limit": count})
        response.raise_for_status()
        customers: list[dict[str, Any]] = response.json()["customers"]
        return customers

    def create(self, **body: Any) -> dict[str, Any]:
        response = self.http.post("/v1/customers", json=body)
        response.raise_for_status()
        created: dict[str, Any] = response.json()
        return created

    def get(self, path: str) -> dict[str, Any]:
        response = self.http.get(path)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def close(self) -> None:
        self.http.close()


def set_faults(sandbox: SandboxProcess, **faults: Any) -> None:
    with sandbox.control() as control:
        control.post("/__sandbox/faults", json=faults).raise_for_status()


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


# Uploads ------------------------------------------------------------------------------------------


def operations(query: str = IMPORT, variables: dict[str, Any] | None = None) -> str:
    return json.dumps({"query": query, "variables": {"file": None} if variables is None else variables})


def upload(url: str, content: bytes, headers: dict[str, str], transcript: Transcript, *,
           ops: str | None = None, name: str = "customers.csv") -> httpx.Response:  # fmt: skip
    """A GraphQL multipart request (one file, mapped to ``variables.file``) over a real socket."""
    with httpx.Client(timeout=30) as client:
        response = client.post(
            url,
            data={"operations": ops or operations(), "map": json.dumps({"0": ["variables.file"]})},
            files={"0": (name, content, "text/csv")},
            headers=headers,
        )
    transcript.record(response)
    return response


BOUNDARY = "vfwritesboundary"


def multipart_body(content: bytes, ops: str | None = None) -> bytes:
    """The bytes of a GraphQL multipart request with one file, for a bare socket."""
    parts = [
        ("operations", None, (ops or operations()).encode()),
        ("map", None, json.dumps({"0": ["variables.file"]}).encode()),
        ("0", "customers.csv", content),
    ]
    body = b""
    for name, filename, value in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        body += b"Content-Type: text/csv\r\n" if filename else b""
        body += b"\r\n" + value + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def multipart_head(headers: dict[str, str], length: int | None) -> bytes:
    """The head of a multipart POST to /graphql; ``length`` None: chunked instead of a Content-Length."""
    sent: list[tuple[str, bytes]] = [("Content-Type", f"multipart/form-data; boundary={BOUNDARY}".encode())]
    sent += [(name, value.encode()) for name, value in headers.items()]
    sent.append(("Content-Length", str(length).encode()) if length is not None else ("Transfer-Encoding", b"chunked"))
    return raw_http.request("POST", "/graphql", sent)


def answer_within(
    connection: socket.socket, seconds: float, transcript: Transcript
) -> tuple[raw_http.RawResponse, float]:
    """The response on ``connection`` and how long it took to come."""
    started = time.monotonic()
    response = raw_http.read_response(connection, timeout=seconds)
    transcript.record_raw(response.raw + response.body)
    return response, time.monotonic() - started


def error_message(body: bytes) -> str:
    message: str = json.loads(body)["errors"][0]["message"]
    return message
