"""Bearer parsing: RFC 6750 tokens accepted, anything else refused with a reason that quotes nothing."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from gateway.http.tokens import MALFORMED, SEVERAL, Credentials, TokenKind, credentials, token_kind


def _parse(*values: str) -> Credentials:
    return credentials(CIMultiDict(("Authorization", value) for value in values))


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer polar_oat_abc", "polar_oat_abc"),
        ("bearer polar_oat_abc", "polar_oat_abc"),
        ("BEARER   polar_oat_abc", "polar_oat_abc"),
        ("Bearer aZ09-._~+/", "aZ09-._~+/"),
        ("Bearer abc==", "abc=="),
    ],
)
def test_rfc_6750_tokens_are_accepted(header: str, token: str) -> None:
    assert _parse(header) == Credentials(token)


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "polar_oat_abc", "Bearer\tabc", "Bearer a b", "Bearer été",
     "Bearer a\udce9", "Bearer a\x01b", "Bearer =abc", "Bearer a=b", "Bearer a,Bearer b", 'Bearer "abc"',
     "Bearer abc\n", "Bearer \uff41\uff42\uff43", "Token abc", "Bearer abc\u00a0"],
)  # fmt: skip
def test_anything_else_is_malformed(header: str) -> None:
    parsed = _parse(header)
    assert parsed.token is None
    assert parsed.problem == MALFORMED


def test_several_headers_are_refused_even_when_alike() -> None:
    assert _parse("Bearer abc", "Bearer abc") == Credentials(None, SEVERAL)
    assert _parse("Bearer abc", "Bearer def") == Credentials(None, SEVERAL)


def test_no_header_is_no_token_and_no_problem() -> None:
    assert credentials(CIMultiDict()) == Credentials(None, None)


def test_the_token_is_never_in_a_repr() -> None:
    assert "secret" not in repr(_parse("Bearer polar_oat_secret"))


@pytest.mark.parametrize(
    ("token", "kind"),
    [("polar_oat_x", TokenKind.ORGANIZATION), ("polar_cst_x", TokenKind.CUSTOMER_SESSION),
     ("polar_mst_x", TokenKind.CUSTOMER_SESSION), ("other", TokenKind.ORGANIZATION)],
)  # fmt: skip
def test_kinds(token: str, kind: TokenKind) -> None:
    assert token_kind(token) is kind
