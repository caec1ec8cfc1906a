"""RFC 8785 JCS and the strict I-JSON reader."""

from __future__ import annotations

import hashlib
import struct

import pytest

from identity.canonical import check_depth, jcs, parse_json
from identity.errors import ParsingError
from tests.conftest import vector_json, vectors_dir

JCS_CASES = ["arrays", "french", "structures", "unicode", "values", "weird"]


@pytest.mark.parametrize("name", JCS_CASES)
def test_jcs_matches_published_output_byte_for_byte(name: str) -> None:
    base = vectors_dir() / "jcs"
    value = parse_json((base / "input" / f"{name}.json").read_bytes())
    expected = (base / "output" / f"{name}.json").read_bytes()
    assert jcs(value) == expected


@pytest.mark.parametrize("name", JCS_CASES)
def test_jcs_matches_published_hex(name: str) -> None:
    base = vectors_dir() / "jcs"
    value = parse_json((base / "input" / f"{name}.json").read_bytes())
    hex_text = (base / "outhex" / f"{name}.txt").read_text()
    assert jcs(value) == bytes.fromhex("".join(hex_text.split()))


def test_jcs_number_serialisation_matches_es6_samples() -> None:
    samples = vector_json("jcs/es6-number-samples.json")["samples"]
    for ieee_hex, expected in samples:
        (number,) = struct.unpack(">d", bytes.fromhex(ieee_hex.rjust(16, "0")))
        assert jcs(number) == expected.encode(), ieee_hex


@pytest.mark.parametrize(
    "text",
    [
        "9007199254740992",
        "-9007199254740992",
        "10000000000000000",
        "9" * 4_301,  # beyond Python's default int-conversion digit limit
        "-" + "1" * 100_000,
        "1e400",
        "9" * 5_000 + ".5",
        "NaN",
        "Infinity",
    ],
)
def test_numbers_outside_ijson_are_refused(text: str) -> None:
    with pytest.raises(ParsingError):
        parse_json(f'{{"n": {text}}}')


@pytest.mark.parametrize("value", [0, -1, 2**53 - 1, -(2**53 - 1), 10**15])
def test_integers_inside_ijson_are_read_exactly(value: int) -> None:
    assert parse_json(f'{{"n": {value}}}') == {"n": value}


def test_jcs_refuses_integers_beyond_2_53() -> None:
    with pytest.raises(ParsingError):
        jcs({"n": 2**53 + 1})


def test_largest_safe_integer_is_accepted() -> None:
    assert parse_json('{"n": 9007199254740991}') == {"n": 2**53 - 1}


def test_duplicate_member_names_are_refused() -> None:
    with pytest.raises(ParsingError, match="duplicate"):
        parse_json('{"a": 1, "a": 2}')


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(ParsingError, match="deeper"):
        parse_json("[" * 65 + "]" * 65, max_depth=64)
    with pytest.raises(ParsingError):
        parse_json("[" * 100_000 + "]" * 100_000)


def test_depth_limit_allows_the_limit_itself() -> None:
    assert parse_json("[" * 64 + "]" * 64, max_depth=64) is not None
    check_depth({"a": {"b": [1]}}, max_depth=3)


@pytest.mark.parametrize("data", [b"\xff\xfe", b"{", b"", b"{'a': 1}"])
def test_malformed_json_is_a_parsing_error(data: bytes) -> None:
    with pytest.raises(ParsingError):
        parse_json(data)


def test_jcs_hash_is_stable_for_reordered_members() -> None:
    a = parse_json('{"b": 1, "a": [true, null, "x"]}')
    b = parse_json('{"a": [true, null, "x"], "b": 1.0}')
    assert hashlib.sha256(jcs(a)).digest() == hashlib.sha256(jcs(b)).digest()
