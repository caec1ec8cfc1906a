"""Token Status List: packing (the draft's examples), the signed token, the refusals."""

from __future__ import annotations

import zlib

import pytest

from identity import errors as e
from identity.credentials.token_status import (
    INVALID,
    SUSPENDED,
    VALID,
    TokenStatusList,
    from_bitstrings,
    from_bitstrings_slow,
    pack,
    sign_status_list,
    verify_status_list,
)
from identity.jose.keys import SigningKey, b64url, b64url_decode
from identity.keys import Ed25519PrivateKey

URI = "https://identity.example/statuslists/g1"


def test_draft_example_one_bit() -> None:
    # draft-ietf-oauth-status-list §4.1: status[0..15] -> 0xB9 0xA3, lst eNrbuRgAAhcBXQ
    values = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    assert pack(values, 1) == bytes([0xB9, 0xA3])
    assert zlib.decompress(b64url_decode("eNrbuRgAAhcBXQ")) == bytes([0xB9, 0xA3])
    decoded = TokenStatusList.from_claim({"bits": 1, "lst": "eNrbuRgAAhcBXQ"})
    assert [decoded.get(i) for i in range(16)] == values


def test_draft_example_two_bits() -> None:
    # §4.1, bits 2: [1,2,0,3,0,1,0,1,1,2,3,3] -> 0xC9 0x44 0xF9, lst eNo76fITAAPfAgc
    values = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    assert pack(values, 2) == bytes([0xC9, 0x44, 0xF9])
    decoded = TokenStatusList.from_claim({"bits": 2, "lst": "eNo76fITAAPfAgc"})
    assert [decoded.get(i) for i in range(12)] == values


def test_same_state_as_the_bitstring_lists() -> None:
    revocation = bytearray(16)
    suspension = bytearray(16)
    revocation[0] |= 0x80  # index 0 revoked (Bitstring: most significant bit first)
    suspension[0] |= 0x40  # index 1 suspended
    revocation[1] |= 0x01  # index 15 revoked and suspended: revoked wins
    suspension[1] |= 0x01
    lst = TokenStatusList(2, from_bitstrings(bytes(revocation), bytes(suspension)))
    assert [lst.get(i) for i in (0, 1, 2, 15)] == [INVALID, SUSPENDED, VALID, INVALID]


def test_signed_token_round_trip_and_refusals() -> None:
    key = SigningKey.from_ed25519(Ed25519PrivateKey(bytes(32)))
    lst = TokenStatusList(2, pack([0, 1, 2, 0]))
    token = sign_status_list(lst, uri=URI, key=key, kid="k", issued_at=1000, ttl=300)
    assert verify_status_list(token, uri=URI, key=key.public_jwk, now=1001).get(2) == SUSPENDED
    with pytest.raises(e.StatusVerificationError):
        verify_status_list(token, uri=URI + "x", key=key.public_jwk, now=1001)
    with pytest.raises(e.StatusVerificationError):
        verify_status_list(token, uri=URI, key=key.public_jwk, now=1000 + 3001)
    with pytest.raises(e.StatusListLengthError):
        lst.get(4 * 100)
    with pytest.raises(e.ProofVerificationError):
        verify_status_list(token, uri=URI, key=SigningKey.generate_ed25519().public_jwk, now=1001)


def test_zip_bomb_refused() -> None:
    bomb = b64url(zlib.compress(bytes(20 * 1024 * 1024)))
    with pytest.raises(e.StatusVerificationError):
        TokenStatusList.from_claim({"bits": 1, "lst": bomb})


def test_fast_rendering_equals_the_reference() -> None:
    import random

    rng = random.Random(17)
    for size in (1, 16, 1024):
        revocation = bytes(rng.randrange(256) for _ in range(size))
        suspension = bytes(rng.randrange(256) for _ in range(size))
        for s in (suspension, None):
            assert from_bitstrings(revocation, s) == from_bitstrings_slow(revocation, s)
