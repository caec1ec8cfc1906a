"""The directory chain end to end, as the issue tells it.

Two agencies are accredited; one publishes a catalog entry; a citizen creates a DID and
receives a credential; consents to the other agency's request; the data is accessed; the
citizen withdraws consent; a second access is refused; the citizen's access history shows
exactly what happened, each act with a valid inclusion proof; the auditor passes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from identity.canonical import jcs
from identity.clock import FixedClock
from identity.log import hashing
from identity.log.checkpoint import NoteVerifier, open_checkpoint
from identity.log.proofs import verify_inclusion
from service.audit import audit
from tests.service.conftest import credential_for, issue, make_issuer, services_of
from tests.service.directory_helpers import Citizen, agency_headers, ask, publish, settle

PROBLEMS = "https://identity-service.example/problems/"


def test_the_directory_chain_story(client: TestClient, clock: FixedClock, tmp_path: Path) -> None:
    story(client, clock, tmp_path)


def story(client: TestClient, clock: FixedClock, tmp_path: Path) -> None:
    """The whole story on whatever backend ``client`` runs on."""
    holder = make_issuer(client, "Public Security Bureau")
    requester = make_issuer(client, "Education Bureau")
    published = publish(client, holder)
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 1

    citizen = Citizen()
    citizen.register(client)
    cred = credential_for(holder["did"])
    cred["credentialSubject"]["id"] = citizen.did
    assert issue(client, holder, cred).status_code == 201

    asked = ask(client, requester, citizen.did)
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    assert asked.json()["state"] == "awaiting-consent"

    clock.advance(timedelta(minutes=5))
    consented = citizen.consent(client, request_id, clock.now())
    assert consented.status_code == 200, consented.text
    assert consented.json()["state"] == "consented"

    approved = client.post(
        f"/sharing/requests/{request_id}/approve", headers=agency_headers(holder)
    )
    assert approved.status_code == 200, approved.text
    clock.advance(timedelta(minutes=1))
    access = client.post(
        f"/sharing/requests/{request_id}/accesses",
        json={"fields": ["fullName", "residenceAddress"]},
        headers=agency_headers(holder),
    )
    assert access.status_code == 201, access.text

    clock.advance(timedelta(days=1))
    headers = citizen.headers(client, clock.now())
    withdrawn = client.post(f"/sharing/requests/{request_id}/withdraw", headers=headers)
    assert withdrawn.status_code == 200, withdrawn.text
    entries = services_of(client).logs.log.store.entry_count()

    refused = client.post(
        f"/sharing/requests/{request_id}/accesses", json={}, headers=agency_headers(holder)
    )
    assert refused.status_code == 409
    assert refused.json()["type"] == PROBLEMS + "sharing-state"

    assert services_of(client).logs.log.store.entry_count() == entries  # nothing logged
    settle(client)
    history = client.get("/wallet/access-history", headers=headers)
    assert history.status_code == 200
    trace = history.json()
    [request] = trace["requests"]
    assert [e["kind"] for e in request["history"]] == [
        "sharing.requested",
        "consent.granted",
        "sharing.approved",
        "data.accessed",
        "consent.withdrawn",
    ]
    assert trace["agencies"] == {
        holder["did"]: "Public Security Bureau",
        requester["did"]: "Education Bureau",
    }
    access_event = request["history"][3]
    assert access_event["record"]["accessor"] == requester["did"]
    assert access_event["record"]["holder"] == holder["did"]
    assert access_event["record"]["fields"] == ["fullName", "residenceAddress"]
    assert access_event["record"]["purpose"] == "School enrolment"
    assert access_event["record"]["basis"] == "consent"
    _check_as_the_citizen_would(client, trace)
    vkey = NoteVerifier.from_vkey(client.get("/log/key").json()["vkey"])
    report = audit("http://testserver", tmp_path / "audit.json", vkey, client=client)
    assert (
        report.checkpoint.checkpoint.size == services_of(client).logs.log.checkpoint.checkpoint.size
    )


def _check_as_the_citizen_would(client: TestClient, trace: dict) -> None:
    """Without trusting the service: the note is signed by the log key, every record's
    digest is in its leaf, and every leaf is in the tree the note commits to."""
    vkey = NoteVerifier.from_vkey(client.get("/log/key").json()["vkey"])
    checkpoint = open_checkpoint(trace["checkpoint"].encode(), vkey, trace["logOrigin"]).checkpoint
    assert checkpoint.size == trace["treeSize"]
    for request in trace["requests"]:
        request_digest = "sha256:" + hashlib.sha256(jcs(request["request"])).hexdigest()
        for event in request["history"]:
            assert event["integrated"] is True
            leaf = event["leaf"].encode()
            fields = json.loads(leaf)
            assert fields["kind"] == event["kind"]
            assert fields["request_digest"] == request_digest
            digest = "sha256:" + hashlib.sha256(jcs(event["record"])).hexdigest()
            assert fields["record_digest"] == digest
            assert request["request"]["subject"] not in event["leaf"]  # no citizen in the log
            path = [bytes.fromhex(h) for h in event["inclusionProof"]]
            verify_inclusion(
                event["logIndex"], checkpoint.size, hashing.leaf_hash(leaf), path, checkpoint.root
            )
