"""A small GraphQL-over-HTTP client for the tests, plus the sandbox's request counts."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.servers import SandboxProcess

GRAPHQL_RESPONSE = "application/graphql-response+json"


class GraphQL:
    def __init__(self, url: str, token: str | None, sandbox: SandboxProcess) -> None:
        self.url = url
        self.token = token
        self.sandbox = sandbox
        self.http = httpx.Client(timeout=30)

    def post(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = "") -> httpx.Response:
        use = self.token if token == "" else token
        headers = {"Accept": GRAPHQL_RESPONSE}
        if use is not None:
            headers["Authorization"] = f"Bearer {use}"
        body = json.dumps({"query": query, "variables": variables or {}}, separators=(",", ":"))
        headers["Content-Type"] = "application/json"
        return self.http.post(self.url, content=body, headers=headers)

    def execute(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = "") -> dict[str, Any]:
        """The whole response body (``data`` and maybe ``errors``) of a request that was executed."""
        response = self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = "") -> dict[str, Any]:
        """``data`` of a request that must succeed without any error."""
        body = self.execute(query, variables, token=token)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def upstream_calls(self) -> dict[str, int]:
        """Requests the sandbox received since the last reset, by route."""
        return self.sandbox.stats()

    def reset_sandbox(self) -> None:
        """Seed data back and counts zeroed."""
        with self.sandbox.control() as control:
            control.post("/__sandbox/reset").raise_for_status()

    def calls_since(self, before: dict[str, int]) -> dict[str, int]:
        """Upstream requests made since ``before`` was read, by route; data untouched."""
        now = self.upstream_calls()
        return {route: count - before.get(route, 0) for route, count in now.items() if count != before.get(route, 0)}

    def close(self) -> None:
        self.http.close()


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
