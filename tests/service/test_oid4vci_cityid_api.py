"""OpenID4VCI for a citizen whose DID is a did:cityid (the portal's browser key): the key
proof's ``kid`` names a verification method of the citizen's DID document, resolved with
the service's resolver, and must be in its ``authentication`` relationship (DID Core
§5.3.1). Both flows issue; every other key -- another DID's, a rotated-out or missing
method, an ``assertionMethod``-only method, a did:web, a signature by another key -- is
``invalid_proof`` with nothing issued and the offer unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.credentials.presentations import sign_presentation
from identity.dids.cityid import create_operation, did_of
from identity.jose.jws import parse_compact
from identity.jose.keys import SigningKey
from identity.keys import Ed25519PrivateKey
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.sdjwt.format import split
from identity.wallet_client.issuance import credential_request, key_proof
from tests.service import test_oid4vci_authorize_api as authz
from tests.service.conftest import NOW, make_issuer, services_of
from tests.service.directory_helpers import Citizen
from tests.service.test_oid4vci_api import LDP, SD, T, access, created, nonce, oauth, records


@pytest.fixture
def agency(client: TestClient) -> dict[str, Any]:
    return make_issuer(client)


@pytest.fixture
def citizen(client: TestClient) -> Citizen:
    one = Citizen(seed=41)
    one.register(client)
    return one


def proof_by(client: TestClient, key: Ed25519PrivateKey, kid: str) -> str:
    audience = services_of(client).settings.public_url.rstrip("/")
    return key_proof(SigningKey.from_ed25519(key), audience=audience, nonce=nonce(client),
                     issued_at=T, kid=kid)  # fmt: skip


def ask(client: TestClient, bearer: str, config: str, proof: str) -> Any:
    return client.post("/oid4vci/credential", json=credential_request(config, proof),
                       headers={"Authorization": f"Bearer {bearer}"})  # fmt: skip


def stored(client: TestClient, offer_id: str) -> Any:
    return client.app.state.oid4vci.store.get_offer(offer_id)  # type: ignore[attr-defined]


def test_metadata_names_did_cityid_as_a_binding_method(client: TestClient) -> None:
    configs = client.get("/.well-known/openid-credential-issuer").json()[
        "credential_configurations_supported"
    ]
    assert "did:cityid" in configs[SD]["cryptographic_binding_methods_supported"]
    assert "did:cityid" in configs[LDP]["cryptographic_binding_methods_supported"]


def test_pre_authorized_flow_binds_both_formats_to_the_did_cityid(
    client: TestClient, agency: dict[str, Any], citizen: Citizen
) -> None:
    made = created(client, agency, subject=citizen.did, formats=["dc+sd-jwt", "ldp_vc"])
    bearer, before = access(client, made), records(client)
    sd = ask(client, bearer, SD, proof_by(client, citizen.key, citizen.method))
    assert sd.status_code == 200, sd.text
    jwt = split(sd.json()["credentials"][0]["credential"]).issuer_jwt
    claims = parse_compact(jwt).claims()
    assert claims["cnf"]["jwk"] == SigningKey.from_ed25519(citizen.key).public_jwk.to_dict()
    ldp = ask(client, bearer, LDP, proof_by(client, citizen.key, citizen.method))
    assert ldp.status_code == 200, ldp.text
    vc = ldp.json()["credentials"][0]["credential"]
    assert vc["credentialSubject"]["id"] == citizen.did
    assert records(client) == before + 2


def test_authorization_code_flow_for_a_did_cityid_citizen(
    client: TestClient, agency: dict[str, Any], citizen: Citizen
) -> None:
    made = authz.offered(client, agency, subject=citizen.did)
    started = authz.authorize(client, authz.params(made))
    assert started.status_code == 200, started.text
    body = started.json()
    vp = sign_presentation([], holder_key=citizen.key, holder_did=citizen.did,
                           suite=EddsaJcs2022(), verification_method=citizen.method,
                           challenge=body["challenge"], domain=body["domain"],
                           created=NOW)  # fmt: skip
    answer = authz.answer_of(authz.sign_in(client, body, vp))
    token = authz.exchange(client, answer["code"])
    assert token.status_code == 200, token.text
    assert stored(client, made["offerId"]).authorized["did"] == citizen.did
    before = records(client)
    issued = ask(client, token.json()["access_token"], SD,
                 proof_by(client, citizen.key, citizen.method))  # fmt: skip
    assert issued.status_code == 200, issued.text
    assert records(client) == before + 1


def _only_assertion_key_did(client: TestClient) -> tuple[str, Ed25519PrivateKey]:
    main, second = Ed25519PrivateKey(b"\x43" * 32), Ed25519PrivateKey(b"\x44" * 32)
    body = {
        "verificationMethod": [
            {"id": "#key-1", "type": "Multikey",
             "publicKeyMultibase": main.public_key().multibase},
            {"id": "#key-2", "type": "Multikey",
             "publicKeyMultibase": second.public_key().multibase},
        ],
        "authentication": ["#key-1"],
        "assertionMethod": ["#key-1", "#key-2"],
        "capabilityInvocation": ["#key-1"],
        "capabilityDelegation": ["#key-1"],
    }  # fmt: skip
    operation = create_operation(main, body)
    response = client.post("/dids", json=operation)
    assert response.status_code == 201, response.text
    return did_of(operation), second


def test_keys_outside_the_subjects_authentication_methods_are_invalid_proof(
    client: TestClient, agency: dict[str, Any], citizen: Citizen
) -> None:
    other = Citizen(seed=42)
    other.register(client)
    stranger = Citizen(seed=45)  # never registered
    made = created(client, agency, subject=citizen.did, formats=["dc+sd-jwt", "ldp_vc"])
    bearer = access(client, made)
    before, offer = records(client), stored(client, made["offerId"])
    own_did_key = f"did:key:{citizen.key.public_key().multibase}"
    cases = [
        proof_by(client, other.key, other.method),  # another citizen's did:cityid key
        proof_by(client, citizen.key, f"{own_did_key}#{own_did_key[8:]}"),  # not the DID
        proof_by(client, citizen.key, citizen.did + "#key-9"),  # no such method
        proof_by(client, other.key, citizen.method),  # the method, another key's signature
        proof_by(client, stranger.key, stranger.method),  # an unregistered did:cityid
        proof_by(client, citizen.key, "did:web:example.com#key-1"),  # not dereferenced
        proof_by(client, citizen.key, citizen.did),  # a DID, not a DID URL
    ]
    for jwt in cases:
        for config in (SD, LDP):
            oauth(ask(client, bearer, config, jwt), 400, "invalid_proof")
    assert records(client) == before and stored(client, made["offerId"]) == offer


def test_an_assertion_only_or_rotated_out_key_is_invalid_proof(
    client: TestClient, agency: dict[str, Any], citizen: Citizen
) -> None:
    did, second = _only_assertion_key_did(client)
    made = created(client, agency, subject=did)
    bearer, before = access(client, made), records(client)
    oauth(ask(client, bearer, SD, proof_by(client, second, did + "#key-2")), 400, "invalid_proof")
    assert records(client) == before
    rotated = created(client, agency, subject=citizen.did)
    old_key, old_method = citizen.key, citizen.method
    assert citizen.rotate(client, 46).status_code == 200  # the update is anchored too
    bearer, before = access(client, rotated), records(client)
    oauth(ask(client, bearer, SD, proof_by(client, old_key, old_method)), 400, "invalid_proof")
    assert records(client) == before
    fresh = ask(client, bearer, SD, proof_by(client, citizen.key, citizen.method))
    assert fresh.status_code == 200, fresh.text
