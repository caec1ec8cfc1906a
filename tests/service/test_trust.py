"""Credential types, schemas and accreditation over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.errors import PROBLEMS, VC_DM
from identity.keys import Ed25519PrivateKey
from identity.proofs import add_proof
from identity.proofs.eddsa_jcs import EddsaJcs2022
from tests.service.conftest import admin, credential_for, issue, make_issuer, services_of


def _auth(agency: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {agency['apiKey']}"}


def _accreditations(client: TestClient) -> list[Any]:
    store = services_of(client).store
    return sorted(a.id for i in store.list_issuers() for a in store.accreditations_of(i.id))


def test_bundled_types_are_registered_and_their_schemas_served(client: TestClient) -> None:
    names = {t["type"] for t in client.get("/credential-types").json()}
    assert "ResidencePermitCredential" in names and len(names) == 4
    schema = client.get("/credential-types/ResidencePermitCredential/schema")
    assert schema.status_code == 200
    assert schema.json()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    context = client.get("/contexts/city/v1").json()
    assert context["@context"]["ResidencePermitCredential"] == "city:ResidencePermitCredential"


def test_issuance_adds_schema_context_and_default_validity(client: TestClient) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency).json()["verifiableCredential"]
    assert vc["credentialSchema"] == {
        "id": "http://localhost:8000/credential-types/ResidencePermitCredential/schema",
        "type": "JsonSchema",
    }
    assert vc["@context"][-1] == "https://identity-service.example/contexts/city/v1"
    assert vc["validUntil"] == "2030-12-31T00:00:00Z"  # validFrom + 1825 days


def test_a_subject_that_does_not_fit_gets_422_naming_the_path(client: TestClient) -> None:
    agency = make_issuer(client)
    cred = credential_for(agency["did"])
    cred["credentialSubject"]["permitNumber"] = "lowercase!"
    before = services_of(client).store.count_credentials()
    response = issue(client, agency, cred)
    assert response.status_code == 422
    assert response.json()["type"] == PROBLEMS + "schema-violation"
    assert response.json()["path"] == "$.credentialSubject.permitNumber"
    assert services_of(client).store.count_credentials() == before


def test_an_unaccredited_agency_gets_403(client: TestClient) -> None:
    agency = make_issuer(client, accredit=False)
    response = issue(client, agency)
    assert response.status_code == 403
    assert services_of(client).store.count_credentials() == 0


def test_an_unregistered_type_is_refused(client: TestClient) -> None:
    agency = make_issuer(client)
    cred = credential_for(agency["did"], type=["VerifiableCredential", "MadeUpCredential"])
    response = issue(client, agency, cred)
    assert response.status_code == 422
    assert response.json()["type"] == VC_DM + "MALFORMED_VALUE_ERROR"


def test_accreditation_outside_its_window_gets_403(client: TestClient, clock: FixedClock) -> None:
    agency = make_issuer(client)
    clock.advance(timedelta(days=400))
    assert issue(client, agency).status_code == 403


def test_verification_reports_issuer_trust_with_its_chain(client: TestClient) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency).json()["verifiableCredential"]
    result = client.post("/credentials/verify", json={"verifiableCredential": vc}).json()
    trust = result["results"]["issuerTrust"]
    assert trust["accredited"] is True and trust["accreditedBy"] == ["operator"]
    assert trust["accreditations"] == [agency["accreditation"]]


def test_trust_is_judged_at_issuance_time_after_revocation(
    client: TestClient, clock: FixedClock
) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency).json()["verifiableCredential"]
    clock.advance(timedelta(days=1))
    revoked = client.post(f"/accreditations/{agency['accreditation']}/revoke", headers=admin())
    assert revoked.status_code == 200
    assert issue(client, agency).status_code == 403
    verified = client.post(
        "/credentials/verify",
        json={"verifiableCredential": vc, "options": {"requireAccreditedIssuer": True}},
    )
    assert verified.status_code == 200
    assert verified.json()["results"]["issuerTrust"]["accredited"] is True


def test_require_accredited_issuer_fails_a_foreign_issuer(client: TestClient) -> None:

    key = Ed25519PrivateKey(b"\x0c" * 32)
    did = "did:key:" + key.public_key().multibase
    vc = add_proof(
        EddsaJcs2022(),
        credential_for(did),
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": "2026-01-01T00:00:00Z",
            "verificationMethod": f"{did}#{did[8:]}",
            "proofPurpose": "assertionMethod",
        },
        key,
    )
    plain = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert plain.status_code == 200
    assert plain.json()["results"]["issuerTrust"]["accredited"] is False
    strict = client.post(
        "/credentials/verify",
        json={"verifiableCredential": vc, "options": {"requireAccreditedIssuer": True}},
    )
    assert strict.status_code == 422
    assert [p["check"] for p in strict.json()["problemDetails"]] == ["issuerTrust"]


def _delegation(to: dict[str, Any], parent: str) -> dict[str, Any]:
    """The body delegating ResidencePermitCredential to ``to`` under accreditation ``parent``."""
    return {
        "issuer": to["id"],
        "types": ["ResidencePermitCredential"],
        "validUntil": "2026-12-01T00:00:00Z",
        "parent": parent,
    }


def test_a_bureau_delegates_a_subset_to_its_district_office(client: TestClient) -> None:
    bureau = make_issuer(client)
    district = make_issuer(client, "Xuhui District Office", accredit=False)
    response = client.post(
        "/accreditations",
        headers=_auth(bureau),
        json=_delegation(district, bureau["accreditation"]),
    )
    assert response.status_code == 201, response.text
    assert response.json()["accreditedBy"] == bureau["id"] and response.json()["depth"] == 1
    vc = issue(client, district).json()["verifiableCredential"]
    trust = client.post("/credentials/verify", json={"verifiableCredential": vc}).json()
    assert trust["results"]["issuerTrust"]["accreditedBy"] == [bureau["id"], "operator"]
    cred = credential_for(
        district["did"], type=["VerifiableCredential", "HealthCertificateCredential"]
    )
    assert issue(client, district, cred).status_code == 403


@pytest.mark.parametrize(
    ("change", "status", "type_uri"),
    [
        (
            {"types": ["HealthCertificateCredential", "NoSuchCredential"]},
            422,
            VC_DM + "MALFORMED_VALUE_ERROR",
        ),
        ({"validUntil": "2030-01-01T00:00:00Z"}, 422, VC_DM + "RANGE_ERROR"),
        ({"issuer": "nobody"}, 404, PROBLEMS + "not-found"),
        ({"parent": None}, 422, VC_DM + "MALFORMED_VALUE_ERROR"),
        ({"validUntil": "not a date"}, 422, VC_DM + "MALFORMED_VALUE_ERROR"),
        ({"types": []}, 422, VC_DM + "MALFORMED_VALUE_ERROR"),
    ],
)
def test_bad_delegations_change_nothing(
    client: TestClient, change: dict[str, Any], status: int, type_uri: str
) -> None:
    bureau = make_issuer(client)
    district = make_issuer(client, "District", accredit=False)
    body = _delegation(district, bureau["accreditation"]) | change
    before = _accreditations(client)
    response = client.post("/accreditations", headers=_auth(bureau), json=body)
    assert response.status_code == status, response.text
    assert response.json()["type"] == type_uri
    assert _accreditations(client) == before


def test_delegation_deeper_than_one_level_is_403(client: TestClient) -> None:
    bureau = make_issuer(client)
    district = make_issuer(client, "District", accredit=False)
    street = make_issuer(client, "Street", accredit=False)
    child = client.post(
        "/accreditations",
        headers=_auth(bureau),
        json=_delegation(district, bureau["accreditation"]),
    ).json()
    before = _accreditations(client)
    response = client.post(
        "/accreditations",
        headers=_auth(district),
        json=_delegation(street, child["id"]),
    )
    assert response.status_code == 403
    assert _accreditations(client) == before


@pytest.mark.parametrize(
    "body",
    [
        {"type": "CleanCredential", "schema": {"type": "nonsense"}},
        {"type": "bad name", "schema": {}},
        {"type": "CleanCredential"},
        {"type": "ResidencePermitCredential", "schema": {}},
    ],
)
def test_bad_type_registrations_are_problems(client: TestClient, body: dict[str, Any]) -> None:
    before = client.get("/credential-types").json()
    response = client.post("/credential-types", json=body, headers=admin())
    assert response.status_code in (409, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/credential-types").json() == before


def test_only_the_operator_registers_types(client: TestClient) -> None:
    agency = make_issuer(client)
    body = {"type": "CleanCredential", "schema": {"type": "object"}}
    assert client.post("/credential-types", json=body).status_code == 401
    assert client.post("/credential-types", json=body, headers=_auth(agency)).status_code == 403
    assert client.post("/credential-types", json=body, headers=admin()).status_code == 201


def test_credentials_issued_in_the_first_second_of_an_accreditation_are_trusted(
    client: TestClient, clock: FixedClock
) -> None:
    clock.advance(timedelta(microseconds=654_321))
    response = client.post("/issuers", json={"name": "Fresh Bureau"}, headers=admin())
    agency = response.json()
    granted = client.post(
        "/accreditations",
        headers=admin(),
        json={
            "issuer": agency["id"],
            "types": ["ResidencePermitCredential"],
            "validUntil": "2027-01-01T00:00:00Z",
        },
    )
    assert granted.status_code == 201
    vc = issue(client, agency).json()["verifiableCredential"]
    result = client.post("/credentials/verify", json={"verifiableCredential": vc}).json()
    assert result["results"]["issuerTrust"]["accredited"] is True
