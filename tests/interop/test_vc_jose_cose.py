"""VC-JOSE-COSE with implementations that are not ours, both ways.

* JOSE: panva's ``jose`` (npm, ``tests/interop/js/jose-peer.mjs``) verifies the
  ``application/vc+jwt`` credentials and ``application/vp+jwt`` presentations this service
  makes, and signs ``vc+jwt`` credentials that ``POST /credentials/verify`` accepts.
  ``jwcrypto`` (PyPI, not joserfc) checks the same tokens in process.
* COSE: ``cwt`` (PyPI, dajiaji's COSE implementation, not pycose) verifies the
  ``application/vc+cose`` credentials this service makes and signs COSE_Sign1 credentials
  that it accepts.

Each side also refuses the other's tampered token.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.dids.key import did_from_key
from identity.jose.envelope import VC_COSE, VC_JWT, VP_JWT, parse_envelope
from identity.jose.vcjose import present
from identity.keys import Ed25519PrivateKey
from tests.interop.conftest import NodePeer
from tests.service.conftest import issue, make_issuer, services_of

pytestmark = pytest.mark.interop

JS = Path(__file__).parent / "js"
SEED = "5b" * 32


@pytest.fixture(scope="module")
def jose_peer() -> NodePeer:
    """npm ``jose``, installed by ``scripts/ensure-node-peers``."""
    if shutil.which("node") is None or not (JS / "node_modules" / "jose").is_dir():
        pytest.fail("npm jose is not installed: run scripts/ensure-node-peers")
    return NodePeer(JS / "jose-peer.mjs")


def _did_of(seed_hex: str) -> tuple[str, str]:
    did = did_from_key(Ed25519PrivateKey(bytes.fromhex(seed_hex)).public_key())
    return did, f"{did}#{did.removeprefix('did:key:')}"


def _credential(issuer: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:citizen-9", "name": "Han Meimei"},
    }


def _agency_public_hex(client: TestClient, agency: dict[str, Any]) -> str:
    svc = services_of(client)
    return svc.issuance.keys.signing_key(svc.store.get_issuer(agency["id"])).public_key().raw.hex()


def _tamper_jws(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["id"] = "did:example:someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_npm_jose_verifies_our_vc_jwt(client: TestClient, jose_peer: NodePeer) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency, envelope=VC_JWT).json()["verifiableCredential"]
    token = str(parse_envelope(vc).token)
    public = _agency_public_hex(client, agency)
    answer = jose_peer.call({"op": "verify", "token": token, "publicKey": public, "typ": "vc+jwt"})
    assert answer["verified"] is True, answer
    assert answer["header"]["kid"] == agency["verificationMethod"]
    assert answer["payload"]["issuer"] == agency["did"]
    assert answer["payload"]["type"] == ["VerifiableCredential", "ResidencePermitCredential"]
    refused = jose_peer.call({"op": "verify", "token": _tamper_jws(token), "publicKey": public})
    assert refused["verified"] is False


def test_npm_jose_verifies_our_vp_jwt(client: TestClient, jose_peer: NodePeer) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency, envelope=VC_JWT).json()["verifiableCredential"]
    holder = Ed25519PrivateKey(bytes.fromhex(SEED))
    did, kid = _did_of(SEED)
    vp = present([vc], VP_JWT, holder_key=holder, holder_did=did, kid=kid, nonce="n-1")
    token = str(parse_envelope(vp, "vp").token)
    answer = jose_peer.call(
        {
            "op": "verify",
            "token": token,
            "publicKey": holder.public_key().raw.hex(),
            "typ": "vp+jwt",
        }
    )
    assert answer["verified"] is True, answer
    assert answer["payload"]["nonce"] == "n-1"
    assert answer["payload"]["verifiableCredential"] == [vc]


def test_a_vc_jwt_signed_by_npm_jose_verifies_here(client: TestClient, jose_peer: NodePeer) -> None:
    did, kid = _did_of(SEED)
    header = {"alg": "EdDSA", "kid": kid, "typ": "vc+jwt", "cty": "vc"}
    made = jose_peer.call(
        {"op": "sign", "seed": SEED, "header": header, "payload": _credential(did)}
    )
    envelope = {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+jwt,{made['token']}",
    }
    response = client.post("/credentials/verify", json={"verifiableCredential": envelope})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["results"]["proof"]["verificationMethod"] == kid
    assert body["results"]["issuer"]["issuer"] == did
    assert body["results"]["issuerTrust"]["accredited"] is False  # a foreign issuer
    tampered = {**envelope, "id": f"data:application/vc+jwt,{_tamper_jws(made['token'])}"}
    refused = client.post("/credentials/verify", json={"verifiableCredential": tampered})
    assert refused.status_code == 422
    assert refused.json()["type"] == "https://w3id.org/security#PROOF_VERIFICATION_ERROR"


def test_a_vc_jwt_with_the_fully_specified_ed25519_alg_verifies_here(
    client: TestClient, jose_peer: NodePeer
) -> None:
    did, kid = _did_of(SEED)
    header = {"alg": "Ed25519", "kid": kid, "typ": "vc+jwt"}
    made = jose_peer.call(
        {"op": "sign", "seed": SEED, "header": header, "payload": _credential(did)}
    )
    envelope = {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+jwt,{made['token']}",
    }
    response = client.post("/credentials/verify", json={"verifiableCredential": envelope})
    assert response.status_code == 200, response.text


def test_jwcrypto_verifies_our_vc_jwt(client: TestClient) -> None:
    from jwcrypto import jwk, jws

    agency = make_issuer(client)
    vc = issue(client, agency, envelope=VC_JWT).json()["verifiableCredential"]
    token = str(parse_envelope(vc).token)
    public = bytes.fromhex(_agency_public_hex(client, agency))
    key = jwk.JWK(
        kty="OKP", crv="Ed25519", x=base64.urlsafe_b64encode(public).rstrip(b"=").decode()
    )
    checked = jws.JWS()
    checked.deserialize(token)
    checked.verify(key)
    assert json.loads(checked.payload)["issuer"] == agency["did"]
    with pytest.raises(jws.InvalidJWSSignature):
        forged = jws.JWS()
        forged.deserialize(_tamper_jws(token))
        forged.verify(key)


def _cwt_key(seed_hex: str, private: bool) -> Any:
    from cwt import COSEKey

    key = Ed25519PrivateKey(bytes.fromhex(seed_hex))
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    members = {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": b64(key.public_key().raw)}
    if private:
        members["d"] = b64(key.seed)
    return COSEKey.from_jwk(members)


def test_cwt_verifies_our_vc_cose(client: TestClient) -> None:
    from cwt import COSE, COSEKey, DecodeError, VerifyError

    agency = make_issuer(client)
    vc = issue(client, agency, envelope=VC_COSE).json()["verifiableCredential"]
    token = parse_envelope(vc).token_bytes
    public = bytes.fromhex(_agency_public_hex(client, agency))
    key = COSEKey.from_jwk(
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "x": base64.urlsafe_b64encode(public).rstrip(b"=").decode(),
            "kid": agency["verificationMethod"],  # cwt picks the key by the message's kid
        }
    )
    protected, _, payload = COSE.new().decode_with_headers(token, key)
    assert protected[16] == "application/vc+cose"
    assert protected[3] == "application/vc"
    assert protected[4] == agency["verificationMethod"].encode()
    assert json.loads(payload)["issuer"] == agency["did"]
    flipped = bytearray(token)
    flipped[-1] ^= 1
    with pytest.raises((VerifyError, DecodeError)):
        COSE.new().decode_with_headers(bytes(flipped), key)


def test_a_vc_cose_signed_by_cwt_verifies_here(client: TestClient) -> None:
    from cwt import COSE

    did, kid = _did_of(SEED)
    payload = json.dumps(_credential(did)).encode()
    protected = {1: -8, 4: kid.encode(), 3: "application/vc", 16: "application/vc+cose"}
    token = COSE.new().encode_and_sign(payload, _cwt_key(SEED, private=True), protected=protected)
    envelope = {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "type": "EnvelopedVerifiableCredential",
        "id": "data:application/vc+cose;base64," + base64.b64encode(token).decode(),
    }
    response = client.post("/credentials/verify", json={"verifiableCredential": envelope})
    assert response.status_code == 200, response.text
    assert response.json()["results"]["wellFormed"]["mediaType"] == VC_COSE
    other = json.dumps({**_credential(did), "credentialSubject": {"id": "did:example:x"}}).encode()
    forged = COSE.new().encode_and_sign(
        other, _cwt_key("5c" * 32, private=True), protected=protected
    )
    envelope["id"] = "data:application/vc+cose;base64," + base64.b64encode(forged).decode()
    refused = client.post("/credentials/verify", json={"verifiableCredential": envelope})
    assert refused.status_code == 422
    assert refused.json()["type"] == "https://w3id.org/security#PROOF_VERIFICATION_ERROR"


def _p256_did_key() -> tuple[Any, str, str]:
    """A P-256 key (jwcrypto) and its did:key (multicodec p256-pub 0x1200, compressed)."""
    import base58
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from jwcrypto import jwk

    key = jwk.JWK.generate(kty="EC", crv="P-256")
    point = key.get_op_key("verify").public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    did = "did:key:z" + base58.b58encode(b"\x80\x24" + point).decode()
    return key, did, f"{did}#{did.removeprefix('did:key:')}"


def test_a_legacy_jwt_presentation_made_by_jwcrypto_verifies_here(client: TestClient) -> None:
    """VC DM 1.1 §6.3.1 JWTs (``vc``/``vp`` claims) as ``application/jwt``, as the W3C VC 2.0
    suite's enveloped-presentation fixture has them: an ES256 credential by a P-256 did:key
    inside an EdDSA presentation by an Ed25519 did:key, both signed by jwcrypto."""
    from jwcrypto import jwk, jwt

    issuer_key, issuer, issuer_kid = _p256_did_key()
    inner = jwt.JWT(
        header={"alg": "ES256", "kid": issuer_kid},
        claims={
            "iss": issuer,
            "sub": "did:example:alice",
            "vc": {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "validFrom": "2026-01-01T00:00:00Z",
                "credentialSubject": {"name": "Alice"},
            },
        },
    )
    inner.make_signed_token(issuer_key)
    holder_seed = Ed25519PrivateKey(bytes.fromhex(SEED))
    holder, holder_kid = _did_of(SEED)
    b64 = base64.urlsafe_b64encode(holder_seed.seed).rstrip(b"=").decode()
    x = base64.urlsafe_b64encode(holder_seed.public_key().raw).rstrip(b"=").decode()
    holder_key = jwk.JWK(kty="OKP", crv="Ed25519", d=b64, x=x)
    challenge = client.post("/challenges").json()["challenge"]
    outer = jwt.JWT(
        header={"alg": "EdDSA", "kid": holder_kid, "typ": "JWT"},
        claims={
            "iss": holder,
            "aud": "verifier.example",
            "nonce": challenge,
            "vp": {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiablePresentation"],
                "verifiableCredential": [
                    {
                        "@context": "https://www.w3.org/ns/credentials/v2",
                        "type": "EnvelopedVerifiableCredential",
                        "id": f"data:application/jwt,{inner.serialize()}",
                    }
                ],
            },
        },
    )
    outer.make_signed_token(holder_key)
    vp = {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "type": "EnvelopedVerifiablePresentation",
        "id": f"data:application/jwt,{outer.serialize()}",
    }
    options = {"challenge": challenge, "domain": "verifier.example"}
    response = client.post(
        "/presentations/verify", json={"verifiablePresentation": vp, "options": options}
    )
    assert response.status_code == 200, response.text
    assert response.json()["holder"] == holder
