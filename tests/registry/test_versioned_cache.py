"""The trust registry's versioned caches answer exactly as the store does (issue #15).

Two registries over one store stand for two replicas: after any sequence of trust
writes (issuers, API keys, types, accreditations granted and revoked), every cached read
on either equals the uncached store read. The cache itself is bounded and never keeps a
value loaded under an older version than one it has seen.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.clock import FixedClock
from identity.errors import ConflictError, NotFoundError
from identity.registry.accreditation import Accreditation, accredited_for
from identity.registry.cache import VersionedCache
from identity.registry.trust import TrustRegistry
from identity.registry.types import bundled_types
from identity.storage.memory import MemoryStore
from identity.storage.redis import RedisStore
from identity.storage.sqlite import SqliteStore
from identity.stores import ApiKeyRecord, IssuerRecord, Store
from tests.storage.redis_backends import fake_redis, new_prefix

NOW = datetime(2026, 6, 1, tzinfo=UTC)
AGENCIES = ["a0", "a1", "a2"]
TYPES = [*(t.name for t in bundled_types()[:2]), "UnregisteredCredential"]
MOMENTS = [NOW - timedelta(days=400), NOW, NOW + timedelta(days=10)]

# One trust write: (kind, agency, n).
Write = tuple[str, int, int]
WRITES = st.tuples(
    st.sampled_from(["issuer", "key", "revoke-key", "type", "grant", "delegate", "revoke-acc"]),
    st.integers(0, len(AGENCIES) - 1),
    st.integers(0, 3),
)


def _did(agency: str) -> str:
    return f"did:key:z{agency}"


def _apply(store: Store, write: Write) -> None:
    kind, a, n = write
    agency = AGENCIES[a]
    try:
        if kind == "issuer":
            store.create_issuer(
                IssuerRecord(agency, agency, _did(agency), b"sealed", NOW),
                ApiKeyRecord(f"{agency}-k0", b"\x00" * 32, agency, frozenset({"issue"}), NOW),
            )
        elif kind == "key":
            store.add_api_key(
                ApiKeyRecord(f"{agency}-k{n}", b"\x01" * 32, agency, frozenset({"read"}), NOW)
            )
        elif kind == "revoke-key":
            store.revoke_api_key(f"{agency}-k{n % 2}")
        elif kind == "type":
            store.create_type(bundled_types()[n % 2])
        elif kind in ("grant", "delegate"):
            parent = f"acc-{AGENCIES[(a + 1) % 3]}-{n}" if kind == "delegate" else None
            store.add_accreditation(
                Accreditation(
                    id=f"acc-{agency}-{n}",
                    issuer_id=agency,
                    types=frozenset(TYPES[: 1 + n % 2]),
                    valid_from=NOW - timedelta(days=n * 100),
                    valid_until=NOW + timedelta(days=365),
                    accredited_by="operator" if parent is None else AGENCIES[(a + 1) % 3],
                    parent_id=parent,
                    depth=0 if parent is None else 1,
                    created=NOW + timedelta(seconds=n),
                )
            )
        else:
            store.revoke_accreditation(f"acc-{agency}-{n}", NOW - timedelta(days=n))
    except (ConflictError, NotFoundError):
        pass  # refused writes change nothing; the reads must still agree


def _assert_equal(trust: TrustRegistry, store: Store) -> None:
    for agency in AGENCIES:
        assert trust.issuer_by_did(_did(agency)) == store.find_issuer_by_did(_did(agency))
        for n in range(4):
            key_id = f"{agency}-k{n}"
            assert trust.api_key(key_id) == store.find_api_key(key_id)
        for type_name in TYPES:
            for moment in MOMENTS:
                try:
                    expected = accredited_for(
                        agency, type_name, moment, store.accreditations_of, store.get_accreditation
                    )
                except NotFoundError:  # a delegation whose parent was never stored
                    with pytest.raises(NotFoundError):
                        trust.accredited(agency, type_name, moment)
                    continue
                assert trust.accredited(agency, type_name, moment) == expected
    for type_name in TYPES:
        assert trust.find_type(type_name) == store.find_type(type_name)


def _registry(store: Store) -> TrustRegistry:
    return TrustRegistry(store, store, FixedClock(NOW), schema_base_url="https://x.example")


@pytest.fixture(params=["memory", "sqlite", "fakeredis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(request.param)


def _open(backend: str, tmp_path: Path) -> Store:
    if backend == "memory":
        return MemoryStore()
    if backend == "sqlite":
        return SqliteStore(tmp_path / f"{uuid.uuid4().hex}.sqlite3")  # one per example
    return RedisStore(fake_redis(), prefix=new_prefix())


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.lists(WRITES, max_size=4), min_size=1, max_size=8))
def test_cached_reads_on_two_replicas_equal_the_store_after_any_writes(
    backend: str, tmp_path: Path, steps: list[list[Write]]
) -> None:
    store = _open(backend, tmp_path)
    replica_a, replica_b = _registry(store), _registry(store)
    try:
        for writes in steps:
            for write in writes:
                _apply(store, write)
            _assert_equal(replica_a, store)
            _assert_equal(replica_b, store)
            _assert_equal(replica_a, store)  # now from the warm cache
    finally:
        store.close()


def test_a_warm_cache_reads_only_the_version() -> None:
    store = MemoryStore()
    _apply(store, ("issuer", 0, 0))
    _apply(store, ("grant", 0, 0))
    trust = _registry(store)
    _assert_equal(trust, store)
    reads: list[str] = []
    for name in ("find_api_key", "find_issuer_by_did", "accreditations_of", "get_accreditation"):
        original = getattr(store, name)
        setattr(store, name, lambda *a, _n=name, _o=original: reads.append(_n) or _o(*a))
    snapshot = trust.snapshot()
    assert trust.api_key("a0-k0", snapshot) is not None
    assert trust.issuer_by_did(_did("a0"), snapshot) is not None
    assert trust.accredited("a0", TYPES[0], NOW, snapshot).accredited
    assert reads == []
    store.revoke_api_key("a0-k0")
    revoked = trust.api_key("a0-k0")
    assert revoked is not None and revoked.revoked
    assert reads == ["find_api_key"]


def test_unknown_api_keys_are_not_remembered() -> None:
    trust = _registry(MemoryStore())
    for n in range(10):
        assert trust.api_key(f"guess-{n}") is None
    assert len(trust.cache) == 0


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache = VersionedCache(lambda: 7, max_entries=3)
    snapshot = cache.snapshot()
    for key in "abcd":
        snapshot.get(key, lambda k=key: k.upper())  # type: ignore[misc]
    assert len(cache) == 3
    assert snapshot.get("a", lambda: "reloaded") == "reloaded"  # "a" was dropped


def test_a_value_loaded_under_an_older_version_is_never_kept() -> None:
    version = [1]
    cache = VersionedCache(lambda: version[0])
    old = cache.snapshot()
    version[0] = 2
    new = cache.snapshot()  # another request saw the write: the entries are dropped
    assert old.get("key", lambda: "before the write") == "before the write"
    assert new.get("key", lambda: "after the write") == "after the write"
    assert old.get("key", lambda: "reloaded") == "reloaded"  # old snapshots never hit
    assert new.get("key", lambda: "not called") == "after the write"


def test_a_failed_load_keeps_nothing() -> None:
    cache = VersionedCache(lambda: 0)
    snapshot = cache.snapshot()
    with pytest.raises(NotFoundError):
        snapshot.get("x", _missing)
    assert len(cache) == 0


def _missing() -> str:
    raise NotFoundError("no such thing")
