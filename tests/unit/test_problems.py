"""Polar's 422 ``detail`` read as problems, and problems as userErrors: both shapes of ``loc`` (the sandbox's,
and the real server's led by the create body's union tag), the kinds, and the whole-address state refusal."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.graphql.errors import UserErrorCode, user_errors_of
from gateway.upstream.errors import UpstreamValidation
from gateway.upstream.problems import Problem, ProblemKind, field_path, problem_kind, read_problems


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (["body", "email"], ("email",)),
        (["body", "individual", "email"], ("email",)),
        (["body", "team", "owner", "email"], ("owner", "email")),
        (["body", "billing_address", "postal_code"], ("billing_address", "postal_code")),
        (["body", "individual", "billing_address", "postal_code"], ("billing_address", "postal_code")),
        (["body", "metadata", "tier", "constrained-str"], ("metadata", "tier")),
        (["body", "individual", "metadata", "[key]"], ("metadata",)),
        (["body", "metadata", "team", "int"], ("metadata", "team")),  # a key named like a tag, not leading
        (["body", "tax_id", 0], ("tax_id",)),
        (["body"], ()),
        ([], ()),
    ],
)
def test_loc_becomes_the_field_path(loc: list[object], path: tuple[str, ...]) -> None:
    assert field_path(loc) == path


@pytest.mark.parametrize(
    ("kind", "message", "expected"),
    [
        ("value_error", "A customer with this email address already exists.", ProblemKind.TAKEN),
        ("value_error", "A customer with this external ID already exists.", ProblemKind.TAKEN),
        ("value_error", "a@example.com is not a valid email address: no MX", ProblemKind.INVALID),
        ("value_error", "a@nx.example is not a valid email address: The domain name does not exist.", ProblemKind.INVALID),
        ("value_error", "Customer does not exist.", ProblemKind.NOT_FOUND),
        ("value_error", "Customer external_id cannot be updated.", ProblemKind.IMMUTABLE),
        ("value_error", "Billing address country cannot be changed.", ProblemKind.IMMUTABLE),
        ("missing", "Field required", ProblemKind.REQUIRED),
        ("string_too_long", "String should have at most 256 characters", ProblemKind.TOO_LONG),
        ("too_long", "Dictionary should have at most 50 items", ProblemKind.TOO_MANY),
        ("string_too_short", "String should have at least 1 character", ProblemKind.BLANK),
        ("string_type", "Input should be a valid string", ProblemKind.INVALID),
    ],
)
def test_the_kind_comes_from_the_message_first_then_the_type(kind: str, message: str, expected: ProblemKind) -> None:
    assert problem_kind(kind, message) is expected


@pytest.mark.parametrize("loc", [["body", "billing_address"], ["body", "individual", "billing_address"]])
def test_an_invalid_state_is_a_problem_of_the_state(loc: list[str]) -> None:
    message = "Value error, Invalid US state"
    detail = {"type": "value_error", "loc": loc, "msg": message, "input": {"country": "US", "state": "Nowhere"}}
    (problem,) = read_problems([detail])
    assert problem == Problem(("billing_address", "state"), ProblemKind.INVALID, message, "US", "Nowhere")
    (error,) = user_errors_of([problem])
    assert error.field == ["input", "billingAddress", "state"]
    assert error.message == "'Nowhere' is not a US state: send its two-letter code, such as NY or US-NY."


def test_a_detail_repeated_for_each_union_member_is_one_problem() -> None:
    detail = {"type": "string_type", "msg": "Input should be a valid string", "input": 1}
    details: list[dict[str, Any]] = [
        {**detail, "loc": ["body", "metadata", "k", "constrained-str"]},
        {**detail, "loc": ["body", "metadata", "k", "int"]},
        {**detail, "loc": ["body", "metadata", "k", "str"]},
    ]
    assert [p.path for p in read_problems(details)] == [("metadata", "k")]


def test_a_detail_without_its_parts_still_reads() -> None:
    (problem,) = read_problems([{}])
    assert (problem.path, problem.kind, problem.message) == ((), ProblemKind.INVALID, "Invalid value.")
    assert user_errors_of([problem])[0].field == ["input"]
    assert user_errors_of([problem], root=None)[0].field == ["input"]


def test_user_errors_are_camel_case_under_their_root() -> None:
    problems = [Problem(("billing_address", "postal_code"), ProblemKind.TOO_LONG, "m"),
                Problem(("customer_id",), ProblemKind.NOT_FOUND, "Customer does not exist.")]  # fmt: skip
    under_input, at_top = user_errors_of(problems), user_errors_of(problems, root=None)
    assert [(e.field, e.code) for e in under_input] == [
        (["input", "billingAddress", "postalCode"], UserErrorCode.TOO_LONG), (["input", "customerId"], UserErrorCode.NOT_FOUND)]  # fmt: skip
    assert [e.field for e in at_top] == [["billingAddress", "postalCode"], ["customerId"]]


def test_every_problem_kind_has_a_user_error_code() -> None:
    assert {kind.name for kind in ProblemKind} <= {code.name for code in UserErrorCode}


def test_a_422_carries_its_problems() -> None:
    error = UpstreamValidation(
        read_problems([{"type": "missing", "loc": ["body", "individual", "email"], "msg": "Field required"}])
    )
    assert error.problems == [Problem(("email",), ProblemKind.REQUIRED, "Field required")]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("billing_address", "postal_code"), ["input", "billingAddress", "postalCode"]),
        (("metadata", "plan_tier"), ["input", "metadata", "plan_tier"]),  # the caller's key, as written
        (("metadata", "key_2a"), ["input", "metadata", "key_2a"]),
        (("owner", "external_id"), ["input", "owner", "externalId"]),
    ],
)
def test_field_names_are_camel_cased_and_metadata_keys_kept(path: tuple[str, ...], field: list[str]) -> None:
    """A metadata key used to come back camel-cased (``plan_tier`` as ``planTier``), naming a key the caller
    never sent."""
    problem = Problem(path=path, kind=ProblemKind.INVALID, message="m")
    assert user_errors_of([problem])[0].field == field
