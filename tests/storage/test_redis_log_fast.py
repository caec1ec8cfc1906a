"""The Redis log store's one-bundle append writes what one argument per entry wrote.

:data:`APPEND_BUNDLE_SCRIPT` (the batch as one tlog-tiles bundle) against
:data:`APPEND_SCRIPT` (one framed argument per entry) on fakeredis and a real server:
the same entry chunks byte for byte, the same counter and indices, a retried token
answered with the first index, a malformed bundle refused with nothing written.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from identity.log.tiles import encode_bundle
from identity.storage.redis_log import RedisLogStore
from identity.storage.redis_log_keys import APPEND_BUNDLE_SCRIPT, APPEND_SCRIPT, log_keys
from tests.storage.redis_backends import fake_redis, new_prefix, real_redis

BATCHES = [1, 255, 1, 300, 0, 511, 7, 1024]


BASE = new_prefix()
"""Every key of these tests starts with it (the real server's keys are deleted after)."""


def prefix() -> str:
    return BASE + new_prefix()


@pytest.fixture(params=["fakeredis", pytest.param("redis", marks=pytest.mark.redis_server)])
def client(request: pytest.FixtureRequest) -> Iterator[redis.Redis]:
    if request.param == "fakeredis":
        yield fake_redis(lua=True)
        return
    with real_redis(BASE) as real:
        yield real


def _entries(start: int, n: int) -> list[bytes]:
    return [b"e%d" % i * (1 + i % 5) for i in range(start, start + n)]


def _snapshot(client: redis.Redis, prefix: str, chunks: int) -> list[object]:
    keys = log_keys(prefix)
    return [client.get(keys.size)] + [client.get(keys.entry_bundle(c)) for c in range(chunks)]


def test_same_chunks_as_one_argument_per_entry(client: redis.Redis) -> None:
    one, bundled = prefix(), prefix()
    per_entry = client.register_script(APPEND_SCRIPT)
    whole = client.register_script(APPEND_BUNDLE_SCRIPT)
    at = 0
    for call, n in enumerate(BATCHES):
        batch = _entries(at, n)
        a, b = log_keys(one), log_keys(bundled)
        first_a = per_entry(
            keys=[a.size, a.append_token(f"t{call}")],
            args=[a.entries, 60, *(encode_bundle([e]) for e in batch)],
        )
        first_b = whole(
            keys=[b.size, b.append_token(f"t{call}")], args=[b.entries, 60, n, encode_bundle(batch)]
        )
        assert first_a == first_b == at
        at += n
    chunks = at // 256 + 1
    assert _snapshot(client, one, chunks) == _snapshot(client, bundled, chunks)


def test_the_store_reads_back_what_it_appended(client: redis.Redis) -> None:
    store = RedisLogStore(client, prefix())
    store.open("o", b"k" * 32)
    at = 0
    for n in BATCHES:
        assert store.append_entries(_entries(at, n)) == at
        at += n
    assert store.read_entries(0, at) == _entries(0, at)


def test_a_retried_token_gets_the_first_index_again(client: redis.Redis) -> None:
    keys = log_keys(prefix())
    whole = client.register_script(APPEND_BUNDLE_SCRIPT)
    args = [keys.entries, 60, 3, encode_bundle([b"a", b"b", b"c"])]
    token = keys.append_token("same")
    assert whole(keys=[keys.size, token], args=args) == 0
    assert whole(keys=[keys.size, token], args=args) == 0
    assert client.get(keys.size) == b"3"


@pytest.mark.parametrize(
    ("count", "bundle"),
    [
        (3, encode_bundle([b"a", b"b"])),  # fewer entries than announced
        (1, encode_bundle([b"a", b"b"])),  # more
        (1, b"\x00\x05abc"),  # ends inside the entry
        (1, b"\x00"),  # ends inside a length
    ],
)
def test_a_malformed_bundle_writes_nothing(client: redis.Redis, count: int, bundle: bytes) -> None:
    keys = log_keys(prefix())
    whole = client.register_script(APPEND_BUNDLE_SCRIPT)
    with pytest.raises(redis.ResponseError):
        whole(keys=[keys.size, keys.append_token("t")], args=[keys.entries, 60, count, bundle])
    assert client.get(keys.size) is None
    assert client.get(keys.entry_bundle(0)) is None
    assert client.get(keys.append_token("t")) is None
