"""Bearer parsing: RFC 6750 tokens accepted, anything else refused with a reason that quotes nothing."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from gateway.http.tokens import (
    MALFORMED,
    NO_TOKEN,
    SEVERAL,
    WRONG_KIND,
    Credentials,
    TokenKind,
    TokenRefused,
    credentials,
    require,
    token_kind,
)


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


ORGANIZATION_HEADER = "Bearer polar_oat_secret"
SESSION_HEADER = "Bearer polar_cst_secret"


@pytest.mark.parametrize(
    ("header", "needed", "token"),
    [(ORGANIZATION_HEADER, TokenKind.ORGANIZATION, "polar_oat_secret"),
     (SESSION_HEADER, TokenKind.CUSTOMER_SESSION, "polar_cst_secret"),
     ("Bearer polar_mst_secret", TokenKind.CUSTOMER_SESSION, "polar_mst_secret")],
)  # fmt: skip
def test_a_token_of_the_needed_kind_is_handed_over(header: str, needed: TokenKind, token: str) -> None:
    assert require(_parse(header), needed) == token


@pytest.mark.parametrize(
    ("header", "needed"),
    [(SESSION_HEADER, TokenKind.ORGANIZATION), (ORGANIZATION_HEADER, TokenKind.CUSTOMER_SESSION)],
)
def test_a_token_of_the_other_kind_is_forbidden(header: str, needed: TokenKind) -> None:
    with pytest.raises(TokenRefused) as refused:
        require(_parse(header), needed)
    assert (refused.value.code, refused.value.status) == ("FORBIDDEN", 403)
    assert refused.value.message == WRONG_KIND[needed]
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize("needed", list(TokenKind))
def test_no_token_is_unauthenticated_and_says_which_kind_to_send(needed: TokenKind) -> None:
    with pytest.raises(TokenRefused) as refused:
        require(credentials(CIMultiDict()), needed)
    assert (refused.value.code, refused.value.status) == ("UNAUTHENTICATED", 401)
    assert refused.value.message == NO_TOKEN[needed]


@pytest.mark.parametrize(("headers", "problem"), [(["Basic secret"], MALFORMED), ([SESSION_HEADER] * 2, SEVERAL)])
def test_a_refused_header_is_unauthenticated_with_its_reason(headers: list[str], problem: str) -> None:
    """The header's problem, not the kind rule, is what the caller needs to hear (even for a session token)."""
    for needed in TokenKind:
        with pytest.raises(TokenRefused) as refused:
            require(_parse(*headers), needed)
        assert (refused.value.code, refused.value.message) == ("UNAUTHENTICATED", problem)
