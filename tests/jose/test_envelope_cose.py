"""The envelope, its data: URL and COSE_Sign1 structure, without HTTP."""

from __future__ import annotations

import base64

import cbor2
import pytest

from identity.errors import (
    InvalidVerificationMethodError,
    TokenTooLargeError,
    UnknownCriticalHeaderError,
    UnsupportedAlgorithmError,
)
from identity.jose import cose
from identity.jose.discovery import discover
from identity.jose.envelope import (
    VC_COSE,
    VC_JWT,
    MalformedEnvelopeError,
    is_enveloped,
    make_envelope,
    parse_data_url,
    parse_envelope,
)
from identity.keys import Ed25519PrivateKey

SEED = b"\x11" * 32


def test_make_and_parse_are_inverse_for_jws_and_cose() -> None:
    jwt = make_envelope(VC_JWT, "a.b.c")
    assert jwt["id"] == "data:application/vc+jwt,a.b.c"
    assert parse_envelope(jwt).token == "a.b.c"
    blob = make_envelope(VC_COSE, b"\x00\xff")
    assert blob["id"] == "data:application/vc+cose;base64,AP8="
    assert parse_envelope(blob).token == b"\x00\xff"


def test_data_url_percent_encoding_and_media_type_case() -> None:
    assert parse_data_url("data:Application/VC+JWT,a%2Eb") == ("application/vc+jwt", b"a.b")


@pytest.mark.parametrize(
    "value", ["http://x", "data:application/vc+jwt", "data:application/vc+jwt,", 7, None]
)
def test_not_a_data_url(value: object) -> None:
    with pytest.raises(MalformedEnvelopeError):
        parse_data_url(value)


def test_size_is_checked_before_decoding() -> None:
    with pytest.raises(TokenTooLargeError):
        parse_data_url("data:application/vc+jwt," + "a" * 2000, max_token_bytes=1000)


def test_a_presentation_media_type_is_not_a_credential() -> None:
    vp = make_envelope("application/vp+jwt", "a.b.c")
    assert not is_enveloped(vp, "vc") and is_enveloped(vp, "vp")
    wrong = {**vp, "type": "EnvelopedVerifiableCredential"}
    with pytest.raises(MalformedEnvelopeError):
        parse_envelope(wrong, "vc")


def test_a_credential_with_a_data_id_is_not_taken_for_an_envelope() -> None:
    document = {"id": "data:,x", "type": ["VerifiableCredential"], "issuer": "did:example:1"}
    assert not is_enveloped(document)


def _signed() -> bytes:
    key = Ed25519PrivateKey(SEED)
    return cose.sign1(
        b"{}",
        seed=key.seed,
        public=key.public_key().raw,
        kid="did:key:z#z",
        typ="application/vc+cose",
        content_type="application/vc",
    )


def test_cose_round_trip_and_untagged_is_accepted() -> None:
    token = _signed()
    key = Ed25519PrivateKey(SEED).public_key().raw
    decoded = cose.decode_sign1(token)
    cose.check_headers(decoded)
    cose.verify_sign1(decoded, ed25519=key)
    untagged = cbor2.dumps(cbor2.loads(token).value)
    cose.verify_sign1(cose.decode_sign1(untagged), ed25519=key)
    assert decoded.kid == "did:key:z#z"


@pytest.mark.parametrize(
    "item",
    [
        cbor2.CBORTag(98, [b"", {}, b"", b""]),  # COSE_Sign, not COSE_Sign1
        [b"", {}, None, b""],  # detached payload
        [b"", {}, b"x"],  # three items
        ["x", {}, b"x", b""],  # protected not a bstr
        [cbor2.dumps([1]), {}, b"x", b""],  # protected not a map
    ],
)
def test_cose_structure_is_refused(item: object) -> None:
    with pytest.raises(cose.MalformedCoseError):
        cose.decode_sign1(cbor2.dumps(item))


def test_cose_alg_must_be_protected_and_known_and_crit_understood() -> None:
    unprotected_alg = cose.decode_sign1(cbor2.dumps([b"", {1: -8}, b"x", b""]))
    with pytest.raises(UnsupportedAlgorithmError):
        cose.check_headers(unprotected_alg)
    rsa = cose.decode_sign1(cbor2.dumps([cbor2.dumps({1: -257}), {}, b"x", b""]))
    with pytest.raises(UnsupportedAlgorithmError):
        cose.check_headers(rsa)
    crit = cose.decode_sign1(cbor2.dumps([cbor2.dumps({1: -8, 2: [99], 99: 1}), {}, b"x", b""]))
    with pytest.raises(UnknownCriticalHeaderError):
        cose.check_headers(crit)


def test_p256_did_key_fragment_must_match() -> None:
    good = "did:key:zDnaeTQKDbXQT4batxKcnMQYQ8JynjqC5Xz1uMk5euG2ht8nq"
    found = discover(f"{good}#{good[8:]}", resolver=None, purpose="assertionMethod")  # type: ignore[arg-type]
    assert found.controller == good and found.p256 is not None
    with pytest.raises(InvalidVerificationMethodError):
        discover(f"{good}#other", resolver=None, purpose="assertionMethod")  # type: ignore[arg-type]
    with pytest.raises(InvalidVerificationMethodError):
        discover("https://example.org/key", resolver=None, purpose="assertionMethod")  # type: ignore[arg-type]


def test_base64_in_cose_data_url_must_be_valid() -> None:
    with pytest.raises(MalformedEnvelopeError):
        parse_data_url("data:application/vc+cose;base64,@@")
    assert parse_data_url("data:application/vc+cose;base64," + base64.b64encode(b"ok").decode())
