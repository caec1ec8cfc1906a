"""An agency key that does not open with this service's master secret (a record sealed
by another deployment, or sealed bytes altered at rest): every signing request is a 503
``sealed-key`` problem, never a 500, and nothing is written. (A changed master secret
itself is refused at start-up: the log's key derives from it.)"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.errors import PROBLEMS
from identity.jose.keys import SigningKey
from identity.keys import Ed25519PrivateKey, KeySealer
from service.app import create_app
from tests.sdjwt.service_helpers import sd_issue
from tests.service.conftest import admin, issue, make_issuer, service_settings, services_of
from tests.service.test_bad_input import assert_problem


def _state(client: TestClient) -> tuple[Any, ...]:
    svc = services_of(client)
    return svc.store.count_credentials(), client.get("/log/checkpoint").text


@pytest.mark.parametrize("how", ["another secret", "altered"])
def test_a_key_that_does_not_open_is_a_sealed_key_problem(
    tmp_path: Path, clock: FixedClock, how: str
) -> None:
    data = tmp_path / "data"
    settings = service_settings(data)
    with TestClient(create_app(settings, clock=clock)) as first:
        agency = make_issuer(first)
        sealed = services_of(first).store.get_issuer(agency["id"]).sealed_key
    if how == "another secret":
        foreign = KeySealer(secrets.token_bytes(32)).seal(Ed25519PrivateKey.generate())
    else:
        foreign = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with sqlite3.connect(data / "identity.sqlite3") as db:
        db.execute("UPDATE issuers SET sealed_key = ? WHERE id = ?", (foreign, agency["id"]))
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as client:
        before = _state(client)
        for options in ({}, {"format": "vc+jwt"}):
            body = assert_problem(issue(client, agency, **options), 503, PROBLEMS + "sealed-key")
            assert "master secret" in body["detail"]
        sd = sd_issue(client, agency, SigningKey.generate_p256())
        assert_problem(sd, 503, PROBLEMS + "sealed-key")
        assert _state(client) == before
        assert client.get("/issuers", headers=admin()).status_code == 200  # the rest serves
