"""Redis clients for the storage tests: fakeredis, and the real server with a clean prefix.

The real server is ``IDENTITY_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``;
``scripts/ensure-redis`` starts one). When it does not answer, a test using it is skipped
-- unless ``IDENTITY_REQUIRE_REDIS`` is non-empty or ``CI=true``: then it fails, so CI
never silently skips the real-Redis tests. Usable from any test package's fixtures.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import fakeredis
import pytest
import redis

REDIS_URL = os.environ.get("IDENTITY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_required() -> bool:
    return bool(os.environ.get("IDENTITY_REQUIRE_REDIS")) or os.environ.get("CI") == "true"


def new_prefix() -> str:
    """A key prefix no other test (or service) uses."""
    return f"test-{uuid.uuid4().hex}:"


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


@contextmanager
def real_redis(prefix: str) -> Iterator[redis.Redis]:
    """The real server; every key under ``prefix`` is deleted afterwards."""
    client = connect_real_redis()
    try:
        yield client
    finally:
        for key in client.scan_iter(match=prefix + "*", count=1000):
            client.delete(key)
        client.close()


def fake_redis(*, lua: bool = False) -> fakeredis.FakeRedis:
    """A fakeredis client on a server of its own (no state shared between tests).

    ``lua=True`` (the log store's scripts) needs ``lupa``; without it the test is skipped
    with that reason -- the real-server tests cover the scripts either way.
    """
    if lua and importlib.util.find_spec("lupa") is None:
        pytest.skip("fakeredis runs Lua scripts only with lupa installed (fakeredis[lua])")
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())
