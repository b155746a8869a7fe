"""Voucherify's refusals read as problems (``gateway.upstream.voucherify_wire``) and problems as userErrors on the
GraphQL input path: the property a 400's ``details`` names, the kinds, the 413 of a shape of its own, bodies
that are not the standard one, the wait a 429 asks for, and the route templates of metrics (no customer ids).

Through GraphQL, the gateway's input types and checks keep almost every body the sandbox would refuse from
being sent (tests/voucherify_writes has the ones that can be), so the path mapping is tested here."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from multidict import CIMultiDict

from gateway.graphql.errors import UserErrorCode, user_errors_of
from gateway.http.voucherify_keys import voucherify_credentials
from gateway.upstream.errors import UpstreamValidation
from gateway.upstream.problems import Problem, ProblemKind
from gateway.upstream.voucherify_wire import VOUCHERIFY, VoucherifyKeys, problem_of


def refusal(status: int, **kwargs: Any) -> UpstreamValidation | None:
    found = VOUCHERIFY.refusal(httpx.Response(status, **kwargs))
    assert found is None or isinstance(found, UpstreamValidation)
    return found


@pytest.mark.parametrize(("details", "path"), [
    ("Property .name must be string", ("name",)),
    ("Property .address.city must be string", ("address", "city")),
    ("Property .address must be an object of strings", ("address",)),
    ("Property .metadata.favorite_brand must be string", ("metadata", "favorite_brand")),
    ("property birthdate must be a date (YYYY-MM-DD)", ("birthdate",)),
    ("Property .source_ids must be a non-empty array of strings", ("source_ids",)),
    ("The payload cannot be empty", ()),
    ("The file must start with a header line", ()),
])  # fmt: skip
def test_the_property_details_name_is_the_path(details: str, path: tuple[str, ...]) -> None:
    body = {"code": 400, "key": "invalid_payload", "message": "Invalid payload", "details": details}
    problem = problem_of(body)
    assert problem.path == path
    assert problem.kind is ProblemKind.INVALID
    assert problem.message == details


def test_without_details_the_message_is_read() -> None:
    problem = problem_of({"code": 400, "key": "invalid_customer", "message": "Property .email is not an email"})
    assert (problem.path, problem.message) == (("email",), "Property .email is not an email")


def test_duplicate_found_is_taken() -> None:
    body = {
        "code": 409,
        "key": "duplicate_found",
        "message": "Duplicate resource key",
        "details": "Property .source_id",
    }
    assert problem_of(body).kind is ProblemKind.TAKEN


@pytest.mark.parametrize("body", [{}, {"code": 400}, {"details": "", "message": ""}, {"details": 3, "message": None}])
def test_a_body_that_says_nothing_is_a_plain_refusal(body: dict[str, object]) -> None:
    problem = problem_of(body)
    assert (problem.path, problem.kind, problem.message) == ((), ProblemKind.INVALID, "Voucherify refused the input.")


def test_a_400_is_a_validation_with_one_problem() -> None:
    body = {
        "code": 400,
        "key": "invalid_payload",
        "message": "Invalid payload",
        "details": "Property .phone must be string",
    }
    found = refusal(400, json=body)
    assert found is not None
    assert [(p.path, p.kind) for p in found.problems] == [(("phone",), ProblemKind.INVALID)]


@pytest.mark.parametrize("content", [b"Injected fault 400", b"[1, 2]", b"", b"<html>Bad Request</html>"])
def test_a_400_whose_body_is_not_the_standard_one_is_still_a_refusal(content: bytes) -> None:
    found = refusal(400, content=content)
    assert found is not None
    assert [(p.path, p.message) for p in found.problems] == [((), "Voucherify refused the input.")]


def test_a_413_in_its_own_shape_is_too_long() -> None:
    body = {"statusCode": 413, "error": "Request Entity Too Large",
            "message": "Payload content length greater than maximum allowed: 10485760"}  # fmt: skip
    found = refusal(413, json=body)
    assert found is not None
    assert [(p.path, p.kind) for p in found.problems] == [((), ProblemKind.TOO_LONG)]
    assert "10 MB" in found.problems[0].message


@pytest.mark.parametrize("status", [401, 403, 404, 405, 429, 500, 503])
def test_other_statuses_are_left_to_the_common_mapping(status: int) -> None:
    assert refusal(status, json={"code": status, "message": "x"}) is None


# userErrors on the GraphQL input path -----------------------------------------------------------


@pytest.mark.parametrize(("details", "root", "field"), [
    ("Property .name must be string", "input", ["input", "name"]),
    ("Property .address.postal_code must be string", "input", ["input", "address", "postalCode"]),
    ("Property .address.line_1 must be string", "input", ["input", "address", "line1"]),
    ("Property .metadata.favorite_brand must be string", "input", ["input", "metadata", "favorite_brand"]),
    ("Property .metadata.CRM_created_date must be date", "input", ["input", "metadata", "CRM_created_date"]),
    ("Property .birthdate must be a date (YYYY-MM-DD)", "customers", ["customers", "birthdate"]),
    ("Property .source_ids must be a non-empty array of strings", None, ["sourceIds"]),
    ("Property .metadata must be object", None, ["metadata"]),
    ("The file must start with a header line", "file", ["file"]),
    ("The payload cannot be empty", "input", ["input"]),
])  # fmt: skip
def test_a_refusal_is_a_user_error_on_the_input_it_names(details: str, root: str | None, field: list[str]) -> None:
    found = refusal(400, json={"code": 400, "key": "invalid_payload", "message": "Invalid payload", "details": details})
    assert found is not None
    (error,) = user_errors_of(found.problems, root)
    assert error.field == field
    assert error.message == details
    assert error.code is UserErrorCode.INVALID


def test_kinds_become_user_error_codes() -> None:
    problems = [Problem(("source_id",), ProblemKind.TAKEN, "taken"), Problem((), ProblemKind.TOO_LONG, "too long")]
    assert [(e.field, e.code) for e in user_errors_of(problems, "input")] == [
        (["input", "sourceId"], UserErrorCode.TAKEN), (["input"], UserErrorCode.TOO_LONG)]  # fmt: skip


# 429, keys, routes ----------------------------------------------------------------------------------


def test_retry_after_is_read_from_retry_after_then_the_rate_limit_reset() -> None:
    assert VOUCHERIFY.retry_after(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    resets = VOUCHERIFY.retry_after(httpx.Response(429, headers={"X-Rate-Limit-Retry": str(int(time.time()) + 30)}))
    assert resets is not None
    assert 25 <= resets <= 31
    assert VOUCHERIFY.retry_after(httpx.Response(429, headers={"X-Rate-Limit-Retry": "0"})) == 0.0
    assert VOUCHERIFY.retry_after(httpx.Response(429)) is None
    assert VOUCHERIFY.retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_keys_travel_as_voucherify_s_headers_and_never_print() -> None:
    server = VoucherifyKeys("vf_app", "vf_secret_value")
    client = VoucherifyKeys("vf_client", "vf_client_token_value", origin="http://localhost:5173")
    assert VOUCHERIFY.credentials(server.encode()) == {"X-App-Id": "vf_app", "X-App-Token": "vf_secret_value"}
    assert VOUCHERIFY.credentials(client.encode()) == {
        "X-Client-Application-Id": "vf_client", "X-Client-Token": "vf_client_token_value",
        "Origin": "http://localhost:5173"}  # fmt: skip
    assert "vf_secret_value" not in repr(server)
    assert "vf_client_token_value" not in repr(client)
    credentials = voucherify_credentials(CIMultiDict({"X-Voucherify-App-Id": "vf_app",
                                                      "X-Voucherify-App-Token": "vf_secret_value"}))  # fmt: skip
    assert credentials.keys == server
    assert "vf_secret_value" not in repr(credentials)


@pytest.mark.parametrize(("path", "route"), [
    ("/v1/customers/cust_CSnYd37MXmrbS19XCrghjBsv", "/v1/customers/{id}"),
    ("/v1/customers/crm%2F00001/permanent-deletion", "/v1/customers/{id}/permanent-deletion"),
    ("/v1/customers/someone%40example.com/consents", "/v1/customers/{id}/consents"),
    ("/client/v1/customers/cust_x/consents", "/client/v1/customers/{id}/consents"),
    ("/v1/async-actions/aa_0a875d56c805df6601", "/v1/async-actions/{id}"),
    ("/v1/customers/bulk/async", "/v1/customers/bulk/async"),
    ("/v1/customers/metadata/async", "/v1/customers/metadata/async"),
    ("/v1/customers/importCSV", "/v1/customers/importCSV"),
    ("/v1/customers", "/v1/customers"),
])  # fmt: skip
def test_routes_of_writes_carry_no_customer_or_action_id(path: str, route: str) -> None:
    assert VOUCHERIFY.route(path) == route
