"""A log that cannot stall unseen (issue #12): when integration stops, ``/health`` answers
503 naming the reason, one log line says so, and new acts are refused with 503
``unavailable`` instead of a 201 whose receipt never integrates.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.errors import PROBLEMS
from service.settings import Settings
from tests.service.conftest import credential_for, issue, make_issuer, services_of
from tests.service.test_on_redis import redis_app  # noqa: F401 - the fixture


def _wait_unhealthy(client: TestClient, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get("/health")
        if response.status_code == 503:
            return response
        time.sleep(0.05)
    raise AssertionError("/health never reported the stall")


def _assert_refused_and_nothing_written(client: TestClient, agency: dict[str, Any]) -> None:
    svc = services_of(client)
    before = (svc.store.count_credentials(), svc.logs.log.store.entry_count())
    refused = issue(client, agency, credential_for(agency["did"]))
    assert refused.status_code == 503, refused.text
    assert refused.json()["type"] == PROBLEMS + "unavailable"
    assert "cannot anchor" in refused.json()["detail"]
    assert (svc.store.count_credentials(), svc.logs.log.store.entry_count()) == before


def test_a_corrupted_level_counter_on_redis_is_named_by_health(
    redis_app: tuple[TestClient, Any],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The fault found from outside: one bumped counter (level 0 of the stored tree)."""
    client, _ = redis_app
    agency = make_issuer(client)
    assert issue(client, agency, waitForCheckpoint=True).status_code == 201
    assert client.get("/health").status_code == 200
    log_store = services_of(client).logs.log.store
    log_store._client.hincrby(log_store._keys.levels, "0", 1)  # type: ignore[attr-defined]
    caplog.set_level(logging.INFO, logger="identity.log")
    waiting = issue(client, agency, credential_for(agency["did"]), waitForCheckpoint=True)
    assert waiting.status_code == 503, waiting.text  # was a 500
    health = _wait_unhealthy(client)
    assert health.json()["type"] == PROBLEMS + "unavailable"
    assert "integration stopped" in health.json()["detail"]
    assert "contiguously" in health.json()["detail"]
    _assert_refused_and_nothing_written(client, agency)
    for _ in range(3):
        assert client.get("/health").status_code == 503
    lines = [r for r in caplog.records if "transparency log unhealthy" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]


def test_a_tampered_checkpoint_on_sqlite_stops_integration_visibly(
    client: TestClient, settings: Settings
) -> None:
    agency = make_issuer(client)
    assert issue(client, agency, waitForCheckpoint=True).status_code == 201
    path = Path(settings.data_dir) / "identity.sqlite3"
    with sqlite3.connect(path) as db:
        (note,) = db.execute("SELECT value FROM log_meta WHERE key = 'checkpoint'").fetchone()
        forged = bytes(note).replace(b"\n", b"\n\n", 1)
        db.execute("UPDATE log_meta SET value = ? WHERE key = 'checkpoint'", (forged,))
    assert issue(client, agency, credential_for(agency["did"])).status_code == 201
    health = _wait_unhealthy(client)
    assert "integration stopped" in health.json()["detail"]
    assert health.json()["pending"] >= 1
    _assert_refused_and_nothing_written(client, agency)
