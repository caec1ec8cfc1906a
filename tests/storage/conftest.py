"""Store fixtures parametrised over every backend (each contract suite runs on each):
``store`` (identity/stores.py) and ``directory`` (identity/directory_store.py).

``fakeredis`` runs everywhere; ``redis`` is a real server (see :mod:`.redis_backends`:
skipped when none answers, a failure instead under ``IDENTITY_REQUIRE_REDIS`` or
``CI=true``). Each real-Redis test writes under its own random key prefix and deletes
its keys afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from identity.directory_store import DirectoryStore
from identity.storage.memory import MemoryStore
from identity.storage.memory_directory import MemoryDirectoryStore
from identity.storage.redis import RedisStore
from identity.storage.redis_directory import RedisDirectoryStore
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_directory import SqliteDirectoryStore
from identity.stores import Store
from tests.storage.redis_backends import fake_redis, new_prefix
from tests.storage.redis_backends import real_redis as real_redis_client

REAL_REDIS = pytest.param("redis", marks=pytest.mark.redis_server)
REDIS_CLUSTER = pytest.param("cluster", marks=pytest.mark.redis_cluster)
BACKENDS = ["memory", "sqlite", "fakeredis", REAL_REDIS, REDIS_CLUSTER]


@pytest.fixture
def redis_prefix() -> str:
    return new_prefix()


@pytest.fixture
def real_redis(redis_prefix: str) -> Iterator[redis.Redis]:
    """The real server; every key under ``redis_prefix`` is deleted after the test."""
    with real_redis_client(redis_prefix) as client:
        yield client


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str) -> Iterator[Store]:
    backend: Store
    if request.param == "memory":
        backend = MemoryStore()
    elif request.param == "sqlite":
        backend = SqliteStore(tmp_path / "store.sqlite3")
    elif request.param == "fakeredis":
        backend = RedisStore(fake_redis(), prefix=redis_prefix)
    elif request.param == "cluster":
        backend = RedisStore(request.getfixturevalue("cluster_client"), prefix=redis_prefix)
    else:
        backend = RedisStore(request.getfixturevalue("real_redis"), prefix=redis_prefix)
    yield backend
    backend.close()


@pytest.fixture(params=BACKENDS)
def directory(
    request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str
) -> Iterator[DirectoryStore]:
    """A directory store; the SQLite one shares its file with a :class:`SqliteStore`, as
    in the service."""
    backend: DirectoryStore
    if request.param == "memory":
        backend = MemoryDirectoryStore()
    elif request.param == "sqlite":
        SqliteStore(tmp_path / "store.sqlite3").close()
        backend = SqliteDirectoryStore(tmp_path / "store.sqlite3")
    elif request.param == "fakeredis":
        backend = RedisDirectoryStore(fake_redis(), prefix=redis_prefix)
    elif request.param == "cluster":
        client = request.getfixturevalue("cluster_client")
        backend = RedisDirectoryStore(client, prefix=redis_prefix)
    else:
        backend = RedisDirectoryStore(request.getfixturevalue("real_redis"), prefix=redis_prefix)
    yield backend
    backend.close()
