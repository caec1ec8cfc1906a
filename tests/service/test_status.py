"""Revocation and suspension with Bitstring Status Lists, end to end over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.credentials.status import Bitstring, status_list_credential
from identity.errors import PROBLEMS, STATUS, VC_DM
from identity.proofs import add_proof
from identity.proofs.eddsa_jcs import EddsaJcs2022
from tests.proofs.support import did_key_signer
from tests.service.conftest import admin, credential_for, issue, make_issuer, services_of


def _issued(client: TestClient) -> tuple[dict[str, Any], dict[str, Any], str]:
    agency = make_issuer(client)
    response = issue(client, agency)
    assert response.status_code == 201
    return agency, response.json()["verifiableCredential"], response.json()["credentialId"]


def _set(client: TestClient, agency: dict[str, Any], cred_id: str, status: Any) -> Any:
    return client.post(
        "/credentials/status",
        json={
            "credentialId": cred_id,
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": status}],
        },
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )


def _verify(client: TestClient, vc: dict[str, Any]) -> Any:
    return client.post("/credentials/verify", json={"verifiableCredential": vc})


def test_issued_credentials_carry_revocation_and_suspension_entries(client: TestClient) -> None:
    _, vc, _ = _issued(client)
    entries = vc["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    assert entries[0]["statusListIndex"] == entries[1]["statusListIndex"]
    assert entries[0]["statusListIndex"].isdigit()
    assert all(e["type"] == "BitstringStatusListEntry" for e in entries)


def test_indices_are_random_and_distinct(client: TestClient) -> None:
    agency = make_issuer(client)
    indices = {
        issue(client, agency).json()["verifiableCredential"]["credentialStatus"][0][
            "statusListIndex"
        ]
        for _ in range(20)
    }
    assert len(indices) == 20
    assert indices != {str(i) for i in range(20)}


def test_the_status_list_is_served_signed_and_verifies(client: TestClient) -> None:
    _, vc, _ = _issued(client)
    url = vc["credentialStatus"][0]["statusListCredential"]
    path = url.removeprefix(services_of(client).settings.public_url)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    listed = response.json()
    assert listed["id"] == url and listed["issuer"] == vc["issuer"]
    assert len(Bitstring.decode(listed["credentialSubject"]["encodedList"])) == 131_072
    assert _verify(client, listed).status_code == 200
    assert client.get(path, headers={"If-None-Match": response.headers["etag"]}).status_code == 304


def test_revocation_makes_verification_fail_and_is_final(client: TestClient) -> None:
    agency, vc, cred_id = _issued(client)
    assert _verify(client, vc).json()["results"]["status"] == {
        "valid": True,
        "revocation": False,
        "suspension": False,
    }
    response = _set(client, agency, cred_id, "revoked")
    assert response.status_code == 200, response.text
    assert response.json()["status"]["revocation"] is True
    failed = _verify(client, vc)
    assert failed.status_code == 422
    assert failed.json()["type"] == PROBLEMS + "credential-status"
    assert [p["check"] for p in failed.json()["problemDetails"]] == ["status"]
    undo = client.post(
        "/credentials/status",
        json={
            "credentialId": cred_id,
            "credentialStatus": {"statusPurpose": "revocation", "status": False},
        },
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert undo.status_code == 409
    assert _verify(client, vc).status_code == 422


def test_suspension_can_be_lifted(client: TestClient) -> None:
    agency, vc, cred_id = _issued(client)
    assert _set(client, agency, cred_id, "suspended").status_code == 200
    assert "suspended" in _verify(client, vc).json()["detail"]
    assert _set(client, agency, cred_id, "active").status_code == 200
    assert _verify(client, vc).status_code == 200


def test_the_list_is_re_signed_after_a_change(client: TestClient) -> None:
    agency, vc, cred_id = _issued(client)
    path = vc["credentialStatus"][0]["statusListCredential"].removeprefix("http://localhost:8000")
    before = client.get(path).json()
    _set(client, agency, cred_id, "revoked")
    after = client.get(path).json()
    assert before["credentialSubject"]["encodedList"] != after["credentialSubject"]["encodedList"]
    index = int(vc["credentialStatus"][0]["statusListIndex"])
    assert Bitstring.decode(after["credentialSubject"]["encodedList"]).get(index)
    assert _verify(client, after).status_code == 200


def _snapshot(client: TestClient, vc: dict[str, Any]) -> list[Any]:
    svc = services_of(client)
    out = []
    for entry in vc["credentialStatus"]:
        group = entry["statusListCredential"].split("/")[-2]
        out.append(svc.store.get_status_list(group, entry["statusPurpose"]))
    return out


def test_another_agency_cannot_revoke_and_nothing_changes(client: TestClient) -> None:
    _, vc, cred_id = _issued(client)
    other = make_issuer(client, "Another Bureau")
    before = _snapshot(client, vc)
    response = _set(client, other, cred_id, "revoked")
    assert response.status_code == 403
    assert response.json()["type"] == PROBLEMS + "forbidden"
    assert _snapshot(client, vc) == before


def test_a_key_without_the_revoke_scope_is_403(client: TestClient) -> None:
    agency, vc, cred_id = _issued(client)
    key = client.post(f"/issuers/{agency['id']}/keys", json={"scopes": ["issue"]}, headers=admin())
    assert key.status_code == 201
    before = _snapshot(client, vc)
    response = _set(client, {"apiKey": key.json()["apiKey"]}, cred_id, "revoked")
    assert response.status_code == 403
    assert _snapshot(client, vc) == before


@pytest.mark.parametrize(
    ("body", "status", "type_uri"),
    [
        (
            {"credentialId": "urn:uuid:unknown", "credentialStatus": [{"status": "revoked"}]},
            404,
            PROBLEMS + "not-found",
        ),
        (
            {"credentialId": "x", "credentialStatus": [{"status": "deleted"}]},
            422,
            VC_DM + "MALFORMED_VALUE_ERROR",
        ),
        ({"credentialStatus": [{"status": "revoked"}]}, 422, VC_DM + "MALFORMED_VALUE_ERROR"),
        (
            {"credentialId": "x", "credentialStatus": "revoked"},
            422,
            VC_DM + "MALFORMED_VALUE_ERROR",
        ),
    ],
)
def test_bad_status_requests_are_problems(
    client: TestClient, body: Any, status: int, type_uri: str
) -> None:
    agency, vc, _ = _issued(client)
    before = _snapshot(client, vc)
    response = client.post(
        "/credentials/status", json=body, headers={"Authorization": f"Bearer {agency['apiKey']}"}
    )
    assert response.status_code == status, response.text
    assert response.json()["type"] == type_uri
    assert _snapshot(client, vc) == before


def test_unknown_status_list_is_404(client: TestClient) -> None:
    assert client.get("/status-lists/none-1/revocation").status_code == 404


def _remote_world(client: TestClient, revoked: bool) -> dict[str, Any]:
    """A credential from a foreign did:key issuer whose list lives at an https URL."""
    key, did, options = did_key_signer(b"\x0b" * 32)
    url = "https://status.other-city.example/lists/7"
    bits = Bitstring.zeros()
    bits.set(4321, revoked)
    listed = add_proof(
        EddsaJcs2022(),
        status_list_credential(url, did, "revocation", bits, "2026-01-01T00:00:00Z"),
        options,
        key,
    )
    import json

    services_of(client).issuance.status.fetch = lambda u: (
        json.dumps(listed).encode() if u == url else b""
    )
    cred = credential_for(
        did,
        credentialStatus={
            "id": f"{url}#4321",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "4321",
            "statusListCredential": url,
        },
    )
    return add_proof(EddsaJcs2022(), cred, options, key)


def test_remote_status_lists_are_fetched_verified_and_read(client: TestClient) -> None:
    assert _verify(client, _remote_world(client, revoked=False)).status_code == 200


def test_remote_revocation_fails_verification(client: TestClient) -> None:
    assert _verify(client, _remote_world(client, revoked=True)).status_code == 422


def test_unreachable_remote_list_is_status_retrieval_error(client: TestClient) -> None:
    vc = _remote_world(client, revoked=False)
    services_of(client).issuance.status.fetch = lambda u: b"not json"
    response = _verify(client, vc)
    assert response.status_code == 422
    assert response.json()["type"] == STATUS + "STATUS_RETRIEVAL_ERROR"


def test_a_type_that_cannot_be_suspended_refuses_suspension_and_writes_nothing(
    client: TestClient,
) -> None:
    agency = make_issuer(client)
    credential = credential_for(agency["did"])
    credential["type"] = ["VerifiableCredential", "ProfessionalQualificationCredential"]
    credential["credentialSubject"] = {
        "id": "did:example:citizen-1",
        "fullName": "Li Lei",
        "qualification": "Electrician",
        "certificateNumber": "EL-2026-9",
    }
    response = issue(client, agency, credential)
    assert response.status_code == 201, response.text
    vc, cred_id = response.json()["verifiableCredential"], response.json()["credentialId"]
    assert vc["credentialStatus"]["statusPurpose"] == "revocation"  # one entry, no suspension
    entries = services_of(client).logs.log.store.entry_count()
    refused = _set(client, agency, cred_id, "suspended")
    assert refused.status_code == 409
    assert refused.json()["type"] == PROBLEMS + "conflict"
    assert services_of(client).logs.log.store.entry_count() == entries
    assert _verify(client, vc).status_code == 200
    assert _set(client, agency, cred_id, "revoked").status_code == 200
