"""Roles: citizen DID authentication and wallet, verifier keys, the authorization matrix."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.credentials.presentations import sign_presentation
from identity.errors import PROBLEMS
from identity.keys import Ed25519PrivateKey
from identity.proofs.eddsa_jcs import EddsaJcs2022
from service.app import create_app
from service.settings import Settings
from tests.service.conftest import NOW, admin, credential_for, issue, make_issuer
from tests.service.directory_helpers import ask, catalog_entry, publish

CITIZEN = Ed25519PrivateKey(b"\x0d" * 32)
CITIZEN_DID = "did:key:" + CITIZEN.public_key().multibase


def login(
    client: TestClient,
    key: Ed25519PrivateKey = CITIZEN,
    did: str = CITIZEN_DID,
    domain: str | None = None,
) -> Any:
    challenge = client.post("/auth/challenge").json()
    vp = sign_presentation(
        [],
        holder_key=key,
        holder_did=did,
        verification_method=f"{did}#{did[8:]}",
        challenge=challenge["challenge"],
        domain=domain or challenge["domain"],
        suite=EddsaJcs2022(),
        created=NOW,
    )
    return client.post("/auth/token", json={"verifiablePresentation": vp})


def citizen_headers(client: TestClient) -> dict[str, str]:
    response = login(client)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _issue_to_citizen(client: TestClient, agency: dict[str, Any]) -> str:
    cred = credential_for(agency["did"])
    cred["credentialSubject"]["id"] = CITIZEN_DID
    response = issue(client, agency, cred)
    assert response.status_code == 201
    cred_id: str = response.json()["credentialId"]
    return cred_id


def test_a_citizen_signs_a_challenge_and_gets_a_token_for_their_did(client: TestClient) -> None:
    response = login(client)
    assert response.status_code == 200
    assert response.json()["did"] == CITIZEN_DID
    assert response.json()["access_token"].startswith("ct_")


# /auth/token needs no credential, so a failed login is not a 401 (docs/security.md): it
# is a well-formed request that is semantically wrong, 422 with the failed check's type.


def test_a_challenge_signed_for_another_domain_is_refused(client: TestClient) -> None:
    response = login(client, domain="evil.example")
    assert response.status_code == 422
    assert response.json()["type"] == "https://w3id.org/security#INVALID_DOMAIN_ERROR"
    assert "www-authenticate" not in response.headers


def test_a_presentation_claiming_someone_elses_did_is_refused(client: TestClient) -> None:
    response = login(client, key=Ed25519PrivateKey(b"\x0e" * 32))
    assert response.status_code == 422
    assert response.json()["type"] == "https://w3id.org/security#PROOF_VERIFICATION_ERROR"
    assert "www-authenticate" not in response.headers


def test_a_made_up_challenge_is_refused_like_a_spent_one(client: TestClient) -> None:
    vp = sign_presentation(
        [],
        holder_key=CITIZEN,
        holder_did=CITIZEN_DID,
        verification_method=f"{CITIZEN_DID}#{CITIZEN_DID[8:]}",
        challenge="made-up",
        domain=client.post("/auth/challenge").json()["domain"],
        suite=EddsaJcs2022(),
        created=NOW,
    )
    response = client.post("/auth/token", json={"verifiablePresentation": vp})
    assert response.status_code == 422
    assert response.json()["type"] == "https://w3id.org/security#INVALID_CHALLENGE_ERROR"


def test_a_reused_login_challenge_is_refused(client: TestClient) -> None:
    challenge = client.post("/auth/challenge").json()
    vp = sign_presentation(
        [],
        holder_key=CITIZEN,
        holder_did=CITIZEN_DID,
        verification_method=f"{CITIZEN_DID}#{CITIZEN_DID[8:]}",
        challenge=challenge["challenge"],
        domain=challenge["domain"],
        suite=EddsaJcs2022(),
        created=NOW,
    )
    assert client.post("/auth/token", json={"verifiablePresentation": vp}).status_code == 200
    again = client.post("/auth/token", json={"verifiablePresentation": vp})
    assert again.status_code == 422
    assert again.json()["type"] == "https://w3id.org/security#INVALID_CHALLENGE_ERROR"


def test_the_wallet_lists_only_the_citizens_credentials_with_status(client: TestClient) -> None:
    agency = make_issuer(client)
    mine = _issue_to_citizen(client, agency)
    issue(client, agency)  # someone else's
    client.post(
        "/credentials/status",
        json={"credentialId": mine, "credentialStatus": [{"status": "suspended"}]},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    listed = client.get("/wallet/credentials", headers=citizen_headers(client))
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()] == [mine]
    assert listed.json()[0]["status"] == {"revocation": False, "suspension": True}
    one = client.get(f"/wallet/credentials/{mine}", headers=citizen_headers(client))
    assert one.status_code == 200 and one.json()["type"] == "ResidencePermitCredential"


def test_another_citizens_credential_is_404(client: TestClient) -> None:
    agency = make_issuer(client)
    other = issue(client, agency).json()["credentialId"]
    response = client.get(f"/wallet/credentials/{other}", headers=citizen_headers(client))
    assert response.status_code == 404


def test_an_expired_or_forged_citizen_token_is_401(client: TestClient, clock: FixedClock) -> None:
    headers = citizen_headers(client)
    token = headers["Authorization"][7:]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert (
        client.get("/wallet/credentials", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )
    clock.advance(timedelta(minutes=16))
    expired = client.get("/wallet/credentials", headers=headers)
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


def test_anonymous_verification_is_rate_limited_and_verifier_keys_are_not(tmp_path: Any) -> None:
    settings = Settings(
        data_dir=tmp_path, admin_token="a" * 40, master_secret="ab" * 32, public_verify_per_minute=6
    )
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as client:
        body = {"verifiableCredential": {"not": "a credential"}}
        codes = [client.post("/credentials/verify", json=body).status_code for _ in range(3)]
        assert codes[0] == 400 and codes[-1] == 429
        limited = client.post("/credentials/verify", json=body)
        assert limited.headers["retry-after"].isdigit()
        assert limited.json()["type"] == PROBLEMS + "rate-limited"
        key = client.post(
            "/verifiers", json={"name": "Bank"}, headers={"Authorization": "Bearer " + "a" * 40}
        ).json()["apiKey"]
        for _ in range(5):
            answer = client.post(
                "/credentials/verify", json=body, headers={"Authorization": f"Bearer {key}"}
            )
            assert answer.status_code == 400


# -- the authorization matrix ----------------------------------------------------------------
# Every endpoint that needs a role, against every role: no role can do more than its row.

ROLES = [
    "anonymous",
    "operator",
    "agency",
    "agency-issue-only",
    "other-agency",
    "verifier",
    "citizen",
    "revoked-key",
    "made-up-key",
    "forged-citizen-token",
]
BAD_CREDENTIALS = {"revoked-key", "made-up-key", "forged-citizen-token"}


@pytest.fixture
def world(client: TestClient) -> dict[str, Any]:
    agency = make_issuer(client)
    other = make_issuer(client, "Other Bureau")
    narrow = client.post(
        f"/issuers/{agency['id']}/keys", json={"scopes": ["issue"]}, headers=admin()
    ).json()["apiKey"]
    verifier = client.post("/verifiers", json={"name": "Bank"}, headers=admin()).json()["apiKey"]
    cred_id = _issue_to_citizen(client, agency)
    assert publish(client, other, catalog_entry("other.register")).status_code == 201
    asked = ask(client, agency, CITIZEN_DID, resource="other.register")
    assert asked.status_code == 201, asked.text
    headers = {
        "anonymous": {},
        "operator": admin(),
        "agency": {"Authorization": f"Bearer {agency['apiKey']}"},
        "agency-issue-only": {"Authorization": f"Bearer {narrow}"},
        "other-agency": {"Authorization": f"Bearer {other['apiKey']}"},
        "verifier": {"Authorization": f"Bearer {verifier}"},
        "citizen": citizen_headers(client),
        "revoked-key": {"Authorization": f"Bearer {_revoked_key(client, agency)}"},
        "made-up-key": {"Authorization": "Bearer ik_0123456789abcdef.made-up"},
        "forged-citizen-token": {"Authorization": "Bearer ct_e30.AAAA"},
    }
    return {
        "agency": agency,
        "other": other,
        "cred_id": cred_id,
        "request_id": asked.json()["id"],
        "headers": headers,
    }


def _revoked_key(client: TestClient, agency: dict[str, Any]) -> str:
    made = client.post(f"/issuers/{agency['id']}/keys", json={"scopes": ["issue"]}, headers=admin())
    key: str = made.json()["apiKey"]
    key_id = key[3:].partition(".")[0]
    revoked = client.delete(f"/issuers/{agency['id']}/keys/{key_id}", headers=admin())
    assert revoked.status_code in (200, 204), revoked.text
    return key


def _requests(w: dict[str, Any]) -> dict[str, tuple[str, str, Any]]:
    agency, cred_id = w["agency"], w["cred_id"]
    return {
        "create issuer": ("POST", "/issuers", {"name": "New"}),
        "add api key": ("POST", f"/issuers/{agency['id']}/keys", {"scopes": ["read"]}),
        "register type": ("POST", "/credential-types", {"type": "NewCredential", "schema": {}}),
        "accredit": (
            "POST",
            "/accreditations",
            {
                "issuer": w["other"]["id"],
                "types": ["ResidencePermitCredential"],
                "validUntil": "2026-12-01T00:00:00Z",
                "parent": agency["accreditation"],
            },
        ),
        "issue": ("POST", "/credentials/issue", {"credential": credential_for(agency["did"])}),
        "change status": (
            "POST",
            "/credentials/status",
            {"credentialId": cred_id, "credentialStatus": [{"status": "suspended"}]},
        ),
        "create verifier": ("POST", "/verifiers", {"name": "V"}),
        "wallet": ("GET", "/wallet/credentials", None),
        "publish catalog entry": ("POST", "/catalog", catalog_entry()),
        "request data": (
            "POST",
            "/sharing/requests",
            {"resource": "other.register", "subject": CITIZEN_DID, "purpose": "Benefits"},
        ),
        "list own requests": ("GET", "/sharing/requests", None),
        "record exemption": (
            "POST",
            f"/sharing/requests/{w['request_id']}/exemption",
            {"legalBasis": "Social Assistance Act art. 9"},
        ),
        "sharing statistics": ("GET", "/sharing/stats", None),
        "access history": ("GET", "/wallet/access-history", None),
    }


# 2 = allowed; otherwise the status of the refusal. Not listed: 401 for a caller with no
# credential or a bad one (revoked, made up, forged), 403 for every other known caller --
# the one rule of service/auth.py. The operator accredits at the root only (no parent
# needed) but here names a parent, which the operator may also do.
EXPECTED = {
    "create issuer": {"operator": 2},
    "add api key": {"operator": 2},
    "register type": {"operator": 2},
    "accredit": {
        "operator": 2,
        "agency": 2,
        "agency-issue-only": 403,
        "other-agency": 403,
        "verifier": 403,
    },
    "issue": {"agency": 2, "agency-issue-only": 2, "other-agency": 403, "verifier": 403},
    "change status": {"agency": 2, "agency-issue-only": 403, "other-agency": 403, "verifier": 403},
    "create verifier": {"operator": 2},
    "wallet": {"citizen": 2},
    "publish catalog entry": {
        "agency": 2,
        "other-agency": 2,
        "agency-issue-only": 403,
        "verifier": 403,
    },
    # The other agency holds the resource: asking for its own data is malformed (422).
    "request data": {"agency": 2, "agency-issue-only": 403, "other-agency": 422, "verifier": 403},
    "list own requests": {
        "agency": 2,
        "other-agency": 2,
        "agency-issue-only": 403,
        "verifier": 403,
    },
    "record exemption": {"operator": 2},
    "sharing statistics": {"operator": 2},
    "access history": {"citizen": 2},
}


PROBLEM_TYPES = {
    401: PROBLEMS + "unauthenticated",
    403: PROBLEMS + "forbidden",
    422: "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR",
}


def expected_status(action: str, role: str) -> int:
    if role in BAD_CREDENTIALS or role == "anonymous":
        return 401
    return EXPECTED[action].get(role, 403)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_authorization_matrix(
    client: TestClient, world: dict[str, Any], action: str, role: str
) -> None:
    method, path, body = _requests(world)[action]
    response = client.request(method, path, json=body, headers=world["headers"][role])
    expected = expected_status(action, role)
    challenge = response.headers.get("www-authenticate")
    if expected == 2:
        assert 200 <= response.status_code < 300, (action, role, response.text)
        return
    assert response.status_code == expected, (action, role, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEM_TYPES[expected], (action, role)
    if expected != 401:
        assert challenge is None, (action, role)
    elif role == "anonymous":  # RFC 6750 §3.1: no error code without a credential
        assert challenge == 'Bearer realm="identity"', (action, role)
    else:
        assert challenge is not None and challenge.startswith('Bearer realm="identity", ')
        assert 'error="invalid_token"' in challenge, (action, role)
