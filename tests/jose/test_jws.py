"""identity.jose: JWKs and compact JWS, including every refusal as its domain error."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey as PycaEd25519
from joserfc import jws as joserfc_jws
from joserfc.jwk import OKPKey

from identity import errors as e
from identity.jose.jws import parse_compact, sign_compact, verify_compact
from identity.jose.keys import PublicJwk, SigningKey, b64url, b64url_decode
from identity.keys import Ed25519PrivateKey

SEED = bytes(range(32))


def _b64(obj: object) -> str:
    return b64url(json.dumps(obj).encode())


def _forge(header: dict[str, object], payload: dict[str, object], key: SigningKey) -> str:
    """A token signed over an arbitrary header (the library refuses to make some of them)."""
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    raw = PycaEd25519.from_private_bytes(SEED).sign(signing_input.encode())
    return f"{signing_input}.{b64url(raw)}"


@pytest.fixture
def agency() -> SigningKey:
    return SigningKey.from_ed25519(Ed25519PrivateKey(SEED))


def test_ed25519_jwk_is_the_agency_key(agency: SigningKey) -> None:
    nacl_key = Ed25519PrivateKey(SEED)
    assert agency.public_jwk.ed25519() == nacl_key.public_key()
    assert agency.public_jwk.to_dict() == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(nacl_key.public_key().raw),
    }
    assert agency.alg == "EdDSA"
    assert b64url(SEED) not in repr(agency) and "OKPKey" not in repr(agency)


def test_rfc7638_thumbprint_vector() -> None:
    # RFC 8037 §A.3: the thumbprint of the Appendix A.2 Ed25519 public key.
    jwk = PublicJwk.from_dict(
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    )
    assert jwk.thumbprint() == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_rfc8037_signature_vector() -> None:
    # RFC 8037 §A.4: Ed25519 signing of "Example of Ed25519 signing" is deterministic.
    d = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
    key = SigningKey.from_private_jwk(
        {"kty": "OKP", "crv": "Ed25519", "d": d, "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    )
    token = sign_compact({}, b"Example of Ed25519 signing", key)
    assert token == (
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )
    assert verify_compact(token, key.public_jwk, typ=None).payload == b"Example of Ed25519 signing"


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_both_ed25519_algs_verify(alg: str) -> None:
    key = SigningKey.from_ed25519(Ed25519PrivateKey(SEED), alg)
    token = sign_compact({"typ": "JWT"}, {"sub": "张三"}, key)
    verified = verify_compact(token, key.public_jwk, typ="JWT")
    assert verified.header["alg"] == alg
    assert verified.claims() == {"sub": "张三"}


def test_es256_holder_key_round_trip() -> None:
    draws = iter([bytes([7]) * 48])
    holder = SigningKey.generate_p256(lambda n: next(draws)[:n])
    assert holder.public_jwk.kty == "EC" and holder.alg == "ES256"
    again = SigningKey.from_private_jwk(holder.private_jwk())
    assert again.public_jwk == holder.public_jwk
    token = sign_compact({"typ": "kb+jwt"}, {"nonce": "n"}, holder)
    assert verify_compact(token, again.public_jwk, typ="kb+jwt").claims() == {"nonce": "n"}
    with pytest.raises(e.UnsupportedAlgorithmError):  # an ES256 key never verifies EdDSA
        verify_compact(
            token.replace(token.split(".")[0], _b64({"alg": "EdDSA"})), holder.public_jwk, typ=None
        )


def test_interop_with_joserfc_directly(agency: SigningKey) -> None:
    okp = OKPKey.import_key({**agency.public_jwk.to_dict(), "d": b64url(SEED)})
    token = joserfc_jws.serialize_compact(
        {"alg": "Ed25519", "typ": "JWT"}, b"{}", okp, algorithms=["Ed25519"]
    )
    assert verify_compact(token, agency.public_jwk, typ="jwt").header["typ"] == "JWT"


def test_alg_none_refused(agency: SigningKey) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'a': 1})}."
    with pytest.raises(e.UnsupportedAlgorithmError) as info:
        verify_compact(token, agency.public_jwk, typ="JWT")
    assert info.value.data["alg"] == "none"


@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256", None, 5])
def test_other_algs_refused(agency: SigningKey, alg: object) -> None:
    with pytest.raises(e.UnsupportedAlgorithmError):
        verify_compact(_forge({"alg": alg}, {}, agency), agency.public_jwk, typ=None)


def test_unknown_crit_refused_known_accepted(agency: SigningKey) -> None:
    token = _forge({"alg": "EdDSA", "crit": ["exp"], "exp": 1}, {}, agency)
    with pytest.raises(e.UnknownCriticalHeaderError) as info:
        verify_compact(token, agency.public_jwk, typ=None)
    assert info.value.data["crit"] == ["exp"]
    assert (
        verify_compact(token, agency.public_jwk, typ=None, understood_crit=["exp"]).header["exp"]
        == 1
    )
    with pytest.raises(e.TokenParsingError):
        verify_compact(
            _forge({"alg": "EdDSA", "crit": []}, {}, agency), agency.public_jwk, typ=None
        )


@pytest.mark.parametrize("typ", [None, "JWT", "vc+jwt"])
def test_wrong_typ_refused(agency: SigningKey, typ: str | None) -> None:
    header = {"typ": typ} if typ else {}
    token = sign_compact(header, {}, agency)
    with pytest.raises(e.TokenTypeError):
        verify_compact(token, agency.public_jwk, typ="dc+sd-jwt")
    assert verify_compact(
        sign_compact({"typ": "application/dc+sd-jwt"}, {}, agency),
        agency.public_jwk,
        typ="dc+sd-jwt",
    )


def test_oversized_token_refused_before_parsing(agency: SigningKey) -> None:
    token = sign_compact({}, b"x" * 70_000, agency)
    with pytest.raises(e.TokenTooLargeError) as info:
        verify_compact(token, agency.public_jwk, typ=None)
    assert info.value.data["limit"] == 64 * 1024
    assert (
        verify_compact(token, agency.public_jwk, typ=None, max_size=200_000).payload
        == b"x" * 70_000
    )


def test_bad_signature_and_other_key(agency: SigningKey) -> None:
    token = sign_compact({}, {"a": 1}, agency)
    other = SigningKey.generate_ed25519()
    with pytest.raises(e.ProofVerificationError):
        verify_compact(token, other.public_jwk, typ=None)
    head, _body, sig = token.split(".")
    with pytest.raises(e.ProofVerificationError):
        verify_compact(f"{head}.{_b64({'a': 2})}.{sig}", agency.public_jwk, typ=None)


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "!!.e30.", f"{b64url(b'[1]')}.e30.", f"{b64url(b'{}')}=.e30.", 7],
)
def test_unparseable_tokens(token: object) -> None:
    with pytest.raises(e.TokenParsingError):
        parse_compact(token)


def test_duplicate_header_member_refused(agency: SigningKey) -> None:
    header = b64url(b'{"alg":"EdDSA","alg":"none"}')
    with pytest.raises(e.TokenParsingError):
        parse_compact(f"{header}.e30.")


def test_public_jwk_refusals() -> None:
    good = {"kty": "OKP", "crv": "Ed25519", "x": b64url(b"\x01" * 32)}
    assert PublicJwk.from_dict({**good, "kid": "k", "use": "sig"}) == PublicJwk.from_dict(good)
    for bad in (
        {**good, "d": b64url(b"\x02" * 32)},
        {**good, "crv": "Ed448"},
        {**good, "x": b64url(b"\x01" * 31)},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "crv": "P-256", "x": b64url(b"\x01" * 32), "y": b64url(b"\x01" * 32)},
        "not a jwk",
    ):
        with pytest.raises(e.InvalidVerificationMethodError):
            PublicJwk.from_dict(bad)


def test_b64url_strict() -> None:
    assert b64url_decode(b64url(b"\xff\xfe")) == b"\xff\xfe"
    for bad in ("AB==", "A", "AB+/", "AF"):  # padding, length, alphabet, trailing bits
        with pytest.raises(ValueError):
            b64url_decode(bad)
    assert base64.urlsafe_b64decode("AA==") == b"\x00"
