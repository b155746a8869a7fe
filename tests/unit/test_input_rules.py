"""The rules checked before any upstream call, as pure logic: each broken rule is one userError at the path
of the GraphQL input field, with its code."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.graphql.errors import UserErrorCode
from gateway.graphql.input_rules import (
    check_address,
    check_country,
    check_email,
    check_metadata,
    check_name,
    state_code,
)

PATH = ["input", "metadata"]


def codes(errors: list[Any]) -> list[tuple[list[str], UserErrorCode]]:
    return [(error.field, error.code) for error in errors]


@pytest.mark.parametrize(
    "metadata",
    [{}, {"tier": "gold"}, {"n": 2**63 - 1}, {"m": -(2**63)}, {"f": 0.5}, {"b": True}, {"k" * 40: "v" * 500}],
)
def test_metadata_within_polars_limits_passes(metadata: dict[str, Any]) -> None:
    assert check_metadata(metadata, PATH) == []


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"k" * 41: "v"}, [(["input", "metadata", "k" * 41], UserErrorCode.TOO_LONG)]),
        ({"": "v"}, [(["input", "metadata", ""], UserErrorCode.BLANK)]),
        ({"k": ""}, [(["input", "metadata", "k"], UserErrorCode.BLANK)]),
        ({"k": "v" * 501}, [(["input", "metadata", "k"], UserErrorCode.TOO_LONG)]),
        ({"k": 2**63}, [(["input", "metadata", "k"], UserErrorCode.INVALID)]),
        ({"k": float("nan")}, [(["input", "metadata", "k"], UserErrorCode.INVALID)]),
        ({"k": float("inf")}, [(["input", "metadata", "k"], UserErrorCode.INVALID)]),
        ({"k": None}, [(["input", "metadata", "k"], UserErrorCode.INVALID)]),
        ({"k": [1]}, [(["input", "metadata", "k"], UserErrorCode.INVALID)]),
        ({"k": {"nested": 1}}, [(["input", "metadata", "k"], UserErrorCode.INVALID)]),
        ([1, 2], [(PATH, UserErrorCode.INVALID)]),
        ("text", [(PATH, UserErrorCode.INVALID)]),
    ],
)
def test_metadata_beyond_polars_limits_is_refused_at_its_key(metadata: Any, expected: list[Any]) -> None:
    assert codes(check_metadata(metadata, PATH)) == expected


def test_more_than_50_pairs_is_one_error_for_the_map() -> None:
    assert codes(check_metadata({f"k{i}": i for i in range(51)}, PATH)) == [(PATH, UserErrorCode.TOO_MANY)]


@pytest.mark.parametrize(("email", "valid"), [("ada@example.com", True), ("ada", False), ("ada@", False), ("a b@c.io", False)])
def test_email_syntax(email: str, valid: bool) -> None:
    errors = check_email(email, ["input", "email"])
    assert codes(errors) == ([] if valid else [(["input", "email"], UserErrorCode.INVALID)])


@pytest.mark.parametrize(("country", "why"), [("FR", []), ("fr", []), ("CU", ["trade embargo"]), ("XX", ["not an ISO"])])
def test_countries(country: str, why: list[str]) -> None:
    errors = check_country(country, ["c"])
    assert [reason for reason in why for error in errors if reason in error.message] == why
    assert len(errors) == len(why)


@pytest.mark.parametrize(
    ("country", "state", "code"),
    [("US", "NY", "US-NY"), ("US", "ny", "US-NY"), ("US", "US-NY", "US-NY"), ("CA", "qc", "CA-QC"),
     ("us", " ny ", "US-NY"), ("US", "", None), ("US", "Nowhere", None), ("FR", "Île-de-France", "Île-de-France"),
     ("US", None, None)],
)  # fmt: skip
def test_state_codes_as_polar_stores_them(country: str, state: str | None, code: str | None) -> None:
    assert state_code(country, state) == code


def test_an_address_with_a_state_that_is_not_one_is_refused_at_the_state() -> None:
    path = ["input", "billingAddress"]
    assert check_address("US", "NY", path) == []
    assert check_address("US", None, path) == []  # Polar requires no state
    assert check_address("DE", "Bayern", path) == []  # states are checked for US and CA only
    (error,) = check_address("CA", "Texas", path)
    assert (error.field, error.code) == (["input", "billingAddress", "state"], UserErrorCode.INVALID)
    assert "is not a Canadian province or territory" in error.message
    (country,) = check_address("ZZ", "NY", path)
    assert country.field == ["input", "billingAddress", "country"]


def test_names_have_at_most_256_characters() -> None:
    assert check_name("n" * 256, ["input", "name"]) == []
    assert codes(check_name("n" * 257, ["input", "name"])) == [(["input", "name"], UserErrorCode.TOO_LONG)]
