"""VC-JOSE-COSE over HTTP: issue enveloped (vc+jwt, vc+cose), verify with every check,
anchoring of exactly the token bytes, status, presentations, and refusals."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.jose.envelope import VC_COSE, VC_JWT, parse_envelope
from identity.log.entries import LogEntry
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
    [data] = svc.log.store.read_entries(index, index + 1)
    entry = LogEntry.parse(data)
    assert entry.kind == "credential.issued"
    assert entry.fields["credential_digest"] == "sha256:" + hashlib.sha256(token).hexdigest()
