"""Validation of real Voucherify sandbox answers against Voucherify's OpenAPI extract (openapi-core), and of
error bodies the extract does not list against its ``Error`` schema's required keys."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.sandbox.openapi import CONTRACTS, _Request, _Response

VENDORED = CONTRACTS / "voucherify-customers.openapi.json"
VOUCHERIFY_HOST = "https://api.voucherify.io"
REQUEST_ID = re.compile(r"^v-[0-9a-f]{18}$")


@cache
def voucherify_openapi() -> OpenAPI:
    return OpenAPI.from_dict(json.loads(VENDORED.read_text()))


def validate(response: httpx.Response) -> None:
    """Raises when the answer does not match the document's response for its operation and status."""
    request = response.request
    request.read()  # a multipart upload is a stream until read
    adapted_request = _Request(
        method=request.method.lower(),
        path=request.url.path,
        body=request.content or None,
        content_type=request.headers.get("content-type", ""),
        host_url=VOUCHERIFY_HOST,
        parameters=RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
        ),
    )
    adapted_response = _Response(
        status_code=response.status_code,
        data=response.content,
        content_type=response.headers.get("content-type", ""),
        headers=Headers(list(response.headers.items())),
    )
    voucherify_openapi().validate_response(adapted_request, adapted_response)  # type: ignore[arg-type]


def error_body(response: httpx.Response, status: int, key: str) -> dict[str, Any]:
    """The standard error body (section 5 of the contract), checked, for statuses the extract leaves out."""
    assert response.status_code == status
    body: dict[str, Any] = response.json()
    assert body["code"] == status
    assert body["key"] == key
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["details"], str)
    assert body["details"]
    assert REQUEST_ID.match(body["request_id"])
    return body


RESULT_SCHEMAS = {
    "CUSTOMERS.BULK_UPDATE": "AsyncActionResultCustomersBulkUpdateResponseBody",
    "CUSTOMERS.METADATA_UPDATE": "AsyncActionResultCustomersMetadataUpdateResponseBody",
    "CUSTOMERS.IMPORT_CSV": "17_res_obj_get_async_action_result_customers_import_csv",
}


def validate_async_action(response: httpx.Response) -> None:
    """``GET /v1/async-actions/{id}``: the document's ``result`` is a oneOf of ~20 result schemas, most with only
    optional keys, so any result matches several and fails. The envelope is validated without ``result``, and
    ``result`` against the schema its ``type`` names."""
    body = response.json()
    result = body.pop("result", None)
    envelope = httpx.Response(response.status_code, headers=response.headers, json=body, request=response.request)
    validate(envelope)
    if result is not None:
        document = json.loads(VENDORED.read_text())
        schema = {"$ref": f"#/components/schemas/{RESULT_SCHEMAS[body['type']]}", "components": document["components"]}
        OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER).validate(result)
