"""VC-JOSE-COSE over HTTP: issue enveloped (vc+jwt, vc+cose), verify with every check,
anchoring of exactly the token bytes, status, presentations, and refusals."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import cbor2
import pytest
from fastapi.testclient import TestClient

from identity.canonical import jcs
from identity.credentials.presentations import sign_presentation
from identity.dids.key import did_from_key
from identity.jose import jws
from identity.jose.envelope import VC_COSE, VC_JWT, VP_COSE, VP_JWT, parse_envelope
from identity.jose.keys import SigningKey
from identity.jose.vcjose import present
from identity.keys import Ed25519PrivateKey
from identity.log.entries import LogEntry
from identity.proofs.eddsa_jcs import EddsaJcs2022
from tests.service.conftest import issue, make_issuer, services_of

CHECKS = ["wellFormed", "proof", "issuer", "validityPeriod", "status", "issuerTrust", "anchor"]


def issued(client: TestClient, media_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(agency, issue response body) for one enveloped residence permit."""
    agency = make_issuer(client)
    response = issue(client, agency, envelope=media_type)
    assert response.status_code == 201, response.text
    return agency, response.json()


@pytest.mark.parametrize("media_type", [VC_JWT, VC_COSE])
def test_issue_enveloped_and_verify_with_every_check(client: TestClient, media_type: str) -> None:
    _, body = issued(client, media_type)
    vc = body["verifiableCredential"]
    assert vc["type"] == "EnvelopedVerifiableCredential"
    assert vc["@context"] == "https://www.w3.org/ns/credentials/v2"
    assert vc["id"].startswith(f"data:{media_type}")
    verified = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert verified.status_code == 200, verified.text
    out = verified.json()
    assert out["verified"] is True
    assert out["checks"] == CHECKS
    assert out["results"]["anchor"]["index"] == body["receipt"]["index"]
    # The leaf holds the digest of exactly the token handed out.
    token = parse_envelope(vc).token_bytes
    svc = services_of(client)
    index = body["receipt"]["index"]
    [data] = svc.logs.log.store.read_entries(index, index + 1)
    entry = LogEntry.parse(data)
    assert entry.kind == "credential.issued"
    assert entry.fields["credential_digest"] == "sha256:" + hashlib.sha256(token).hexdigest()


def _jwt_envelope(header: dict[str, Any], payload: Any, signature: bytes = b"x" * 64) -> dict:
    def part(value: Any) -> str:
        data = value if isinstance(value, bytes) else json.dumps(value).encode()
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    token = f"{part(header)}.{part(payload)}.{part(signature)}"
    return {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+jwt,{token}",
    }


def _resigned(agency_key: Ed25519PrivateKey, kid: str, header: dict, payload: dict) -> dict:
    """A token signed with the agency's real key (so only the header is at fault)."""
    okp = SigningKey.from_ed25519(agency_key)
    token = jws.sign_compact(header, jcs(payload), okp)
    return {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+jwt,{token}",
    }


def _state(client: TestClient) -> tuple[int, int]:
    svc = services_of(client)
    return svc.store.count_credentials(), svc.logs.log.store.entry_count()


def _payload_of(vc: dict[str, Any]) -> dict[str, Any]:
    token = vc["id"].split(",", 1)[1]
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.mark.parametrize(
    ("mutate", "status", "problem"),
    [
        (
            lambda p, h, vc, key, kid: {**vc, "id": vc["id"].split(",", 1)[1]},
            400,
            "malformed-envelope",
        ),
        (lambda p, h, vc, key, kid: {**vc, "@context": []}, 400, "malformed-envelope"),
        (lambda p, h, vc, key, kid: {**vc, "type": "VerifiableCredential"}, 400, None),
        (
            lambda p, h, vc, key, kid: {**vc, "id": "data:application/vc+jwt,a.b!.c"},
            400,
            "token-parsing",
        ),
        (lambda p, h, vc, key, kid: {**vc, "id": "data:text/plain,abc"}, 400, "malformed-envelope"),
        (
            lambda p, h, vc, key, kid: {**vc, "id": "data:application/vc+jwt," + "a" * 20_000},
            400,
            "token-too-large",
        ),
        (
            lambda p, h, vc, key, kid: _jwt_envelope({**h, "alg": "none"}, p, b""),
            422,
            "unsupported-algorithm",
        ),
        (
            lambda p, h, vc, key, kid: _resigned(key, kid, {**h, "crit": ["exp"], "exp": 1}, p),
            422,
            "unknown-critical-header",
        ),
        (
            lambda p, h, vc, key, kid: _resigned(key, kid, {**h, "typ": "JWT"}, p),
            400,
            "wrong-token-type",
        ),
        (
            lambda p, h, vc, key, kid: _resigned(key, kid, {**h, "cty": "vp"}, p),
            400,
            "wrong-token-type",
        ),
        (
            lambda p, h, vc, key, kid: _resigned(key, kid, h, {**p, "vc": {}}),
            400,
            "malformed-envelope",
        ),
        (
            lambda p, h, vc, key, kid: _resigned(
                key, kid, h, {k: v for k, v in p.items() if k != "issuer"}
            ),
            400,
            "MALFORMED_VALUE_ERROR",
        ),
        (
            lambda p, h, vc, key, kid: (
                _resigned(
                    key,
                    kid,
                    h,
                    {**p, "credentialSubject": {**p["credentialSubject"], "fullName": "X"}},
                )
                | {
                    "id": vc["id"].rsplit(".", 1)[0]
                    + "."
                    + _resigned(key, kid, h, {**p, "x": 1})["id"].rsplit(".", 1)[1]
                }
            ),
            422,
            "PROOF_VERIFICATION_ERROR",
        ),
    ],
    ids=[
        "id-not-a-data-url",
        "empty-context",
        "wrong-type",
        "bad-base64url",
        "unknown-media-type",
        "oversized",
        "alg-none",
        "unknown-crit",
        "wrong-typ",
        "wrong-cty",
        "vc-claim-present",
        "payload-not-a-vc",
        "signature-of-another-payload",
    ],
)
def test_bad_envelopes_are_precise_problems_and_change_nothing(
    client: TestClient, mutate: Any, status: int, problem: str | None
) -> None:
    agency, body = issued(client, VC_JWT)
    vc = body["verifiableCredential"]
    svc = services_of(client)
    issuer = svc.store.get_issuer(agency["id"])
    key, kid = svc.issuance.keys.signing_key(issuer), agency["verificationMethod"]
    svc.verification.enveloping.verifier.max_token_bytes = (
        16 * 1024
    )  # below the test's 64 KiB body limit
    header = {"alg": "EdDSA", "kid": kid, "typ": "vc+jwt"}
    before = _state(client)
    bad = mutate(_payload_of(vc), header, vc, key, kid)
    response = client.post("/credentials/verify", json={"verifiableCredential": bad})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    out = response.json()
    assert out["verified"] is False
    if problem is not None:
        assert out["type"].endswith(problem), out
    assert _state(client) == before


def test_cose_bad_cbor_and_trailing_bytes_are_refused(client: TestClient) -> None:
    _, body = issued(client, VC_COSE)
    vc = body["verifiableCredential"]
    token = parse_envelope(vc).token_bytes
    for data in (b"\xff\x00garbage", token + b"\x00", cbor2.dumps([1, 2, 3])):
        bad = {**vc, "id": "data:application/vc+cose;base64," + base64.b64encode(data).decode()}
        response = client.post("/credentials/verify", json={"verifiableCredential": bad})
        assert response.status_code == 400, response.text
        assert response.json()["type"].endswith("malformed-cose")
    not_b64 = {**vc, "id": "data:application/vc+cose;base64,@@@"}
    response = client.post("/credentials/verify", json={"verifiableCredential": not_b64})
    assert response.status_code == 400
    assert response.json()["type"].endswith("malformed-envelope")


@pytest.mark.parametrize("media_type", [VC_JWT, VC_COSE])
def test_revoking_an_enveloped_credential_fails_its_status_check(
    client: TestClient, media_type: str
) -> None:
    agency, body = issued(client, media_type)
    revoked = client.post(
        "/credentials/status",
        json={
            "credentialId": body["credentialId"],
            "credentialStatus": {
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "status": True,
            },
        },
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert revoked.status_code == 200, revoked.text
    response = client.post(
        "/credentials/verify", json={"verifiableCredential": body["verifiableCredential"]}
    )
    assert response.status_code == 422
    out = response.json()
    assert out["results"]["status"]["valid"] is False
    assert [p["check"] for p in out["problemDetails"]] == ["status"]


def test_an_unknown_envelope_option_is_refused_and_nothing_is_written(client: TestClient) -> None:
    agency = make_issuer(client)
    before = _state(client)
    response = issue(client, agency, envelope="application/vc+sd-jwt")
    assert response.status_code == 422
    assert response.json()["type"].endswith("MALFORMED_VALUE_ERROR")
    assert _state(client) == before


@pytest.mark.parametrize("vp_type", [VP_JWT, VP_COSE])
@pytest.mark.parametrize("vc_type", [VC_JWT, VC_COSE])
def test_enveloped_presentation_of_enveloped_credentials(
    client: TestClient, vp_type: str, vc_type: str
) -> None:
    _, body = issued(client, vc_type)
    holder = Ed25519PrivateKey(b"\x07" * 32)
    did = did_from_key(holder.public_key())
    kid = f"{did}#{did.removeprefix('did:key:')}"
    challenge = client.post("/challenges").json()["challenge"]
    vp = present(
        [body["verifiableCredential"]],
        vp_type,
        holder_key=holder,
        holder_did=did,
        kid=kid,
        nonce=challenge,
        audience="verifier.example",
    )
    options = {"challenge": challenge, "domain": "verifier.example"}
    response = client.post(
        "/presentations/verify", json={"verifiablePresentation": vp, "options": options}
    )
    assert response.status_code == 200, response.text
    assert response.json()["holder"] == did
    # Single use: the same presentation again is refused.
    again = client.post(
        "/presentations/verify", json={"verifiablePresentation": vp, "options": options}
    )
    assert again.status_code == 422
    # Another nonce, or another audience, is refused.
    for wrong in (
        {"challenge": "other", "domain": "verifier.example"},
        {"challenge": challenge, "domain": "x.example"},
    ):
        refused = client.post(
            "/presentations/verify", json={"verifiablePresentation": vp, "options": wrong}
        )
        assert refused.status_code == 422
        assert refused.json()["verified"] is False


def test_enveloped_credential_inside_a_data_integrity_presentation(client: TestClient) -> None:
    _, body = issued(client, VC_JWT)
    holder = Ed25519PrivateKey(b"\x08" * 32)
    did = did_from_key(holder.public_key())
    challenge = client.post("/challenges").json()["challenge"]
    vp = sign_presentation(
        [body["verifiableCredential"]],
        holder_key=holder,
        holder_did=did,
        verification_method=f"{did}#{did.removeprefix('did:key:')}",
        challenge=challenge,
        domain=None,
        suite=EddsaJcs2022(),
        created=services_of(client).clock.now(),
    )
    response = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": vp, "options": {"challenge": challenge}},
    )
    assert response.status_code == 200, response.text
