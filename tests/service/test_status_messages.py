"""Bitstring Status List optional features (§2.1): multi-bit ``message`` entries with
``statusSize``, ``statusMessage`` and ``statusReference`` -- issued for a type with named
states, read by the verifier, set through the status API (anchored) -- and every set
status reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.credentials.status import MIN_BITS, Bitstring
from identity.errors import PROBLEMS, VC_DM
from service.app import create_app
from service.settings import Settings
from tests.service.conftest import CITY_CONTEXT, credential_for, issue, make_issuer, services_of

STATES = ["in_good_standing", "under_inspection", "rectification_ordered", "annual_report_overdue"]


def _licence(did: str) -> dict[str, Any]:
    return credential_for(
        did,
        type=["VerifiableCredential", "BusinessLicenceCredential"],
        credentialSubject={
            "id": "did:example:company-1",
            "companyName": "Huangpu Tea House Ltd",
            "unifiedSocialCreditCode": "91310101MA1FPX1234",
            "legalRepresentative": "Wang Fang",
        },
    )


def _issued(client: TestClient) -> tuple[dict[str, Any], dict[str, Any], str]:
    agency = make_issuer(client)
    response = issue(client, agency, _licence(agency["did"]))
    assert response.status_code == 201, response.text
    return agency, response.json()["verifiableCredential"], response.json()["credentialId"]


def _set(client: TestClient, agency: dict[str, Any], cred_id: str, *changes: Any) -> Any:
    return client.post(
        "/credentials/status",
        json={"credentialId": cred_id, "credentialStatus": list(changes)},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )


def _verify(client: TestClient, vc: dict[str, Any]) -> Any:
    return client.post("/credentials/verify", json={"verifiableCredential": vc})


def _message_entry(vc: dict[str, Any]) -> dict[str, Any]:
    entries = vc["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension", "message"]
    entry: dict[str, Any] = entries[-1]
    return entry


def test_a_type_with_named_states_gets_a_multi_bit_message_entry(client: TestClient) -> None:
    _, vc, _ = _issued(client)
    entry = _message_entry(vc)
    assert entry["statusSize"] == 2
    assert entry["statusMessage"] == [
        {"status": hex(value), "message": message} for value, message in enumerate(STATES)
    ]
    assert entry["statusReference"] == (
        "http://localhost:8000/status-messages/BusinessLicenceCredential"
    )
    revocation = vc["credentialStatus"][0]
    assert entry["statusListIndex"] == revocation["statusListIndex"]
    assert entry["statusListCredential"].endswith("/message-2")
    # the reference dereferences to what the states mean
    reference = client.get("/status-messages/BusinessLicenceCredential")
    assert reference.status_code == 200
    assert reference.json()["statusMessage"] == entry["statusMessage"]


def test_the_message_list_is_a_signed_list_of_two_bit_entries(client: TestClient) -> None:
    _, vc, _ = _issued(client)
    url = _message_entry(vc)["statusListCredential"]
    listed = client.get(url.removeprefix("http://localhost:8000"))
    assert listed.status_code == 200
    subject = listed.json()["credentialSubject"]
    assert subject["statusPurpose"] == "message"
    bits = Bitstring.decode(subject["encodedList"], min_bits=2 * MIN_BITS)
    assert len(bits) == 2 * MIN_BITS  # 131,072 entries of statusSize bits (§3.2)
    assert _verify(client, listed.json()).status_code == 200
    # the one-bit planes it is stored as are not published
    group = url.rsplit("/", 2)[-2]
    assert client.get(f"/status-lists/{group}/message.0").status_code == 404


def test_verify_reports_the_named_state(client: TestClient) -> None:
    _, vc, _ = _issued(client)
    response = _verify(client, vc)
    assert response.status_code == 200, response.text
    status = response.json()["results"]["status"]
    assert status["message"] == {"status": "0x0", "message": "in_good_standing", "valid": True}
    assert status["revocation"] is False and status["suspension"] is False


@pytest.mark.parametrize(("given", "value"), [("under_inspection", 1), ("0x3", 3), ("0x2", 2)])
def test_the_status_api_sets_the_state_anchored(client: TestClient, given: str, value: int) -> None:
    agency, vc, cred_id = _issued(client)
    svc = services_of(client)
    url = _message_entry(vc)["statusListCredential"].removeprefix("http://localhost:8000")
    etag = client.get(url).headers["etag"]
    entries = svc.logs.log.store.entry_count()
    response = _set(client, agency, cred_id, {"statusPurpose": "message", "status": given})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == {"status": hex(value), "message": STATES[value]}
    assert len(body["receipts"]) == 1
    assert svc.logs.log.store.entry_count() == entries + 1
    assert client.get(url).headers["etag"] != etag
    verified = _verify(client, vc)
    assert verified.status_code == 200  # a named state is reported, not judged
    assert verified.json()["results"]["status"]["message"] == {
        "status": hex(value),
        "message": STATES[value],
        "valid": False,
    }
    back = _set(client, agency, cred_id, {"statusPurpose": "message", "status": STATES[0]})
    assert back.json()["message"]["status"] == "0x0"


def _state(client: TestClient, vc: dict[str, Any]) -> tuple[Any, ...]:
    svc = services_of(client)
    url = _message_entry(vc)["statusListCredential"].removeprefix("http://localhost:8000")
    return (svc.logs.log.store.entry_count(), client.get(url).headers["etag"])


BAD = {
    "unknown state": ({"statusPurpose": "message", "status": "closed"}, 422, VC_DM),
    "value out of range": ({"statusPurpose": "message", "status": "0x4"}, 422, VC_DM),
    "not hex": ({"statusPurpose": "message", "status": "0xZ"}, 422, VC_DM),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_state_is_refused_and_nothing_changes(client: TestClient, case: str) -> None:
    agency, vc, cred_id = _issued(client)
    change, status, _ = BAD[case]
    before = _state(client, vc)
    response = _set(client, agency, cred_id, change)
    assert response.status_code == status, response.text
    assert response.json()["type"] == VC_DM + "MALFORMED_VALUE_ERROR"
    assert _state(client, vc) == before


def test_a_bad_state_after_a_good_change_writes_neither(client: TestClient) -> None:
    agency, vc, cred_id = _issued(client)
    before = _state(client, vc)
    response = _set(
        client,
        agency,
        cred_id,
        {"statusPurpose": "message", "status": "under_inspection"},
        {"statusPurpose": "message", "status": "closed"},
    )
    assert response.status_code == 422
    assert _state(client, vc) == before


def test_a_type_without_named_states_refuses_a_message_change(client: TestClient) -> None:
    agency = make_issuer(client)
    issued = issue(client, agency).json()
    assert [e["statusPurpose"] for e in issued["verifiableCredential"]["credentialStatus"]] == [
        "revocation",
        "suspension",
    ]
    before = services_of(client).logs.log.store.entry_count()
    response = _set(
        client, agency, issued["credentialId"], {"statusPurpose": "message", "status": "0x1"}
    )
    assert response.status_code == 409
    assert response.json()["type"] == PROBLEMS + "conflict"
    assert services_of(client).logs.log.store.entry_count() == before


def test_revoked_and_suspended_are_both_reported(client: TestClient) -> None:
    agency, vc, cred_id = _issued(client)
    assert _set(client, agency, cred_id, {"status": "suspended"}).status_code == 200
    assert _set(client, agency, cred_id, {"status": "revoked"}).status_code == 200
    response = _verify(client, vc)
    assert response.status_code == 422
    status = response.json()["results"]["status"]
    assert status["valid"] is False
    assert "revoked and suspended" in status["error"]["detail"]


@pytest.fixture
def generic_client(tmp_path: Path, clock: FixedClock) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "data",
        admin_token="admin-token-" + "x" * 32,
        master_secret="ab" * 32,
        public_verify_per_minute=1_000_000,
        allow_unregistered_types=True,
        generic_status_messages=["unset", "set"],
    )
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as c:
        yield c


def test_unregistered_types_carry_the_operators_generic_states(
    generic_client: TestClient,
) -> None:
    client = generic_client
    agency = make_issuer(client)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": agency["did"],
        "credentialSubject": {"id": "did:example:1"},
    }
    issued = issue(client, agency, credential)
    assert issued.status_code == 201, issued.text
    entry = _message_entry(issued.json()["verifiableCredential"])
    assert entry["statusSize"] == 1
    assert entry["statusMessage"] == [
        {"status": "0x0", "message": "unset"},
        {"status": "0x1", "message": "set"},
    ]
    changed = _set(
        client, agency, issued.json()["credentialId"], {"statusPurpose": "message", "status": "set"}
    )
    assert changed.status_code == 200, changed.text
    verified = _verify(client, issued.json()["verifiableCredential"])
    assert verified.status_code == 200, verified.text
    assert verified.json()["results"]["status"]["message"]["message"] == "set"


def test_registering_a_type_with_named_states(client: TestClient) -> None:
    admin = {"Authorization": "Bearer admin-token-" + "x" * 32}
    definition = {
        "type": "MarketStallPermitCredential",
        "context": CITY_CONTEXT,
        "schema": {"type": "object"},
        "statusMessages": ["a", "b", "c"],
    }
    refused = client.post("/credential-types", json=definition, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == VC_DM + "MALFORMED_VALUE_ERROR"
    definition["statusMessages"] = ["open", "closed"]
    definition["statusReference"] = "https://market.example/stall-states"
    created = client.post("/credential-types", json=definition, headers=admin)
    assert created.status_code == 201, created.text
    assert json.loads(created.text)["statusMessages"] == ["open", "closed"]
