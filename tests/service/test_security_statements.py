"""The README's security statements, each proved (docs/security.md lists which test
backs which line): keys sealed at rest, API keys stored as SHA-256 and shown once, no
secret in any response or log line."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.errors import SealedKeyError
from identity.keys import KeySealer
from service.app import create_app
from service.settings import Settings
from tests.service.conftest import NOW, credential_for, services_of
from tests.service.test_roles import CITIZEN_DID, login

MASTER = secrets.token_hex(32)
ADMIN = secrets.token_urlsafe(32)


@pytest.fixture
def seen(tmp_path: Path) -> Iterator[tuple[TestClient, list[httpx.Response]]]:
    """A client on a fresh SQLite store whose every response is kept for inspection."""
    settings = Settings(
        data_dir=tmp_path, admin_token=ADMIN, master_secret=MASTER, public_verify_per_minute=10**6
    )
    responses: list[httpx.Response] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        responses.append(response)

    with TestClient(create_app(settings, clock=FixedClock(NOW))) as client:
        client.event_hooks["response"].append(keep)
        yield client, responses


def _as_admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


def _walk(client: TestClient) -> dict[str, Any]:
    """Every role does its everyday things, and a few wrong ones."""
    made = client.post("/issuers", json={"name": "Bureau", "id": "psb"}, headers=_as_admin())
    agency = made.json()
    client.post(
        "/accreditations",
        json={
            "issuer": "psb",
            "types": ["ResidencePermitCredential"],
            "validUntil": "2027-01-01T00:00:00Z",
        },
        headers=_as_admin(),
    )
    key = {"Authorization": f"Bearer {agency['apiKey']}"}
    cred = credential_for(agency["did"])
    cred["credentialSubject"]["id"] = CITIZEN_DID
    issued = client.post("/credentials/issue", json={"credential": cred}, headers=key).json()
    client.post(
        "/credentials/verify", json={"verifiableCredential": issued["verifiableCredential"]}
    )
    client.post(
        "/credentials/status",
        json={
            "credentialId": issued["credentialId"],
            "credentialStatus": [{"status": "suspended"}],
        },
        headers=key,
    )
    verifier = client.post("/verifiers", json={"name": "Bank"}, headers=_as_admin()).json()
    token = login(client).json()["access_token"]
    client.get("/wallet/credentials", headers={"Authorization": f"Bearer {token}"})
    # Wrong ones: a near-miss admin token, a key with a wrong secret, a forged citizen token.
    client.post("/issuers", json={"name": "X"}, headers={"Authorization": f"Bearer {ADMIN[:-1]}x"})
    wrong = agency["apiKey"].rpartition(".")[0] + ".wrong"
    client.post(
        "/credentials/issue",
        json={"credential": cred},
        headers={"Authorization": f"Bearer {wrong}"},
    )
    client.get("/wallet/credentials", headers={"Authorization": f"Bearer {token[:-3]}AAA"})
    client.get("/health")
    client.get("/log/key")
    return {"agency": agency, "verifier": verifier, "token": token}


def _pieces(secret: str, window: int = 10) -> set[str]:
    return {secret[i : i + window] for i in range(len(secret) - window + 1)}


def _text(response: httpx.Response) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return f"{response.status_code}\n{headers}\n{response.text}"


def test_no_secret_in_any_response_or_log_line(
    seen: tuple[TestClient, list[httpx.Response]], caplog: pytest.LogCaptureFixture
) -> None:
    client, responses = seen
    caplog.set_level(logging.DEBUG)
    walked = _walk(client)
    svc = services_of(client)
    seed = svc.issuance.keys.signing_key(svc.store.get_issuer("psb")).seed
    api_secret = walked["agency"]["apiKey"].rpartition(".")[2]
    verifier_secret = walked["verifier"]["apiKey"].rpartition(".")[2]
    never = {
        "admin token": ADMIN,
        "master secret": MASTER,
        "master secret (base64)": base64.b64encode(bytes.fromhex(MASTER)).decode(),
        "issuer key (hex)": seed.hex(),
        "issuer key (base64)": base64.b64encode(seed).decode(),
    }
    handed_once = {  # each appears in the one response that hands it out, nowhere else
        "agency API key": (api_secret, "/issuers"),
        "verifier API key": (verifier_secret, "/verifiers"),
        "citizen token": (walked["token"], "/auth/token"),
    }
    logs = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    assert len(responses) >= 14 and caplog.records
    for name, secret in never.items():
        for piece in _pieces(secret):
            assert piece not in logs, name
            assert not [r.url for r in responses if piece in _text(r)], name
    for name, (secret, path) in handed_once.items():
        carrying = [r for r in responses if secret in _text(r)]
        assert [r.url.path for r in carrying] == [path], name
        assert carrying[0].headers["cache-control"] == "no-store"
        assert all(piece not in logs for piece in _pieces(secret)), name


def test_issuer_keys_are_stored_only_sealed_and_api_keys_only_hashed(
    seen: tuple[TestClient, list[httpx.Response]],
) -> None:
    client, _ = seen
    walked = _walk(client)
    svc = services_of(client)
    issuer = svc.store.get_issuer("psb")
    seed = svc.issuance.keys.signing_key(issuer).seed
    key_id, _, api_secret = walked["agency"]["apiKey"][3:].partition(".")
    record = svc.store.find_api_key(key_id)
    assert record is not None and record.secret_hash == hashlib.sha256(api_secret.encode()).digest()
    stored = b"".join(p.read_bytes() for p in Path(svc.settings.data_dir).glob("*.sqlite3*"))
    for secret in (seed, seed.hex().encode(), api_secret.encode(), ADMIN.encode()):
        assert secret not in stored
    assert seed not in issuer.sealed_key
    with pytest.raises(SealedKeyError, match="does not open"):
        KeySealer(secrets.token_bytes(32)).open(issuer.sealed_key)
    assert KeySealer(bytes.fromhex(MASTER)).open(issuer.sealed_key).seed == seed
    shown = client.get("/issuers/psb").text + client.get("/issuers").text
    assert api_secret not in shown and "sealed" not in shown


def test_the_log_holds_digests_and_identifiers_never_claims_or_citizens(
    seen: tuple[TestClient, list[httpx.Response]],
) -> None:
    client, _ = seen
    _walk(client)
    log = services_of(client).logs.log
    entries = b"\n".join(log.store.read_entries(0, log.store.entry_count())).decode()
    assert "credential.issued" in entries and "credential.suspended" in entries
    subject = credential_for("did:key:z")["credentialSubject"]
    for value in [CITIZEN_DID, *(v for k, v in subject.items() if k != "id")]:
        assert value not in entries, value
