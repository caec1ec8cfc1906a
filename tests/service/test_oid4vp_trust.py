# ruff: noqa: F811 (the fixtures of test_oid4vp_api, imported, are parameters here)
"""OpenID4VP and issuer trust: a presentation request refuses, by default, a credential
whose issuer was not accredited for its type (``requireAccreditedIssuer``, as on ``POST
/credentials/verify``), so a look-alike signed by anyone's did:key is never an answer."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from identity.credentials.issuer import sign_credential
from identity.dids.key import did_from_key
from identity.jose.keys import SigningKey
from identity.keys import Ed25519PrivateKey
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.wallet_client.presentation import HeldCredential
from tests.service.conftest import NOW, credential_for
from tests.service.test_oid4vp_api import (  # noqa: F401 (fixtures)
    answer_form,
    create,
    fetch,
    held,
    holder,
    ldp_query,
    post,
    refused,
    result,
    verifier,
)

FORBIDDEN = "https://identity-service.example/problems/forbidden"


def look_alike(holder: SigningKey) -> HeldCredential:
    """A residence permit (``ldp_vc``) signed by a did:key no operator accredited: anyone
    can make one, and its signature verifies."""
    key = Ed25519PrivateKey.generate()
    did = did_from_key(key.public_key())
    subject = did_from_key(holder.public_jwk.ed25519())
    document = credential_for(did)
    document["credentialSubject"]["id"] = subject
    signed = sign_credential(
        document,
        issuer_did=did,
        verification_method=f"{did}#{did.removeprefix('did:key:')}",
        key=key,
        suite=EddsaJcs2022(),
        created=NOW,
    )
    return HeldCredential("fake.json", "ldp_vc", json.dumps(signed.json))


def ask(client: TestClient, verifier: dict[str, str], **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/oid4vp/requests", json={"dcql_query": ldp_query(), **extra}, headers=verifier
    )
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    return out


def _answer(
    client: TestClient, created: dict[str, Any], cred: HeldCredential, key: SigningKey
) -> Any:
    request = fetch(client, created)
    return post(client, request, answer_form(request, cred, key))


def test_a_look_alike_from_an_unaccredited_issuer_is_refused_by_default(
    client: TestClient, verifier: dict[str, str]
) -> None:
    holder = SigningKey.generate_ed25519()
    created = ask(client, verifier)
    assert created["requireAccreditedIssuer"] is True
    response = _answer(client, created, look_alike(holder), holder)
    assert refused(response) == "invalid_request"
    body = result(client, created, verifier).json()
    assert "verified" not in body and body["status"] == "fetched"  # never an answer
    assert body["refusedCount"] == 1 and body["refusals"][0]["cause"] == FORBIDDEN


def test_an_accredited_issuer_answers_and_its_trust_is_reported(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created = create(client, verifier)  # dc+sd-jwt, from an accredited agency
    assert _answer(client, created, held, holder).status_code == 200
    body = result(client, created, verifier).json()
    assert body["verified"] is True
    assert body["credentials"]["permit"][0]["results"]["issuerTrust"]["accredited"] is True


def test_a_verifier_that_allows_any_issuer_sees_it_reported_unaccredited(
    client: TestClient, verifier: dict[str, str]
) -> None:
    holder = SigningKey.generate_ed25519()
    created = ask(client, verifier, requireAccreditedIssuer=False)
    assert created["requireAccreditedIssuer"] is False
    assert _answer(client, created, look_alike(holder), holder).status_code == 200
    body = result(client, created, verifier).json()
    assert body["verified"] is True
    permit = body["credentials"]["permit"][0]
    assert permit["results"]["issuerTrust"]["accredited"] is False
    assert permit["results"]["proof"]["valid"] is True


def _count(client: TestClient) -> int:
    rows = client.app.state.oid4vp.requests._read(  # type: ignore[attr-defined]
        "SELECT COUNT(*) FROM oid4vp_requests", ()
    )
    return int(rows[0][0])


def test_a_non_boolean_option_is_refused_and_nothing_is_created(
    client: TestClient, verifier: dict[str, str]
) -> None:
    before = _count(client)
    response = client.post(
        "/oid4vp/requests",
        json={"dcql_query": ldp_query(), "requireAccreditedIssuer": "yes"},
        headers=verifier,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"
    assert body["field"] == "requireAccreditedIssuer"
    assert _count(client) == before
