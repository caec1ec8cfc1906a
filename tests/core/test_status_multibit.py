"""Multi-bit Bitstring Status List entries (§2.1, §3.2): reading k-bit values, the
one-bit planes they are stored as, entry checks, and the length rule for statusSize."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.credentials.status import (
    MIN_BITS,
    Bitstring,
    StatusList,
    StatusMessages,
    check_status,
    interleave,
    message_entry,
    parse_entries,
)
from identity.errors import (
    CredentialStatusError,
    MalformedValueError,
    RangeError,
    StatusListLengthError,
)

URL = "https://agency.example/status/1"
MESSAGES = StatusMessages(("a", "b", "c", "d"), ("https://agency.example/states",))


@given(st.integers(1, 4), st.data())
def test_interleaved_planes_read_back_as_values(size: int, data: st.DataObject) -> None:
    entries = 64
    values = data.draw(st.lists(st.integers(0, 2**size - 1), min_size=entries, max_size=entries))
    planes = []
    for j in range(size):
        plane = Bitstring.zeros(entries)
        for i, value in enumerate(values):
            plane.set(i, bool(value >> (size - 1 - j) & 1))
        planes.append(bytes(plane.data))
    combined = interleave(planes)
    assert len(combined) == entries * size
    assert [combined.value(i, size) for i in range(entries)] == values


def test_value_is_msb_first_from_index_times_size() -> None:
    bits = Bitstring.zeros(16)
    bits.set(6, True)  # entry 3 of 2 bits = bits 6,7 -> "10"
    assert bits.value(3, 2) == 2
    assert bits.value(3, 1) == 0 and bits.value(6, 1) == 1


@pytest.mark.parametrize(("index", "size"), [(8, 2), (-1, 1), (16, 1), (5, 3)])
def test_an_entry_outside_the_list_is_a_range_error(index: int, size: int) -> None:
    with pytest.raises(RangeError):
        Bitstring.zeros(16).value(index, size)


def _entry(**changes: Any) -> dict[str, Any]:
    entry = message_entry(URL, 7, MESSAGES)
    for key, value in changes.items():
        if value is ...:
            entry.pop(key)
        else:
            entry[key] = value
    return entry


def test_a_message_entry_round_trips() -> None:
    [parsed] = parse_entries({"credentialStatus": _entry()})
    assert (parsed.index, parsed.size, parsed.messages) == (7, 2, ("a", "b", "c", "d"))


BAD_ENTRIES = {
    "statusSize 0": _entry(statusSize=0),
    "statusSize true": _entry(statusSize=True),
    "statusSize a string": _entry(statusSize="2"),
    "statusMessage missing with statusSize 2": _entry(statusMessage=...),
    "statusMessage of statusSize elements (not 2**statusSize)": _entry(
        statusMessage=[{"status": "0x0", "message": "a"}, {"status": "0x1", "message": "b"}]
    ),
    "status not 0x": _entry(statusMessage=[{"status": str(i), "message": "m"} for i in range(4)]),
    "status out of order": _entry(
        statusMessage=[{"status": hex(3 - i), "message": "m"} for i in range(4)]
    ),
    "message missing": _entry(statusMessage=[{"status": hex(i)} for i in range(4)]),
    "statusReference not a URL": _entry(statusReference="not a url"),
    "statusReference empty list": _entry(statusReference=[]),
}


@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_a_malformed_entry_is_a_malformed_value(case: str) -> None:
    with pytest.raises(MalformedValueError):
        parse_entries({"credentialStatus": BAD_ENTRIES[case]})


@pytest.mark.parametrize("messages", [(), ("a",), ("a", "b", "c"), ("a", "a"), ("a", "")])
def test_named_states_must_be_a_power_of_two_unique_and_named(messages: tuple[str, ...]) -> None:
    with pytest.raises(MalformedValueError):
        StatusMessages(messages)


def test_named_states_read_names_and_values() -> None:
    assert MESSAGES.size == 2
    assert MESSAGES.value_of("c") == 2 and MESSAGES.value_of("0x3") == 3
    for bad in ("e", "0x4", 3, None):
        with pytest.raises(MalformedValueError):
            MESSAGES.value_of(bad)


def _loader(bits: Bitstring, purpose: str = "message") -> Any:
    return lambda url: StatusList(url, "did:example:issuer", purpose, bits)


def test_check_status_reports_the_named_state() -> None:
    bits = Bitstring.zeros(2 * MIN_BITS)
    bits.set(7 * 2 + 1, True)  # entry 7 = 0b01
    result = check_status({"credentialStatus": _entry()}, "did:example:issuer", _loader(bits))
    assert result == {"message": {"status": "0x1", "message": "b", "valid": False}}


def test_a_list_too_short_for_its_status_size_is_a_length_error() -> None:
    bits = Bitstring.zeros(MIN_BITS)  # 65,536 two-bit entries: under the herd minimum
    with pytest.raises(StatusListLengthError):
        check_status({"credentialStatus": _entry()}, "did:example:issuer", _loader(bits))


def test_every_set_purpose_is_named() -> None:
    bits = Bitstring.zeros(MIN_BITS)
    index = random.Random(1).randrange(MIN_BITS)
    bits.set(index, True)
    entries = [
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(index),
            "statusListCredential": f"{URL}/{purpose}",
        }
        for purpose in ("revocation", "suspension")
    ]

    def load(url: str) -> StatusList:
        return StatusList(url, "did:example:issuer", url.rsplit("/", 1)[-1], bits)

    with pytest.raises(CredentialStatusError, match="revoked and suspended") as caught:
        check_status({"credentialStatus": entries}, "did:example:issuer", load)
    assert caught.value.data["statusPurpose"] == ["revocation", "suspension"]
