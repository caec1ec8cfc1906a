"""The batch route's fast path (service/batch_verify.py: each trust and status read made
once a batch; the envelope checked without pydantic when plainly a verify request) is
proved against the single route: one batch mixing failures of every kind answers, item
by item, what ``POST /credentials/verify`` answers for each item alone; the batch's
store reads are made once per issuer; nothing is written."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.errors import VC_DM
from identity.jose.vcjose import VC_JWT
from identity.proofs import add_proof
from schemas.api import VerifyRequest
from service.routers import check_envelope
from service.routers.batch import plain_envelope
from tests.proofs.support import did_key_signer
from tests.service.conftest import credential_for, issue, make_issuer, services_of
from tests.service.test_batch_verify import snapshot, verifier_key


def single(client: TestClient, item: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """The single route's status and body for ``item`` (sent as JSON, ``null`` too)."""
    response = client.post(
        "/credentials/verify",
        content=json.dumps(item).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )
    body = response.json()
    body.pop("instance", None)
    return response.status_code, body


def _set_status(client: TestClient, agency: dict[str, Any], body: dict[str, Any], to: str) -> None:
    changed = client.post(
        "/credentials/status",
        json={"credentialId": body["credentialId"], "credentialStatus": [{"status": to}]},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert changed.status_code == 200, changed.text


def _foreign(client: TestClient) -> dict[str, Any]:
    """A credential signed by a did:key this service does not know (no trust, no anchor)."""
    key, did, options = did_key_signer(b"\x05" * 32)
    suite = services_of(client).verification.registry.named("DataIntegrityProof", "eddsa-jcs-2022")
    signed: dict[str, Any] = add_proof(suite, credential_for(did), options, key)
    return signed


@pytest.fixture
def every_kind(client: TestClient) -> list[Any]:
    """Two agencies; verified (jcs, rdfc, enveloped), revoked, suspended, tampered, not
    well formed, not yet valid, unaccredited when accreditation is required, checks
    narrowed, and bad item envelopes -- in one batch."""
    first, second = make_issuer(client), make_issuer(client, "Health Commission")
    vc = [issue(client, first).json()["verifiableCredential"] for _ in range(3)]
    other = issue(client, second).json()["verifiableCredential"]
    rdfc = issue(client, second, cryptosuite="eddsa-rdfc-2022").json()["verifiableCredential"]
    enveloped = issue(client, first, envelope=VC_JWT).json()["verifiableCredential"]
    revoked, suspended = issue(client, first).json(), issue(client, second).json()
    _set_status(client, first, revoked, "revoked")
    _set_status(client, second, suspended, "suspended")
    later = credential_for(second["did"], validFrom="2026-09-01T00:00:00Z")
    not_yet = issue(client, second, later).json()["verifiableCredential"]
    tampered = copy.deepcopy(vc[0])
    tampered["credentialSubject"]["fullName"] = "Someone Else"
    broken_token = copy.deepcopy(enveloped)
    broken_token["id"] = broken_token["id"][:-8] + "AAAAAAAA"
    foreign = _foreign(client)
    return [
        {"verifiableCredential": vc[0]},
        {"verifiableCredential": vc[1], "options": {"requireAccreditedIssuer": True}},
        {"verifiableCredential": other},
        {"verifiableCredential": rdfc},
        {"verifiableCredential": enveloped},
        {"verifiableCredential": broken_token},
        {"verifiableCredential": revoked["verifiableCredential"]},
        {"verifiableCredential": suspended["verifiableCredential"]},
        {"verifiableCredential": tampered},
        {"verifiableCredential": not_yet},
        {"verifiableCredential": foreign},
        {"verifiableCredential": foreign, "options": {"requireAccreditedIssuer": True}},
        {"verifiableCredential": {**vc[2], "@context": 4}},
        {"verifiableCredential": vc[2], "options": {"checks": ["proof", "status"]}},
        {"verifiableCredential": vc[2], "unknown": 1},
        {"verifiableCredential": "not an object"},
        {"verifiableCredential": vc[2], "options": None},
        {"verifiableCredential": vc[2], "options": []},
        {"options": {}},
        7,
        None,
        [{"verifiableCredential": vc[2]}],
    ]


def test_a_mixed_batch_is_n_single_verifications(client: TestClient, every_kind: list[Any]) -> None:
    headers = verifier_key(client)
    before = snapshot(client)
    response = client.post("/credentials/verify/batch", json=every_kind, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == len(every_kind)
    statuses = []
    for item, got in zip(every_kind, results, strict=True):
        status, alone = single(client, item, headers)
        statuses.append(status)
        assert got["status"] == status, (item, got)
        if status == 200:
            assert {k: v for k, v in got.items() if k != "status"} == alone
            continue
        assert got["verified"] is False and got["type"] == alone["type"], (got, alone)
        assert got["title"] == alone["title"]
        if isinstance(item, dict):  # a non-object item is "item" here, "body" alone
            assert got["detail"] == alone["detail"]
        for name in ("checks", "results", "problemDetails"):
            if name in alone:
                assert got[name] == alone[name], name
    # every kind is there: verified, not well formed, not verified, bad envelopes
    assert statuses.count(200) >= 6 and 400 in statuses and statuses.count(422) >= 10
    failed = {c for r in results for c in r.get("results", {}) if not r["results"][c]["valid"]}
    assert {"proof", "status", "validityPeriod", "issuerTrust"} <= failed
    assert snapshot(client) == before


def test_trust_and_status_reads_are_made_once_a_batch(
    client: TestClient, every_kind: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = verifier_key(client)
    store = services_of(client).store
    calls: dict[str, list[Any]] = {}
    for name in ("find_issuer_by_did", "accreditations_of", "status_list_version"):
        real = getattr(store, name)

        def counted(*args: Any, _real: Any = real, _name: str = name) -> Any:
            calls.setdefault(_name, []).append(args)
            return _real(*args)

        monkeypatch.setattr(store, name, counted)
    batch = [i for i in every_kind if isinstance(i, dict)] * 3
    response = client.post("/credentials/verify/batch", json=batch, headers=headers)
    assert response.status_code == 200
    for name, made in calls.items():
        assert len(made) == len(set(made)), name  # no key read twice in one batch
    assert len(calls["find_issuer_by_did"]) <= 3  # two agencies and the foreign key


def test_the_trust_version_is_read_once_a_batch(
    client: TestClient, every_kind: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, each item's issuerTrust snapshot read the version from the store (one
    SQL query or Redis GET an item); now the batch's reads take it once."""
    headers = verifier_key(client)
    store = services_of(client).store
    reads: list[int] = []
    real = store.trust_version

    def counted() -> int:
        reads.append(1)
        return real()

    monkeypatch.setattr(store, "trust_version", counted)
    batch = [i for i in every_kind if isinstance(i, dict)] * 3
    response = client.post("/credentials/verify/batch", json=batch, headers=headers)
    assert response.status_code == 200 and len(batch) > 10
    assert len(reads) <= 2  # the caller's authentication, and the batch's one view


def test_a_revocation_is_seen_by_the_next_batch(client: TestClient) -> None:
    headers = verifier_key(client)
    agency = make_issuer(client)
    body = issue(client, agency).json()
    batch = [{"verifiableCredential": body["verifiableCredential"]}]
    first = client.post("/credentials/verify/batch", json=batch, headers=headers).json()
    _set_status(client, agency, body, "revoked")
    then = client.post("/credentials/verify/batch", json=batch, headers=headers).json()
    assert first["verifiedCount"] == 1 and then["verifiedCount"] == 0
    assert then["results"][0]["results"]["status"]["valid"] is False


@pytest.mark.parametrize("body", [{"verifiableCredential": {}}, "[]", 3, None, True])
def test_a_batch_that_is_not_an_array_is_refused(client: TestClient, body: Any) -> None:
    headers = verifier_key(client)
    before = snapshot(client)
    response = client.post(
        "/credentials/verify/batch",
        content=json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == VC_DM + "MALFORMED_VALUE_ERROR"
    assert snapshot(client) == before


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
_items = st.dictionaries(
    st.sampled_from(["verifiableCredential", "options", "other"]), _json, max_size=3
)


@settings(max_examples=300, deadline=None)
@given(_items)
def test_the_plain_envelope_shortcut_never_accepts_what_pydantic_refuses(
    item: dict[str, Any],
) -> None:
    if plain_envelope(item):
        check_envelope(VerifyRequest, item)  # raises if the shortcut were wrong
        assert isinstance(item["verifiableCredential"], dict)
