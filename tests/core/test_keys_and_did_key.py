"""Ed25519 keys, sealing at rest, multibase and did:key (vectors in ../shared/vectors/did-key)."""

from __future__ import annotations

import pytest

from identity.dids import parse_did
from identity.dids.key import DidKeyResolver, did_document, did_from_key, key_from_did
from identity.encoding import multibase_decode, multibase_encode
from identity.errors import (
    InvalidDidError,
    InvalidVerificationMethodError,
    MalformedValueError,
    ProofVerificationError,
    SealedKeyError,
)
from identity.keys import Ed25519PrivateKey, Ed25519PublicKey, KeySealer
from tests.conftest import vector_json


def _seed(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_sign_then_verify_round_trips() -> None:
    key = Ed25519PrivateKey(_seed(7))
    sig = key.sign(b"message")
    assert len(sig) == 64
    assert key.public_key().verify(sig, b"message") is None


def test_verify_raises_on_a_changed_message_or_signature() -> None:
    key = Ed25519PrivateKey(_seed(7))
    sig = key.sign(b"message")
    with pytest.raises(ProofVerificationError):
        key.public_key().verify(sig, b"messagE")
    with pytest.raises(ProofVerificationError):
        key.public_key().verify(bytes([sig[0] ^ 1]) + sig[1:], b"message")
    with pytest.raises(ProofVerificationError):
        key.public_key().verify(sig[:63], b"message")


def test_private_key_repr_never_shows_the_seed() -> None:
    key = Ed25519PrivateKey(bytes(range(32)))
    assert bytes(range(32)).hex() not in repr(key)
    assert "seed" not in repr(key)


def test_sealed_key_opens_only_with_the_same_master_secret() -> None:
    key = Ed25519PrivateKey.generate()
    sealed = KeySealer(b"m" * 32).seal(key)
    assert key.seed not in sealed
    assert KeySealer(b"m" * 32).open(sealed).public_key() == key.public_key()
    with pytest.raises(SealedKeyError, match="does not open"):
        KeySealer(b"n" * 32).open(sealed)
    for altered in (sealed[:-1] + bytes([sealed[-1] ^ 1]), sealed[:10], b""):
        with pytest.raises(SealedKeyError):
            KeySealer(b"m" * 32).open(altered)


def test_master_secret_must_be_32_bytes() -> None:
    with pytest.raises(MalformedValueError):
        KeySealer(b"short")


@pytest.mark.parametrize("seed", [b"", b"x" * 31, b"x" * 33, "x" * 32])
def test_a_seed_of_another_size_is_a_malformed_value(seed: bytes) -> None:
    with pytest.raises(MalformedValueError, match="32 bytes"):
        Ed25519PrivateKey(seed)


def test_multibase_round_trips_base58btc_and_base64url() -> None:
    for base in ("z", "u"):
        assert multibase_decode(multibase_encode(b"\x00\x01hello", base)) == b"\x00\x01hello"
    for bad in ("", "xabc", "z0OIl", "uYQ=="):
        with pytest.raises(MalformedValueError):
            multibase_decode(bad)


def test_did_key_matches_derived_vectors() -> None:
    vectors = vector_json("did-key/ed25519-derived-vectors.json")["vectors"]
    for v in vectors:
        public = Ed25519PublicKey(bytes.fromhex(v["publicKeyHex"]))
        if "seedHex" in v:
            assert Ed25519PrivateKey(bytes.fromhex(v["seedHex"])).public_key() == public
        if "secretKeyMultibase" in v:
            secret = multibase_decode(v["secretKeyMultibase"])
            assert secret[:2] == bytes.fromhex(v["secretKeyMulticodecPrefixHex"])
            assert Ed25519PrivateKey(secret[2:]).public_key() == public
        assert public.multibase == v["publicKeyMultibase"]
        assert did_from_key(public) == v["did"]
        assert key_from_did(v["did"]) == public
        assert DidKeyResolver().verification_method(v["verificationMethod"]).public_key == public
    assert sum("seedHex" in v for v in vectors) >= 6


def test_did_key_matches_legacy_2022_vectors() -> None:
    for did, v in vector_json("did-key/legacy-2022-test-vectors-ed25519-x25519.json").items():
        key = Ed25519PrivateKey(bytes.fromhex(v["seed"]))
        assert did_from_key(key.public_key()) == did
        assert key_from_did(did) == key.public_key()


def test_did_document_matches_spec_example_with_key_agreement() -> None:
    expected = vector_json("did-key/spec-2024-did-document-z6MkhaXg-multikey.json")
    assert did_document(expected["id"]) == expected


def test_did_document_without_encryption_key_derivation_matches_derived_vector() -> None:
    expected = vector_json("did-key/derived-did-document-z6MkrJVn-multikey.json")["didDocument"]
    assert did_document(expected["id"], encryption_key_derivation=False) == expected


def test_did_document_agrees_with_v0_9_example_except_context() -> None:
    example = vector_json("did-key/spec-v0.9-2025-11-02-did-document-z6MkhaXg-multikey.json")
    ours = did_document(example["id"])
    assert {k: v for k, v in ours.items() if k != "@context"} == {
        k: v for k, v in example.items() if k != "@context"
    }


@pytest.mark.parametrize(
    "did",
    [
        "did:web:example.com",  # wrong method
        "did:key:6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",  # no multibase prefix
        "did:key:z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p",  # X25519, not Ed25519
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2do",  # wrong length
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doKK",  # wrong length
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2d0K",  # '0' is not base58
        "did:key:",
        "not-a-did",
        "did:KEY:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    ],
)
def test_invalid_did_keys_are_rejected(did: str) -> None:
    with pytest.raises(InvalidDidError):
        key_from_did(did)


def test_parse_did_splits_method_and_id() -> None:
    assert parse_did("did:web:example.com:user:alice") == ("web", "example.com:user:alice")
    with pytest.raises(InvalidDidError):
        parse_did(42)  # type: ignore[arg-type]


def test_verification_method_fragment_must_match_the_key() -> None:
    did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    with pytest.raises(InvalidDidError):
        DidKeyResolver().verification_method(
            did + "#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
        )


def test_public_key_multibase_must_be_ed25519() -> None:
    with pytest.raises(InvalidVerificationMethodError):
        Ed25519PublicKey.from_multibase("z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p")
    with pytest.raises(InvalidVerificationMethodError):
        Ed25519PublicKey(b"\x00" * 31)
