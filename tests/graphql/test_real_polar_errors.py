"""The gateway reads Polar's 422s the same whether they come in the sandbox's shape or in the real server's,
which leads a create's ``loc`` with the body's union tag (polar-server-differences.md rows 2 and 5)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.graphql.errors import user_errors_of
from gateway.upstream.problems import read_problems
from tests.graphql_client import GraphQL

UNDELIVERABLE = "dave@example.com is not a valid email address: The domain name example.com does not accept email."
MISSING = "dave@nx-ref-domain.com is not a valid email address: The domain name nx-ref-domain.com does not exist."


@pytest.mark.parametrize("loc", [["body", "email"], ["body", "individual", "email"]], ids=["sandbox", "real"])
@pytest.mark.parametrize("message", [UNDELIVERABLE, MISSING], ids=["takes-no-email", "no-such-domain"])
def test_an_email_polar_cannot_deliver_to_is_invalid_at_the_email(loc: list[str], message: str) -> None:
    """A domain that does not exist used to read as NOT_FOUND ("does not exist")."""
    email = message.split(" ", 1)[0]
    detail: dict[str, Any] = {
        "type": "value_error", "loc": loc, "msg": message, "input": email,
        "ctx": {"email": email, "reason": message.split(": ", 1)[1]},
    }  # fmt: skip
    [error] = user_errors_of(read_problems([detail]))
    assert (error.field, error.message, error.code.value) == (["input", "email"], message, "INVALID")


@pytest.mark.parametrize(
    "loc", [["body", "metadata", "nested"], ["body", "individual", "metadata", "nested"]], ids=["sandbox", "real"]
)
def test_both_shapes_give_one_field_path(loc: list[str]) -> None:
    detail = {"type": "string_type", "loc": loc, "msg": "Input should be a valid string", "input": {}}
    [error] = user_errors_of(read_problems([detail]))
    assert error.field == ["input", "metadata", "nested"]


def test_a_session_for_a_customer_that_does_not_exist_is_still_not_found() -> None:
    detail = {"type": "value_error", "loc": ["body", "customer_id"], "msg": "Customer does not exist.", "input": "x"}
    [error] = user_errors_of(read_problems([detail]))
    assert error.code.value == "NOT_FOUND"


CREATE = """mutation($input: CustomerCreateInput!) {
  customerCreate(input: $input) { customer { id } userErrors { field message code } }
}"""


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("dave@example.com", "The domain name example.com does not accept email."),
        ("dave@shop.example", "The domain name shop.example does not exist."),
    ],
)
def test_an_undeliverable_email_comes_back_from_the_sandbox_as_polar_says_it(
    gql: GraphQL, demo: httpx.Client, email: str, reason: str
) -> None:
    """End to end: the gateway's own check passes (the syntax is fine), the sandbox refuses as real Polar
    does, and nothing is created."""
    before = demo.get("/v1/customers/", params={"limit": 1}).json()["pagination"]["total_count"]
    payload = gql.data(CREATE, {"input": {"email": email}})["customerCreate"]
    assert payload["customer"] is None
    assert payload["userErrors"] == [
        {"field": ["input", "email"], "message": f"{email} is not a valid email address: {reason}", "code": "INVALID"}
    ]
    assert demo.get("/v1/customers/", params={"limit": 1}).json()["pagination"]["total_count"] == before


def test_an_email_cannot_be_cleared_and_nothing_changes(gql: GraphQL, demo: httpx.Client) -> None:
    """Polar answers ``{"email": null}`` with 200 and the email unchanged (row 1): a client asking to clear it
    would be told it worked. The gateway refuses it before any call instead."""
    customer = demo.post("/v1/customers/", json={"email": "keep.me@proton.me", "external_id": "keep-me"}).json()
    calls = gql.upstream_calls()
    payload = gql.data(
        'mutation { customerUpdate(externalId: "keep-me", input: {email: null, name: "Kept"}) '
        "{ customer { id } userErrors { field message code } } }"
    )["customerUpdate"]
    assert payload["customer"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "email"], "INVALID")]
    assert gql.upstream_calls() == calls
    assert demo.get(f"/v1/customers/{customer['id']}").json() == customer
