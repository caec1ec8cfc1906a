"""The hosted wallet on the issue path (issues #14, #15).

The wallet seals the bytes whose SHA-256 is the record's digest -- the JCS the issuer
already made for a Data Integrity credential, nothing serialized again -- and serves
enveloped (VC-JOSE-COSE) credentials too: their record's digest is of the token, and the
wallet checks that before it shows one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.canonical import jcs
from identity.credentials import qrcode
from identity.jose.envelope import VC_COSE, VC_JWT
from tests.service.conftest import credential_for, issue, make_issuer, services_of
from tests.service.directory_helpers import Citizen


def issued_to(client: TestClient, citizen: Citizen, **options: Any) -> dict[str, Any]:
    agency = make_issuer(client)
    document = credential_for(agency["did"])
    document["credentialSubject"]["id"] = citizen.did
    response = issue(client, agency, document, **options)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("media_type", [VC_JWT, VC_COSE])
def test_the_wallet_serves_an_enveloped_credential(
    client: TestClient, clock: Any, media_type: str
) -> None:
    citizen = Citizen(seed=41)
    citizen.register(client)
    headers = citizen.headers(client, clock.now())
    issued = issued_to(client, citizen, envelope=media_type)
    cid = issued["credentialId"]
    svc = services_of(client)
    record = svc.store.find_credential(cid)
    assert record is not None
    assert svc.issuance.wallet.credential(citizen.did, record) == issued["verifiableCredential"]
    png = client.get(f"/wallet/credentials/{cid}/qr?format=png", headers=headers)
    assert png.status_code == 200, png.text
    assert int(png.headers["x-qr-payload-length"]) == len(
        qrcode.encode(issued["verifiableCredential"])
    )


def test_a_data_integrity_credential_is_sealed_from_the_issuers_own_bytes(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    citizen = Citizen(seed=42)
    citizen.register(client)
    import service.wallet as wallet_module

    def no_jcs(value: Any) -> bytes:
        raise AssertionError("the wallet serialized the credential again")

    monkeypatch.setattr(wallet_module, "jcs", no_jcs, raising=False)
    issued = issued_to(client, citizen)
    svc = services_of(client)
    record = svc.store.find_credential(issued["credentialId"])
    assert record is not None
    assert svc.issuance.wallet.credential(citizen.did, record) == issued["verifiableCredential"]
    entry = svc.issuance.wallet.store.find(citizen.did, record.id)
    assert entry is not None
    opened = svc.issuance.wallet.sealer.open(citizen.did, record.id, entry.sealed)
    assert opened == jcs(issued["verifiableCredential"])


def test_an_envelope_whose_token_is_not_the_recorded_one_is_not_shown(
    client: TestClient, clock: Any
) -> None:
    citizen = Citizen(seed=43)
    citizen.register(client)
    first = issued_to(client, citizen, envelope=VC_JWT)
    second = issued_to(client, citizen, envelope=VC_JWT)
    svc = services_of(client)
    record = svc.store.find_credential(first["credentialId"])
    other = svc.store.find_credential(second["credentialId"])
    assert record is not None and other is not None
    assert svc.issuance.wallet.credential(citizen.did, record) == first["verifiableCredential"]
    # The first envelope kept under a record that names the second's token: refused.
    assert svc.issuance.wallet.credential(citizen.did, replace(record, digest=other.digest)) is None
