"""The service's own acts anchored in the log shard of now (docs/log-shards.md, issue #16).

With ``IDENTITY_LOG_SHARD_PERIOD=month`` a month boundary is crossed (the injected clock
moved) while eight threads issue through the HTTP API, on SQLite, a real Redis and the
real local Redis Cluster. Afterwards: every credential that got 201 verifies with
``results.anchor`` naming its shard, each act is in exactly one shard (and none in the
unsharded log), ``identity log reconcile`` finds nothing, the auditor passes on every
shard; then the old month is frozen, exported, its live data deleted, and its
credentials still verify -- from the exported files alone.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.log.entries import LogEntry
from service.app import create_app
from service.audit_shards import audit_shards, export_shards
from service.log_cli import run_reconcile
from service.log_shards import open_shard_backend
from service.settings import Settings
from tests.service.conftest import credential_for, issue, make_issuer, service_settings, services_of
from tests.storage.redis_backends import REDIS_URL, new_prefix, real_redis

MONTH_END = datetime(2026, 6, 30, 23, 59, 57, tzinfo=UTC)
ORIGIN = "identity.example/log"
JUNE, JULY = "2026-06", "2026-07"
ISSUES = 48


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis_server),
        pytest.param("cluster", marks=pytest.mark.redis_cluster),
    ]
)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Sharded by month, on each backend (the service opens every store from these)."""
    changes: dict[str, Any] = {
        "log_shard_period": "month",
        "log_shard_grace_s": 60,
        "log_shards_dir": tmp_path / "exported",
    }
    if request.param == "sqlite":
        yield service_settings(tmp_path / "data", **changes)
        return
    prefix = new_prefix()
    if request.param == "redis":
        with real_redis(prefix):
            yield service_settings(
                tmp_path / "data", storage_url=REDIS_URL, redis_prefix=prefix, **changes
            )
        return
    from tests.cluster.fixtures import delete_prefix

    cluster = request.getfixturevalue("redis_cluster")
    client = cluster.client(socket_timeout=5)
    try:
        yield service_settings(
            tmp_path / "data", storage_url=cluster.url, redis_prefix=prefix, **changes
        )
    finally:
        delete_prefix(client, prefix)
        client.close()


def _issue_across_the_boundary(client: TestClient, clock: FixedClock) -> list[Any]:
    """``ISSUES`` issuances from 8 threads; the clock enters July after the 16th started."""
    agency = make_issuer(client)
    started = [0]
    lock = threading.Lock()

    def one(n: int) -> Any:
        with lock:
            started[0] += 1
            if started[0] == 17:
                clock.advance(timedelta(seconds=5))
        credential = credential_for(agency["did"])
        credential["credentialSubject"]["permitNumber"] = f"SH{n:06d}"
        return issue(client, agency, credential, waitForCheckpoint=True)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(ISSUES)))


def _verify(client: TestClient, vc: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["verified"] is True, body
    anchor: dict[str, Any] = body["results"]["anchor"]
    assert anchor["valid"] is True and anchor["integrated"] is True, anchor
    return anchor


def _issued_digests(client: TestClient) -> tuple[Counter[str], int]:
    """``credential.issued`` digests over every shard (how often each), and how many such
    entries the unsharded log holds."""
    svc = services_of(client)
    assert svc.logs.anchors.shards is not None
    counts: Counter[str] = Counter()
    for shard in svc.logs.anchors.shards.sharded.shards():
        store = shard.store
        for data in store.read_entries(0, store.entry_count()):
            entry = LogEntry.parse(data)
            if entry.kind == "credential.issued":
                counts[entry.fields["credential_digest"]] += 1
    log = svc.logs.log.store
    unsharded = [LogEntry.parse(e) for e in log.read_entries(0, log.entry_count())]
    return counts, sum(e.kind == "credential.issued" for e in unsharded)


def _audit(client: TestClient, state: Path) -> dict[str, int]:
    vkey = client.get("/log/key").json()["vkey"]
    transport = httpx.Client(transport=client._transport, base_url="http://testserver")  # type: ignore[attr-defined]
    audits = audit_shards("http://testserver", state, vkey, client=transport)
    return {a.name: a.report.checkpoint.checkpoint.size for a in audits}


def _reconciled(settings: Settings) -> list[str]:
    lines: list[str] = []
    assert run_reconcile(settings, lines.append) == 0, lines
    return lines


def test_a_month_boundary_under_concurrent_issuance(settings: Settings, tmp_path: Path) -> None:
    clock = FixedClock(MONTH_END)
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as client:
        responses = _issue_across_the_boundary(client, clock)
        assert [r.status_code for r in responses] == [201] * ISSUES, [
            r.text for r in responses if r.status_code != 201
        ]
        issued = [r.json() for r in responses]
        origins = Counter(body["receipt"]["origin"] for body in issued)
        assert set(origins) == {f"{ORIGIN}/{JUNE}", f"{ORIGIN}/{JULY}"}, origins
        for body in issued:
            anchor = _verify(client, body["verifiableCredential"])
            assert anchor["origin"] == body["receipt"]["origin"]
            assert anchor["index"] == body["receipt"]["index"]
        counts, unsharded = _issued_digests(client)
        assert unsharded == 0  # nothing went into the unsharded log
        assert len(counts) == ISSUES and set(counts.values()) == {1}  # each in one shard
        assert "2 shards" in _reconciled(settings)[-1]
        assert set(_audit(client, tmp_path / "audit.json")) == {JUNE, JULY}

        # June closes (past the grace): frozen with its final checkpoint, then exported.
        clock.advance(timedelta(seconds=120))
        sharding = services_of(client).logs.anchors.shards
        assert sharding is not None
        assert client.portal.call(sharding.sharded.roll) == [JUNE]  # type: ignore[union-attr]
        assert settings.log_shards_dir is not None
        export_shards(sharding.shard_set, settings.log_shards_dir)
        sizes = _audit(client, tmp_path / "audit.json")
    june = [b for b in issued if b["receipt"]["origin"].endswith(JUNE)]
    assert sizes[JUNE] == origins[f"{ORIGIN}/{JUNE}"] + 2  # and the issuer, its accreditation

    backend = open_shard_backend(settings)
    try:
        backend.drop(JUNE)  # June's live data is gone: only its exported files remain
    finally:
        backend.close()
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as client:
        listed = {s["name"]: s for s in client.get("/log/shards").json()["shards"]}
        assert listed[JUNE]["servedFrom"] == "files" and listed[JUNE]["frozen"] is True
        for body in june:
            anchor = _verify(client, body["verifiableCredential"])
            assert anchor["origin"] == f"{ORIGIN}/{JUNE}"
            assert anchor["treeSize"] == sizes[JUNE]
        assert _audit(client, tmp_path / "again.json") == sizes
    _reconciled(settings)


def test_an_unsharded_log_anchors_as_before(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data")
    with TestClient(create_app(settings, clock=FixedClock(MONTH_END))) as client:
        assert services_of(client).logs.anchors.shards is None
        agency = make_issuer(client)
        body = issue(client, agency, waitForCheckpoint=True).json()
        assert body["receipt"]["origin"] == ORIGIN
        assert _verify(client, body["verifiableCredential"])["origin"] == ORIGIN
        assert client.get("/log/shards").json() == {"shards": []}
