"""A credential's JSON-LD validity does not depend on its cryptosuite (issue #11): the
VC DM 2.0 rules that eddsa-rdfc-2022 enforces while canonicalizing are enforced for
eddsa-jcs-2022 too -- refused at issue with the same problem type (nothing written) and
failed at verify."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.errors import PROBLEMS, VC_DI
from identity.proofs import add_proof
from identity.proofs.eddsa_jcs import EddsaJcs2022
from service.agency_keys import verification_method
from tests.service.conftest import CITY_CONTEXT, credential_for, issue, make_issuer, services_of

V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
EXTRA = {"@value": "Residence permit", "@language": "en", "extra": "x"}

# name: (changes to the credential given the agency DID, problem type on both suites)
RULES: dict[str, tuple[Any, str]] = {
    "@context item that is not a URL": (
        lambda did: {"@context": [V2, CITY_CONTEXT, "https ://not-a-url/contexts/example/v1"]},
        PROBLEMS + "context-not-allowed",
    ),
    "inline context maps a type to a non-IRI": (
        # (the type itself is not added: an unregistered type is refused before signing)
        lambda did: {"@context": [V2, CITY_CONTEXT, {"ExampleType": "not an iri"}]},
        PROBLEMS + "invalid-json-ld",
    ),
    "name with an extra member": (lambda did: {"name": EXTRA}, VC_DI + "DATA_LOSS_DETECTION_ERROR"),
    "description with an extra member": (
        lambda did: {"description": EXTRA},
        VC_DI + "DATA_LOSS_DETECTION_ERROR",
    ),
    "issuer name with an extra member": (
        lambda did: {"issuer": {"id": did, "name": EXTRA}},
        VC_DI + "DATA_LOSS_DETECTION_ERROR",
    ),
    "issuer description with an extra member": (
        lambda did: {"issuer": {"id": did, "description": EXTRA}},
        VC_DI + "DATA_LOSS_DETECTION_ERROR",
    ),
    "extra member where @vocab defines it": (
        lambda did: {"@context": [V2, CITY_CONTEXT, EXAMPLES], "name": EXTRA},
        PROBLEMS + "invalid-json-ld",
    ),
    "inline context redefines VerifiableCredential": (
        lambda did: {
            "@context": [V2, CITY_CONTEXT, {"VerifiableCredential": "https://evil.example/VC"}]
        },
        PROBLEMS + "protected-term-redefinition",
    ),
    "undefined term": (
        lambda did: {"favouriteColour": "blue"},
        VC_DI + "DATA_LOSS_DETECTION_ERROR",
    ),
}


def _bad(did: str, case: str) -> dict[str, Any]:
    changes, _ = RULES[case]
    return {**credential_for(did), **changes(did)}


@pytest.mark.parametrize("suite", ["eddsa-jcs-2022", "eddsa-rdfc-2022"])
@pytest.mark.parametrize("case", sorted(RULES))
def test_issue_refuses_with_the_same_problem_on_both_suites(
    client: TestClient, case: str, suite: str
) -> None:
    agency = make_issuer(client)
    store = services_of(client).store
    before = (store.count_credentials(), services_of(client).logs.log.store.entry_count())
    response = issue(client, agency, _bad(agency["did"], case), cryptosuite=suite)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == RULES[case][1]
    assert (store.count_credentials(), services_of(client).logs.log.store.entry_count()) == before


@pytest.mark.parametrize("case", sorted(RULES))
def test_verify_fails_a_jcs_credential_signed_elsewhere(client: TestClient, case: str) -> None:
    """Signed with a jcs suite that checks nothing (as another issuer might)."""
    agency = make_issuer(client)
    svc = services_of(client)
    record = svc.store.get_issuer(agency["id"])
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2026-06-01T12:00:00Z",
        "verificationMethod": verification_method(record),
        "proofPurpose": "assertionMethod",
    }
    vc = add_proof(
        EddsaJcs2022(), _bad(agency["did"], case), options, svc.issuance.keys.signing_key(record)
    )
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["verified"] is False
    assert body["type"] == RULES[case][1]
    assert body["problemDetails"][0]["check"] == "proof"


def test_a_valid_jcs_credential_still_verifies(client: TestClient) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency, cryptosuite="eddsa-jcs-2022").json()["verifiableCredential"]
    assert client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200
