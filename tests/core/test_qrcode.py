"""The compact QR encoding: RFC 9285 base45, zlib of JCS, the capacity limit."""

from __future__ import annotations

import os
import zlib

import pytest
import segno

from identity.canonical import jcs
from identity.credentials import qrcode
from identity.errors import MalformedValueError, ParsingError, QrCapacityError

# RFC 9285 §4.3 and §4.4 examples.
RFC9285 = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("raw", "text"), RFC9285)
def test_base45_matches_rfc_9285(raw: bytes, text: str) -> None:
    assert qrcode.b45encode(raw) == text
    assert qrcode.b45decode(text) == raw


@pytest.mark.parametrize("bad", ["GGW", "A", "abc", "BB8A"])
def test_base45_decoding_is_strict(bad: str) -> None:
    # GGW = 65535 + 1 is above two bytes; "A" and 3n+1 lengths dangle; lowercase is not base45.
    with pytest.raises(MalformedValueError):
        qrcode.b45decode(bad)


def test_base45_round_trips_any_bytes() -> None:
    for n in range(0, 40):
        data = os.urandom(n)
        assert qrcode.b45decode(qrcode.b45encode(data)) == data


def test_a_credential_round_trips_through_its_payload() -> None:
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "name": "李雷", "n": 1.5}
    payload = qrcode.encode(credential)
    assert payload.startswith("VC1:")
    assert set(payload[4:]) <= set(qrcode.BASE45)
    assert zlib.decompress(qrcode.b45decode(payload[4:])) == jcs(credential)
    assert qrcode.decode(payload) == credential


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ("HC1:BB8", MalformedValueError),
        ("VC1:" + qrcode.b45encode(b"not zlib"), ParsingError),
        ("VC1:" + qrcode.b45encode(zlib.compress(b'{"a":1}')[:-3]), ParsingError),
        ("VC1:" + qrcode.b45encode(zlib.compress(b'{"a":1}') + b"x"), ParsingError),
        ("VC1:" + qrcode.b45encode(zlib.compress(b'{"a":1,"a":2}')), ParsingError),
    ],
)
def test_decoding_refuses_anything_but_one_complete_credential(payload: str, error: type) -> None:
    with pytest.raises(error):
        qrcode.decode(payload)


def test_decoding_stops_at_the_inflated_size_limit() -> None:
    bomb = zlib.compress(b'{"a":"' + b"x" * (qrcode.MAX_INFLATED_BYTES + 10) + b'"}', 9)
    with pytest.raises(ParsingError):
        qrcode.decode("VC1:" + qrcode.b45encode(bomb))


def test_the_limit_is_exactly_what_a_version_40_code_holds() -> None:
    """MAX_COMPRESSED_BYTES fits in one QR code (segno, level L); one byte more does not."""
    fits = qrcode.PREFIX + qrcode.b45encode(os.urandom(qrcode.MAX_COMPRESSED_BYTES))
    assert segno.make(fits, mode="alphanumeric", error="l", micro=False).version == 40
    over = qrcode.PREFIX + qrcode.b45encode(os.urandom(qrcode.MAX_COMPRESSED_BYTES + 1))
    with pytest.raises(segno.DataOverflowError):
        segno.make(over, mode="alphanumeric", error="l", micro=False)


def test_a_credential_too_large_for_one_code_is_refused_with_its_size() -> None:
    credential = {"blob": os.urandom(4000).hex()}
    with pytest.raises(QrCapacityError) as caught:
        qrcode.encode(credential)
    assert caught.value.data["limit"] == qrcode.MAX_COMPRESSED_BYTES
    assert caught.value.data["compressedBytes"] > qrcode.MAX_COMPRESSED_BYTES
