"""JSON decoding within bounds: nesting, integers that fit in 64 bits, and what the standard library adds."""

from __future__ import annotations

import json

import pytest

from gateway.http.bodies import NOT_UTF8, TOO_DEEP, TOO_WIDE, JsonRefused, decode_json


@pytest.mark.parametrize("depth", [1_025, 1_100, 40_000, 1_000_000])
@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ('{"a":', "}")], ids=["lists", "objects"])
def test_deep_nesting_is_refused(depth: int, opening: str, closing: str) -> None:
    with pytest.raises(JsonRefused) as refused:
        decode_json((opening * depth + "1" + closing * depth).encode())
    assert refused.value.reason == TOO_DEEP


def test_deep_nesting_in_a_body_the_standard_library_decodes_is_refused_too() -> None:
    """A run of 19 digits sends the body to the standard library, whose recursion (deeper than about 900
    levels, under orjson's 1,024) would otherwise be a RecursionError."""
    with pytest.raises(JsonRefused, match="nested too deeply"):
        decode_json('["1234567890123456789", ' + "[" * 1_000 + "]" * 1_000 + "]")


@pytest.mark.parametrize(
    "literal",
    ["9223372036854775808", "-9223372036854775809", "18446744073709551615", "1234567890123456789012345",
     "9" * 4_300, "9" * 5_000, "-" + "1" * 100_000],
)  # fmt: skip
@pytest.mark.parametrize("as_bytes", [True, False])
def test_integers_beyond_64_bits_are_refused(literal: str, as_bytes: bool) -> None:
    document = f'{{"v": [1, {{"w": {literal}}}]}}'
    with pytest.raises(JsonRefused) as refused:
        decode_json(document.encode() if as_bytes else document)
    assert refused.value.reason == TOO_WIDE


def test_integers_at_the_bounds_and_long_digit_strings_are_accepted() -> None:
    document = '{"low": -9223372036854775808, "high": 9223372036854775807, "s": "123456789012345678901234567890"}'
    assert decode_json(document) == {"low": -(2**63), "high": 2**63 - 1, "s": "123456789012345678901234567890"}


def test_wide_floats_stay_floats() -> None:
    assert decode_json(b'{"f": 12345678901234567890.5, "e": 1e300}') == {"f": 12345678901234567890.5, "e": 1e300}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_as_not_json(constant: str) -> None:
    """The standard library would take them; JSON has no such numbers."""
    with pytest.raises(JsonRefused, match="not JSON"):
        decode_json(f'{{"v": {constant}}}'.encode())


def test_invalid_utf8_and_invalid_json_are_decode_errors() -> None:
    with pytest.raises(JsonRefused) as refused:
        decode_json(b'{"v": "\xff"}')
    assert refused.value.reason == NOT_UTF8
    with pytest.raises(json.JSONDecodeError):
        decode_json(b'{"v": }')


@pytest.mark.parametrize("escaped", ["\\ud800", "\\udc00x", "\\ud800\\ud800"])
def test_a_lone_surrogate_is_refused(escaped: str) -> None:
    """The standard library takes it, and nothing can encode it again: httpx failed on it mid-call."""
    with pytest.raises(JsonRefused, match="lone surrogate"):
        decode_json(f'{{"v": "{escaped}"}}'.encode())
    assert decode_json(b'{"v": "\\ud83d\\ude00"}') == {"v": "\U0001f600"}  # a pair is one character
