"""The service's acts against ``IDENTITY_LOG_SHARD_MAX_ENTRIES`` and a frozen shard of now
(docs/log-shards.md, issue #16), over the HTTP API on SQLite and a real Redis.

Concurrent issuances fill the month's shard and spill into ``2026-06.1``, ``2026-06.2``
… inside each act's transaction: every act got 201, no shard holds more than the limit,
each act is in exactly one shard, every credential verifies against its receipt's
shard, reconcile and the audit pass. Full shards frozen by the roll keep taking no
entries, and issuance carries on in the next split. A shard of now sealed by another
replica, or frozen here, without being full refuses the next issuance with 409
``…/log-shard-frozen`` and nothing written.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.errors import PROBLEMS
from service.app import create_app
from service.settings import Settings
from tests.service.conftest import credential_for, issue, make_issuer, service_settings, services_of
from tests.service.test_sharded_anchoring import _audit, _issued_digests, _reconciled, _verify
from tests.storage.redis_backends import REDIS_URL, new_prefix, real_redis

NOW = datetime(2026, 6, 10, 12, tzinfo=UTC)
ORIGIN = "identity.example/log"
LIMIT = 5


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis_server)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    changes: dict[str, Any] = {
        "log_shard_period": "month",
        "log_shard_max_entries": LIMIT,
        "log_shards_dir": tmp_path / "exported",
    }
    if request.param == "sqlite":
        yield service_settings(tmp_path / "data", **changes)
        return
    prefix = new_prefix()
    with real_redis(prefix):
        yield service_settings(
            tmp_path / "data", storage_url=REDIS_URL, redis_prefix=prefix, **changes
        )


def _issue(client: TestClient, agency: dict[str, Any], n: int) -> Any:
    credential = credential_for(agency["did"])
    credential["credentialSubject"]["permitNumber"] = f"LM{n:06d}"
    return issue(client, agency, credential, waitForCheckpoint=True)


def test_concurrent_issuance_against_a_size_limit(settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as client:
        agency = make_issuer(client)  # two entries: the agency and its accreditation
        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(lambda n: _issue(client, agency, n), range(16)))
        assert [r.status_code for r in responses] == [201] * 16, [r.text for r in responses]
        issued = [r.json() for r in responses]
        for body in issued:
            anchor = _verify(client, body["verifiableCredential"])
            assert (anchor["origin"], anchor["index"]) == (
                body["receipt"]["origin"],
                body["receipt"]["index"],
            )
        listed = client.get("/log/shards").json()["shards"]
        names = [s["name"] for s in listed]
        assert names == ["2026-06"] + [f"2026-06.{n}" for n in range(1, len(names))]
        assert all(s["treeSize"] <= LIMIT for s in listed), listed
        assert sum(s["treeSize"] for s in listed) == 18  # no gap, nothing extra
        counts, unsharded = _issued_digests(client)
        assert unsharded == 0 and len(counts) == 16 and set(counts.values()) == {1}
        assert f"{len(names)} shards" in _reconciled(settings)[-1]
        audited = _audit(client, tmp_path / "audit.json")
        assert audited == {s["name"]: s["treeSize"] for s in listed}

        # The roll freezes every full shard; issuance goes on in the next split.
        sharding = services_of(client).logs.anchors.shards
        assert sharding is not None
        frozen = client.portal.call(sharding.sharded.roll)  # type: ignore[union-attr]
        assert frozen == [s["name"] for s in listed if s["treeSize"] == LIMIT]
        more = [_issue(client, agency, 100 + n) for n in range(3)]
        assert [r.status_code for r in more] == [201] * 3, [r.text for r in more]
        for response in more:
            assert response.json()["receipt"]["origin"] not in {f"{ORIGIN}/{n}" for n in frozen}
        assert "shards" in _reconciled(settings)[-1]


def test_a_frozen_shard_of_now_refuses_issuance_with_nothing_written(settings: Settings) -> None:
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as client:
        agency = make_issuer(client)
        assert _issue(client, agency, 1).status_code == 201
        sharding = services_of(client).logs.anchors.shards
        assert sharding is not None
        store = services_of(client).store
        before = store.count_credentials()
        sizes = {s["name"]: s["treeSize"] for s in client.get("/log/shards").json()["shards"]}
        # sealed by another replica's freeze, which this one does not know of yet: the
        # record store refuses the act inside its transaction
        sharding.sharded.catalog.seal("2026-06")
        refused = _issue(client, agency, 2)
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"] == PROBLEMS + "log-shard-frozen"
        assert store.count_credentials() == before
        # this replica's roll finishes the freeze the other one began: refused before
        # the store is asked from now on
        assert client.portal.call(sharding.sharded.roll) == ["2026-06"]  # type: ignore[union-attr]
        refused = _issue(client, agency, 3)
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"] == PROBLEMS + "log-shard-frozen"
        assert store.count_credentials() == before
        after = {s["name"]: s["treeSize"] for s in client.get("/log/shards").json()["shards"]}
        assert after == sizes
        _reconciled(settings)
