"""Bitstring Status List v1.0: bit order, encoding, entries and the status check."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from identity.credentials.status import (
    MIN_BITS,
    Bitstring,
    StatusList,
    check_status,
    parse_entries,
    status_entry,
    status_list_credential,
)
from identity.encoding import multibase_encode
from identity.errors import (
    CredentialStatusError,
    MalformedValueError,
    RangeError,
    StatusListLengthError,
    StatusVerificationError,
)
from tests.conftest import vector_json


def test_spec_example_list_decodes_to_131072_zero_bits() -> None:
    example = vector_json("bitstring-status-list/spec-example-status-list-credential.json")
    bits = Bitstring.decode(example["credential"]["credentialSubject"]["encodedList"])
    assert len(bits) == 131_072
    assert not any(bits.data)


def test_bit_order_matches_the_derived_vectors() -> None:
    v = vector_json("bitstring-status-list/derived-bit-order-vectors.json")["setBitsExample"]
    bits = Bitstring.zeros(v["lengthBits"])
    for i in v["setIndexes"]:
        bits.set(i, True)
    for i, pos in v["bytePositions"].items():
        assert bits.data[pos["byte"]] & int(pos["mask"], 16), i
    decoded = Bitstring.decode(v["encodedList_python_gzip_mtime0"])
    assert decoded.data == bits.data
    for call, expected in v["expect"].items():
        assert decoded.get(int(call[7:-1])) == bool(expected)


def test_encode_round_trips() -> None:
    bits = Bitstring.zeros()
    bits.set(5, True)
    bits.set(5, False)
    bits.set(77_777, True)
    again = Bitstring.decode(bits.encode())
    assert again.get(77_777) and not again.get(5)


def test_short_lists_raise_status_list_length_error() -> None:
    short = multibase_encode(gzip.compress(bytes(1024)), "u")
    with pytest.raises(StatusListLengthError):
        Bitstring.decode(short)


@pytest.mark.parametrize("bits", [0, -8, 7, 131_073])
def test_a_list_of_no_whole_bytes_is_a_range_error(bits: int) -> None:
    with pytest.raises(RangeError, match="whole number of bytes"):
        Bitstring.zeros(bits)


def test_index_outside_the_list_is_refused() -> None:
    with pytest.raises(StatusListLengthError):
        Bitstring.zeros().get(MIN_BITS)


@pytest.mark.parametrize("encoded", [None, 5, "zabc", "u!!!", "u" + "A" * 40])
def test_garbage_encoded_lists_are_verification_errors(encoded: Any) -> None:
    with pytest.raises(StatusVerificationError):
        Bitstring.decode(encoded)


def test_gzip_bombs_are_refused() -> None:
    bomb = multibase_encode(gzip.compress(bytes(40 * 1024 * 1024)), "u")
    with pytest.raises(StatusVerificationError, match="size limit"):
        Bitstring.decode(bomb)


def test_entry_shape_matches_the_spec_example() -> None:
    example = vector_json("bitstring-status-list/spec-example-revocable-credential.json")
    expected = example["credential"]["credentialStatus"]
    assert status_entry("https://example.com/credentials/status/3", 94567, "revocation") == expected
    [entry] = parse_entries(example["credential"])
    assert (entry.list_url, entry.index, entry.purpose) == (
        "https://example.com/credentials/status/3",
        94567,
        "revocation",
    )


@pytest.mark.parametrize("index", ["-1", "1.5", "007", "", "x"])
def test_status_list_index_must_be_a_canonical_decimal_string(index: str) -> None:
    entry = status_entry("https://x.example/s/1", 1, "revocation") | {"statusListIndex": index}
    with pytest.raises(MalformedValueError):
        parse_entries({"credentialStatus": entry})


def _world(revoked: set[int]) -> tuple[dict[str, Any], Any]:
    url = "https://x.example/status/1"
    bits = Bitstring.zeros()
    for i in revoked:
        bits.set(i, True)
    listed = status_list_credential(
        url, "did:example:issuer", "revocation", bits, "2026-01-01T00:00:00Z"
    )
    decoded = StatusList.from_credential(url, listed)
    return listed, lambda u: decoded if u == url else pytest.fail("unexpected URL")


def test_check_passes_when_the_bit_is_clear_and_fails_when_set() -> None:
    _, load = _world({42})
    ok = {"credentialStatus": status_entry("https://x.example/status/1", 41, "revocation")}
    assert check_status(ok, "did:example:issuer", load) == {"revocation": False}
    bad = {"credentialStatus": status_entry("https://x.example/status/1", 42, "revocation")}
    with pytest.raises(CredentialStatusError, match="revoked"):
        check_status(bad, "did:example:issuer", load)


def test_list_from_another_issuer_or_purpose_is_not_trusted() -> None:
    _, load = _world(set())
    entry = {"credentialStatus": status_entry("https://x.example/status/1", 1, "revocation")}
    with pytest.raises(StatusVerificationError):
        check_status(entry, "did:example:other", load)
    suspension = {"credentialStatus": status_entry("https://x.example/status/1", 1, "suspension")}
    with pytest.raises(StatusVerificationError):
        check_status(suspension, "did:example:issuer", load)


def test_a_credential_without_status_entries_skips_the_check() -> None:
    assert (
        check_status({"type": ["VerifiableCredential"]}, "did:x", lambda u: pytest.fail()) is None
    )


@pytest.mark.parametrize(
    "change",
    [
        {"type": ["VerifiableCredential"]},
        {"credentialSubject": {"type": "Other"}},
        {"issuer": 5},
    ],
)
def test_a_list_credential_of_the_wrong_shape_is_a_verification_error(
    change: dict[str, Any],
) -> None:
    listed, _ = _world(set())
    with pytest.raises(StatusVerificationError):
        StatusList.from_credential("https://x.example/status/1", listed | change)
