"""Cross-verification of eddsa-rdfc-2022 with Digital Bazaar's libraries (npm), both ways.

``@digitalbazaar/vc`` with ``data-integrity`` and ``eddsa-rdfc-2022-cryptosuite`` (the code
behind the W3C suites' own fixtures) signs a credential that this service verifies over
``POST /credentials/verify``, and verifies one that this service issues. The peer resolves
did:key itself and loads contexts only from its packages and from what the test hands it
(the examples context and the city context this service serves). Tampered twins are refused
both ways.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import REPO
from tests.interop.conftest import NodePeer, assert_refused_here, assert_verifies_here
from tests.service.conftest import NOW, issue, make_issuer

pytestmark = pytest.mark.interop

EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def _examples_context() -> dict[str, Any]:
    path = REPO / "identity" / "contexts" / "credentials-examples-v2.jsonld"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", EXAMPLES_V2],
        "id": "urn:uuid:0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5",
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "alumniOf": {"id": "did:example:c276e12ec21ebfeb1f712ebc6f1", "name": "Example U"},
        },
    }


@pytest.fixture(scope="module")
def peer_credential(digitalbazaar: NodePeer) -> dict[str, Any]:
    answer = digitalbazaar.call(
        {
            "op": "sign",
            "seed": "5a" * 32,
            "credential": _credential(),
            "contexts": {EXAMPLES_V2: _examples_context()},
            "created": "2026-05-01T00:00:00Z",
        }
    )
    vc: dict[str, Any] = answer["verifiableCredential"]
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    return vc


@pytest.mark.parametrize("as_list", [False, True], ids=["proof object", "one-element list"])
def test_a_digitalbazaar_rdfc_credential_verifies_here(
    client: TestClient, peer_credential: dict[str, Any], as_list: bool
) -> None:
    vc = copy.deepcopy(peer_credential)
    if as_list:  # a proof set of one (Data Integrity §2.1.1); the signature is unchanged
        vc["proof"] = [vc["proof"]]
    assert_verifies_here(client, vc)


def test_a_tampered_digitalbazaar_credential_is_refused_here(
    client: TestClient, peer_credential: dict[str, Any]
) -> None:
    tampered = copy.deepcopy(peer_credential)
    tampered["credentialSubject"]["alumniOf"]["name"] = "Another U"
    assert_refused_here(client, tampered)


def _ours(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """A credential this service issues with eddsa-rdfc-2022, and the contexts it uses."""
    agency = make_issuer(client)
    issued = issue(client, agency, cryptosuite="eddsa-rdfc-2022")
    assert issued.status_code == 201, issued.text
    vc: dict[str, Any] = issued.json()["verifiableCredential"]
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    contexts = {}
    for url in vc["@context"][1:]:  # the type's context, as this service serves it
        served = client.get("/" + url.split("/", 3)[3])
        assert served.status_code == 200, url
        contexts[url] = served.json()
    return vc, contexts


def test_digitalbazaar_verifies_ours(client: TestClient, digitalbazaar: NodePeer) -> None:
    vc, contexts = _ours(client)
    answer = digitalbazaar.call(
        {"op": "verify", "credential": vc, "contexts": contexts, "now": NOW.isoformat()}
    )
    assert answer == {"verified": True, "error": ""}


def test_digitalbazaar_refuses_ours_tampered(client: TestClient, digitalbazaar: NodePeer) -> None:
    vc, contexts = _ours(client)
    vc["credentialSubject"]["residenceAddress"] = "Somewhere else"
    answer = digitalbazaar.call(
        {"op": "verify", "credential": vc, "contexts": contexts, "now": NOW.isoformat()}
    )
    assert answer == {"verified": False, "error": "Invalid signature."}
