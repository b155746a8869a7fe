"""Validation of real sandbox answers against Polar's own OpenAPI document (openapi-core)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

CONTRACTS = Path(__file__).parents[2] / "docs" / "upstream"  # the vendors' contracts, vendored
SHARED_CONTRACTS = Path(__file__).parents[3] / "shared" / "upstream"  # the team's copy, beside a checkout
VENDORED = CONTRACTS / "polar-customers.openapi.json"
POLAR_HOST = "https://sandbox-api.polar.sh"


@cache
def polar_openapi() -> OpenAPI:
    return OpenAPI.from_dict(json.loads(VENDORED.read_text()))


@dataclass
class _Request:
    method: str
    path: str
    body: bytes | None
    content_type: str
    host_url: str = POLAR_HOST
    parameters: RequestParameters = field(default_factory=RequestParameters)


@dataclass
class _Response:
    status_code: int
    data: bytes | str
    content_type: str
    headers: Headers


def validate(response: httpx.Response) -> None:
    """Raises when the answer does not match the document's response for its operation and status."""
    request = response.request
    adapted_request = _Request(
        method=request.method.lower(),
        path=request.url.path,
        body=request.content or None,
        content_type=request.headers.get("content-type", ""),
        parameters=RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
        ),
    )
    adapted_response = _Response(
        status_code=response.status_code,
        # openapi-core leaves non-JSON bodies undecoded; the document types text/csv as a string.
        data=response.text if response.headers.get("content-type", "").startswith("text/") else response.content,
        content_type=response.headers.get("content-type", ""),
        headers=Headers(list(response.headers.items())),
    )
    polar_openapi().validate_response(adapted_request, adapted_response)  # type: ignore[arg-type]
