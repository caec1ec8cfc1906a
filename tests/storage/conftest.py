"""One store fixture parametrised over every backend (the contract suite runs on each).

``fakeredis`` runs everywhere; ``redis`` needs a real server at ``IDENTITY_TEST_REDIS_URL``
(default ``redis://127.0.0.1:6379/15``, ``scripts/ensure-redis`` starts one). When none
answers, the ``redis`` tests are skipped -- unless ``IDENTITY_REQUIRE_REDIS`` is set or
``CI=true``, where they fail: CI never silently skips them. Each real-Redis test writes
under its own random key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import fakeredis
import pytest
import redis

from identity.storage.memory import MemoryStore
from identity.storage.redis import RedisStore
from identity.storage.sqlite import SqliteStore
from identity.stores import Store

REDIS_URL = os.environ.get("IDENTITY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REAL_REDIS = pytest.param("redis", marks=pytest.mark.redis_server)
BACKENDS = ["memory", "sqlite", "fakeredis", REAL_REDIS]


def redis_required() -> bool:
    return bool(os.environ.get("IDENTITY_REQUIRE_REDIS")) or os.environ.get("CI") == "true"


def connect_real_redis() -> redis.Redis:
    """A client of the test server; skip the test (fail when required) if none answers."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        reason = f"no Redis server answers at {REDIS_URL} ({exc}); run scripts/ensure-redis"
        if redis_required():
            pytest.fail(f"{reason} -- required here (IDENTITY_REQUIRE_REDIS or CI=true)")
        pytest.skip(reason)
    return client


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix no other test (or service) uses."""
    return f"test-{uuid.uuid4().hex}:"


@pytest.fixture
def real_redis(redis_prefix: str) -> Iterator[redis.Redis]:
    """The real server; every key under ``redis_prefix`` is deleted after the test."""
    client = connect_real_redis()
    yield client
    for key in client.scan_iter(match=redis_prefix + "*", count=1000):
        client.delete(key)
    client.close()


def fake_redis() -> fakeredis.FakeRedis:
    """A fakeredis client on a server of its own (no state shared between tests)."""
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str) -> Iterator[Store]:
    backend: Store
    if request.param == "memory":
        backend = MemoryStore()
    elif request.param == "sqlite":
        backend = SqliteStore(tmp_path / "store.sqlite3")
    elif request.param == "fakeredis":
        backend = RedisStore(fake_redis(), prefix=redis_prefix)
    else:
        backend = RedisStore(request.getfixturevalue("real_redis"), prefix=redis_prefix)
    yield backend
    backend.close()
