"""relatedResource digests (VC DM 2.0 §5.3) are checked against the contexts the service
uses: a mismatch is refused at issue (422, nothing written) and fails verification."""

from __future__ import annotations

import base64
import hashlib
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.credentials.issuer import sign_credential
from identity.errors import PROBLEMS, VC_DM
from identity.jsonld import CREDENTIALS_V2, V2_PUBLISHED_SHA256
from identity.proofs.eddsa_jcs import EddsaJcs2022
from service.agency_keys import verification_method
from tests.service.conftest import NOW, credential_for, issue, make_issuer, services_of

CITY = "https://identity-service.example/contexts/city/v1"
# VC DM 2.0's own example: multibase(multihash(sha2-256)) of the v2 context.
V2_MULTIBASE = "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA"
V2_SRI = "sha256-" + base64.b64encode(bytes.fromhex(V2_PUBLISHED_SHA256)).decode()
WRONG_SRI = "sha256-" + base64.b64encode(hashlib.sha256(b"another file").digest()).decode()
WRONG_MULTIBASE = "uEiB" + "A" * 43


def _city_sri() -> str:
    data = resources.files("identity").joinpath("contexts", "city-v1.jsonld").read_bytes()
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _with(did: str, *related: dict[str, Any]) -> dict[str, Any]:
    return credential_for(did, relatedResource=list(related))


def _count(client: TestClient) -> int:
    return services_of(client).store.count_credentials()


@pytest.mark.parametrize("suite", ["eddsa-jcs-2022", "eddsa-rdfc-2022"])
def test_matching_digests_issue_and_verify(client: TestClient, suite: str) -> None:
    agency = make_issuer(client)
    credential = _with(
        agency["did"],
        {"id": CREDENTIALS_V2, "digestSRI": V2_SRI, "digestMultibase": V2_MULTIBASE},
        {"id": CITY, "digestSRI": _city_sri()},
        {"id": "https://agency.example/logo.png", "digestSRI": WRONG_SRI},
    )
    issued = issue(client, agency, credential, cryptosuite=suite)
    assert issued.status_code == 201, issued.text
    vc = issued.json()["verifiableCredential"]
    verified = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert verified.status_code == 200, verified.text
    assert verified.json()["results"]["relatedResource"] == {
        "valid": True,
        "checked": [CREDENTIALS_V2, CITY],
        "notDereferenced": ["https://agency.example/logo.png"],
    }


WRONG = {
    "digestSRI of v2": ({"id": CREDENTIALS_V2, "digestSRI": WRONG_SRI}, "related-resource"),
    "digestMultibase of v2": (
        {"id": CREDENTIALS_V2, "digestMultibase": WRONG_MULTIBASE},
        "related-resource",
    ),
    "one of two digests": (
        {"id": CREDENTIALS_V2, "digestSRI": V2_SRI, "digestMultibase": WRONG_MULTIBASE},
        "related-resource",
    ),
    "digestSRI of the city context": ({"id": CITY, "digestSRI": WRONG_SRI}, "related-resource"),
    "sha384 of v2 (only sha256 is published)": (
        {"id": CREDENTIALS_V2, "digestSRI": "sha384-" + "A" * 64},
        "related-resource",
    ),
}


@pytest.mark.parametrize("suite", ["eddsa-jcs-2022", "eddsa-rdfc-2022"])
@pytest.mark.parametrize("case", sorted(WRONG))
def test_a_wrong_digest_is_refused_at_issue_and_nothing_is_written(
    client: TestClient, case: str, suite: str
) -> None:
    agency = make_issuer(client)
    entry, kind = WRONG[case]
    before = _count(client)
    response = issue(client, agency, _with(agency["did"], entry), cryptosuite=suite)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEMS + kind
    assert response.json()["url"] == entry["id"]
    assert _count(client) == before


def test_an_unreadable_digest_is_a_malformed_value(client: TestClient) -> None:
    agency = make_issuer(client)
    before = _count(client)
    entry = {"id": CREDENTIALS_V2, "digestSRI": "md5-abc"}
    response = issue(client, agency, _with(agency["did"], entry))
    assert response.status_code == 422
    assert response.json()["type"] == VC_DM + "MALFORMED_VALUE_ERROR"
    assert _count(client) == before


def test_a_signed_credential_with_a_wrong_digest_fails_verification(client: TestClient) -> None:
    agency = make_issuer(client)
    svc = services_of(client)
    record = svc.store.get_issuer(agency["id"])
    signed = sign_credential(
        _with(agency["did"], {"id": CREDENTIALS_V2, "digestSRI": WRONG_SRI}),
        issuer_did=agency["did"],
        verification_method=verification_method(record),
        key=svc.issuance.keys.signing_key(record),
        suite=EddsaJcs2022(),
        created=NOW,
    )
    response = client.post("/credentials/verify", json={"verifiableCredential": signed.json})
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == PROBLEMS + "related-resource"
    assert [p["check"] for p in body["problemDetails"]] == ["relatedResource"]
    assert body["results"]["proof"]["valid"] is True
