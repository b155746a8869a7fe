"""Cursors, as pure logic: signed with the deployment's secret, positions ASCII and bounded."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from graphql import GraphQLError

from gateway.graphql.pagination import MAC_BYTES, MAX_POSITION, Cursors, cursors_for

SECRET = b"s" * 32
PRINT = "0123456789ab"
cursors = Cursors(SECRET)


def signed(payload: bytes, secret: bytes = SECRET) -> str:
    """A cursor of any payload, signed as the gateway signs: what only a holder of the secret can make."""
    mac = hmac.new(secret, payload, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(payload + b"." + mac).decode()


def refusal(cursor: str, print_: str = PRINT, argument: str = "after") -> GraphQLError:
    with pytest.raises(GraphQLError) as raised:
        cursors.decode(cursor, print_, argument)
    assert raised.value.extensions == {"code": "BAD_USER_INPUT", "argument": argument}
    return raised.value


@pytest.mark.parametrize("position", [0, 1, 99, 12_345, MAX_POSITION])
def test_a_cursor_reads_back_its_position(position: int) -> None:
    assert cursors.decode(cursors.encode(position, PRINT), PRINT, "after") == position
    assert cursors.encode(position, PRINT) == signed(f"pos2:{PRINT}:{position}".encode())


def test_a_tampered_signature_is_refused() -> None:
    cursor = cursors.encode(10, PRINT)
    raw = bytearray(base64.urlsafe_b64decode(cursor))
    raw[-1] ^= 0x01
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode()
    assert "'after' is not a cursor this API issued" in refusal(tampered).message


def test_a_tampered_position_is_refused() -> None:
    raw = base64.urlsafe_b64decode(cursors.encode(10, PRINT))
    moved = base64.urlsafe_b64encode(raw.replace(b":10.", b":90.")).decode()
    assert "not a cursor this API issued" in refusal(moved).message


@pytest.mark.parametrize(
    "forged",
    [
        base64.urlsafe_b64encode(f"pos1:{PRINT}:{10**21}".encode()).decode(),  # the old, unsigned form
        base64.urlsafe_b64encode(f"pos2:{PRINT}:{10**21}".encode() + b"." + bytes(MAC_BYTES)).decode(),
        signed(f"pos2:{PRINT}:{10**21}".encode(), b"another deployment's secret!!!!!"),
    ],
)
def test_a_forged_position_is_refused(forged: str) -> None:
    assert "not a cursor this API issued" in refusal(forged, argument="before").message


def test_a_signed_position_past_the_deepest_is_refused() -> None:
    for position in (MAX_POSITION + 1, 10**21):
        assert f"points past position {MAX_POSITION:,}" in refusal(signed(f"pos2:{PRINT}:{position}".encode())).message


@pytest.mark.parametrize("digits", ["\u0661\u0660", "\u0663", "\u06f1\u06f2", "\uff11\uff12", "\u0967\u0966", "1\u0660", "+5", "-4", " 5", "5 ", "0x10", "1_000", ""])
def test_a_position_is_ascii_digits_even_when_signed(digits: str) -> None:
    """``int`` accepts Arabic-Indic, full-width and Devanagari digits, signs, spaces and underscores."""
    assert "not a cursor this API issued" in refusal(signed(f"pos2:{PRINT}:{digits}".encode())).message


def test_a_cursor_of_another_deployment_is_refused() -> None:
    other = Cursors(b"o" * 32).encode(10, PRINT)
    assert "not a cursor this API issued" in refusal(other).message


def test_a_cursor_of_another_listing_is_refused() -> None:
    assert "another filter or sort" in refusal(cursors.encode(10, "ffffffffffff")).message


@pytest.mark.parametrize(
    "cursor",
    ["", "garbage", "é", "\x00", "a" * 10_000, cursors.encode(3, PRINT)[:-4], cursors.encode(3, PRINT) + "AAAA",
     signed(b"pos2:" + PRINT.encode() + b":3:4"), signed(b"pos2:" + PRINT.encode()), signed(b"\xff\xfe")],
)  # fmt: skip
def test_anything_else_is_refused(cursor: str) -> None:
    assert "not a cursor this API issued" in refusal(cursor).message


def test_one_cursors_object_per_secret() -> None:
    assert cursors_for("k" * 32) is cursors_for("k" * 32)
    assert cursors_for("k" * 32).encode(1, PRINT) != cursors_for("j" * 32).encode(1, PRINT)
