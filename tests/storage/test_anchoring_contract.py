"""The anchoring contract (identity/stores.py, identity/log/store.py; issue #12), on every
backend: an act's record and its log entry commit together or not at all, the deciding
check runs inside the write, so racing acts on one record cannot both be admitted.

Afterwards, always: every entry names a stored act, every stored act has exactly one
entry, a refused write leaves none -- checked by :func:`identity.log.reconcile.reconcile`
as well as directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import redis

from identity.directory_store import CatalogRecord, DidOperationRecord, DirectoryStore
from identity.errors import ConflictError, NotFoundError
from identity.log.entries import LogEntry
from identity.log.reconcile import ORPHAN, UNANCHORED, reconcile
from identity.log.shards import ShardCatalog, ShardRecord
from identity.log.store import LogStore
from identity.registry.accreditation import Accreditation
from identity.registry.types import bundled_types
from identity.storage.log_shards import RedisShardCatalog, SQLiteShardCatalog
from identity.storage.memory import MemoryStore
from identity.storage.memory_directory import MemoryDirectoryStore
from identity.storage.memory_log import MemoryLogStore
from identity.storage.redis import RedisStore
from identity.storage.redis_cluster import key_prefix
from identity.storage.redis_directory import RedisDirectoryStore
from identity.storage.redis_durable_log import DurableRedisLogStore
from identity.storage.redis_log import RedisLogStore
from identity.storage.redis_log_keys import shard_log_keys
from identity.storage.shard_catalog import memory_catalog
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_directory import SqliteDirectoryStore
from identity.storage.sqlite_log import SQLiteLogStore, shard_tables
from identity.stores import Anchor, ApiKeyRecord, CredentialRecord, IssuerRecord, Store
from tests.storage.conftest import BACKENDS
from tests.storage.redis_backends import REDIS_URL, fake_redis

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PURPOSES = ("revocation", "suspension")


@dataclass
class Backend:
    """One backend's three stores over the same data, and a way to open more (another
    thread's or process's view of the same database)."""

    name: str
    store: Store
    directory: DirectoryStore
    log: LogStore
    reopen: Callable[[], tuple[Store, DirectoryStore]]
    shard: Callable[[str], LogStore] = lambda name: MemoryLogStore()
    """The store of log shard ``name`` where the record stores admit anchors naming it."""
    catalog: ShardCatalog | None = None
    """The log-shard catalog the record stores check in each act's transaction."""

    def list_shards(self, *names: str) -> None:
        """Put shards ``names`` in the catalog (the service lists a shard before any act
        names it: docs/log-shards.md)."""
        assert self.catalog is not None
        for name in names:
            self.catalog.add(ShardRecord(name, name, 0, f"identity.example/log/{name}"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str) -> Iterator[Backend]:
    opened: list[Any] = []

    def keep(*stores: Any) -> Any:
        opened.extend(stores)
        return stores

    if request.param == "memory":
        memory = MemoryStore()
        directory = MemoryDirectoryStore(memory.log)
        made = Backend("memory", memory, directory, memory.log, lambda: (memory, directory))
        made.shard = memory.log.shard
        made.catalog = memory_catalog(memory.log)
    elif request.param == "sqlite":
        path = tmp_path / "identity.sqlite3"

        def sqlite() -> tuple[Store, DirectoryStore]:
            return keep(SqliteStore(path), SqliteDirectoryStore(path))  # type: ignore[no-any-return]

        store, directory = sqlite()
        made = Backend("sqlite", store, directory, SQLiteLogStore(path), sqlite)
        made.shard = lambda name: keep(SQLiteLogStore(path, tables=shard_tables(name)))[0]
        made.catalog = keep(SQLiteShardCatalog(path))[0]
    elif request.param == "fakeredis":
        client = fake_redis()
        made = Backend(
            "fakeredis",
            RedisStore(client, redis_prefix),
            RedisDirectoryStore(client, redis_prefix),
            RedisLogStore(client, redis_prefix),
            lambda: (RedisStore(client, redis_prefix), RedisDirectoryStore(client, redis_prefix)),
        )
        made.shard = partial(_redis_shard, RedisLogStore, client, redis_prefix)
        made.catalog = RedisShardCatalog(client, redis_prefix)
    elif request.param == "cluster":
        cluster = request.getfixturevalue("redis_cluster")
        client = request.getfixturevalue("cluster_client")

        def on_cluster() -> tuple[Store, DirectoryStore]:
            own = cluster.client()
            opened.append(own)
            return RedisStore(own, redis_prefix), RedisDirectoryStore(own, redis_prefix)

        made = Backend(
            "cluster",
            RedisStore(client, redis_prefix),
            RedisDirectoryStore(client, redis_prefix),
            DurableRedisLogStore(client, redis_prefix),
            on_cluster,
        )
        made.shard = partial(_redis_shard, DurableRedisLogStore, client, redis_prefix)
        made.catalog = RedisShardCatalog(client, redis_prefix)
    else:
        client = request.getfixturevalue("real_redis")

        def real() -> tuple[Store, DirectoryStore]:
            own = redis.Redis.from_url(REDIS_URL)
            opened.append(own)
            return RedisStore(own, redis_prefix), RedisDirectoryStore(own, redis_prefix)

        made = Backend(
            "redis",
            RedisStore(client, redis_prefix),
            RedisDirectoryStore(client, redis_prefix),
            RedisLogStore(client, redis_prefix),
            real,
        )
        made.shard = partial(_redis_shard, RedisLogStore, client, redis_prefix)
        made.catalog = RedisShardCatalog(client, redis_prefix)
    yield made
    for thing in opened:
        thing.close()


def _redis_shard(kind: Any, client: Any, prefix: str, name: str) -> LogStore:
    store: LogStore = kind(client, prefix, keys=shard_log_keys(key_prefix(client, prefix), name))
    return store


def entry(kind: str, **fields: str) -> Anchor:
    return Anchor(LogEntry(kind, T0, fields).to_bytes())


def issuer(issuer_id: str, n: int = 0) -> tuple[IssuerRecord, ApiKeyRecord, Anchor]:
    did = f"did:key:z{issuer_id}-{n}"
    record = IssuerRecord(issuer_id, "Agency", did, b"sealed", T0)
    key = ApiKeyRecord(f"key-{issuer_id}-{n}", b"h" * 32, issuer_id, frozenset({"issue"}), T0)
    return record, key, entry("issuer.created", issuer=issuer_id, did=did)


def credential(cid: str, n: int = 0, **extra: Any) -> tuple[CredentialRecord, Anchor]:
    digest = bytes([n % 256]) * 32
    record = CredentialRecord(cid, digest, "a", "did:key:za-0", "T", None, T0, **extra)
    anchor = entry(
        "credential.issued", credential_digest="sha256:" + digest.hex(), issuer="did:key:za-0"
    )
    return record, anchor


def entries_of(b: Backend) -> list[LogEntry]:
    return [LogEntry.parse(e) for e in b.log.read_entries(0, b.log.entry_count())]


def assert_reconciled(b: Backend) -> None:
    found = reconcile(b.log, b.store, b.directory)
    assert found == [], "\n".join(map(str, found))


# -- one writer: committed together, refused together ------------------------------------


def test_an_act_and_its_entry_commit_together(backend: Backend) -> None:
    record, key, anchor = issuer("a")
    backend.store.create_issuer(record, key, anchor)
    assert anchor.index == 0
    assert backend.log.read_entries(0, 1) == [anchor.entry]
    stored, c_anchor = credential("urn:c:1")
    [outcome] = backend.store.put_credentials([stored], [c_anchor])
    assert outcome is None and c_anchor.index == 1
    assert backend.store.get_credential("urn:c:1").log_index == 1  # the store wrote it
    assert backend.log.entry_count() == 2
    assert_reconciled(backend)


def _in(shard: str | None, anchor: Anchor) -> Anchor:
    anchor.shard = shard
    return anchor


def _sharded_findings(b: Backend, shards: dict[str, LogStore]) -> list[str]:
    return [str(f) for f in reconcile(b.log, b.store, b.directory, list(shards.items()))]


def test_acts_are_admitted_into_the_shard_their_anchor_names(backend: Backend) -> None:
    """docs/log-shards.md: each entry in the shard its anchor names, numbered there; one
    write may admit into several shards (a group commit across a boundary)."""
    store = backend.store
    backend.list_shards("2026", "2027")
    shards = {name: backend.shard(name) for name in ("2026", "2027")}
    record, key, anchor = issuer("a")
    store.create_issuer(record, key, _in("2026", anchor))
    [(group, index)] = store.reserve_status_indices("a", 1, lambda n: 5, 1024, PURPOSES)
    batch = [credential(f"urn:c:{n}", n) for n in range(4)]
    batch[0] = credential("urn:c:0", 0, status_group=group, status_index=index)
    anchors = [_in(s, a) for s, (_, a) in zip(("2026", "2027", "2026", None), batch, strict=True)]
    assert store.put_credentials([r for r, _ in batch], anchors) == [None] * 4
    assert [a.index for a in anchors] == [1, 0, 2, 0]
    assert [store.get_credential(f"urn:c:{n}").log_index for n in range(4)] == [1, 0, 2, 0]
    suspended = entry(
        "credential.suspended",
        credential_id="urn:c:0",
        issuer="did:key:za-0",
        status_list=f"{group}/suspension",
    )
    store.set_status(group, "suspension", index, True, _in("2027", suspended))
    assert suspended.index == 1
    got = {n: s.read_entries(0, s.entry_count()) for n, s in shards.items()}
    assert got["2026"] == [anchor.entry, anchors[0].entry, anchors[2].entry]
    assert got["2027"] == [anchors[1].entry, suspended.entry]
    assert backend.log.read_entries(0, backend.log.entry_count()) == [anchors[3].entry]
    assert _sharded_findings(backend, shards) == []


def test_a_refused_act_leaves_no_entry_in_its_shard(backend: Backend) -> None:
    store = backend.store
    backend.list_shards("2027")
    shard = backend.shard("2027")
    record, key, anchor = issuer("a")
    store.create_issuer(record, key, _in("2027", anchor))
    again, again_key, again_anchor = issuer("a", 1)
    with pytest.raises(ConflictError):
        store.create_issuer(again, again_key, _in("2027", again_anchor))
    stored, c_anchor = credential("urn:c:1")
    store.put_credential(stored, _in("2027", c_anchor))
    dup, dup_anchor = credential("urn:c:1", 9)
    [refused] = store.put_credentials([dup], [_in("2027", dup_anchor)])
    assert isinstance(refused, ConflictError) and dup_anchor.index is None
    assert again_anchor.index is None
    assert shard.read_entries(0, shard.entry_count()) == [anchor.entry, c_anchor.entry]
    assert _sharded_findings(backend, {"2027": shard}) == []


def test_an_act_with_a_leaf_in_two_shards_is_found(backend: Backend) -> None:
    backend.list_shards("2026", "2027")
    shards = {name: backend.shard(name) for name in ("2026", "2027")}
    stored, anchor = credential("urn:c:1")
    backend.store.put_credential(stored, _in("2026", anchor))
    assert shards["2027"].append_entries([anchor.entry]) == 0  # the same act, twice
    assert _sharded_findings(backend, shards) == [
        "orphan leaf at log index 0 of shard 2027: credential.issued "
        f"sha256:{bytes(32).hex()}: no stored record names this entry"
    ]


def test_a_refused_act_leaves_no_entry(backend: Backend) -> None:
    store, directory = backend.store, backend.directory
    first, key, anchor = issuer("dup")
    store.create_issuer(first, key, anchor)
    again, key2, refused = issuer("dup", 1)
    with pytest.raises(ConflictError):
        store.create_issuer(again, key2, refused)
    with pytest.raises(ConflictError):  # the same DID under another id
        store.create_issuer(
            IssuerRecord("other", "A", first.did, b"s", T0), issuer("o")[1], refused
        )
    rec, c_anchor = credential("urn:c:1")
    store.put_credential(rec, c_anchor)
    dup, dup_anchor = credential("urn:c:1", 2)
    twin, twin_anchor = credential("urn:c:2", 3)
    same, same_anchor = credential("urn:c:2", 4)
    outcomes = store.put_credentials([dup, twin, same], [dup_anchor, twin_anchor, same_anchor])
    assert [o is None for o in outcomes] == [False, True, False]
    assert dup_anchor.index is None and same_anchor.index is None and twin_anchor.index == 2
    with pytest.raises(NotFoundError):
        store.set_status(
            "no-group",
            "revocation",
            1,
            True,
            entry("credential.revoked", credential_id="x", issuer="y"),
        )
    bundled = bundled_types()[0]
    type_anchor = entry(
        "type.registered", type=bundled.name, definition_digest="sha256:" + bundled.digest.hex()
    )
    store.create_type(bundled, type_anchor)
    with pytest.raises(ConflictError):
        store.create_type(
            bundled,
            entry(
                "type.registered",
                type=bundled.name,
                definition_digest="sha256:" + bundled.digest.hex(),
            ),
        )
    accreditation = Accreditation(
        "acc-1", "dup", frozenset({"T"}), T0, T0 + timedelta(1), "operator", None, 0, T0
    )
    store.add_accreditation(
        accreditation,
        entry("accreditation.granted", accreditor="operator", subject="dup", scope="T"),
    )
    with pytest.raises(ConflictError):
        store.add_accreditation(
            accreditation,
            entry("accreditation.granted", accreditor="operator", subject="dup", scope="T"),
        )
    store.revoke_accreditation(
        "acc-1", T0, entry("accreditation.revoked", accreditation="acc-1", subject="dup")
    )
    with pytest.raises(ConflictError):  # one revocation, one entry
        store.revoke_accreditation(
            "acc-1", T0, entry("accreditation.revoked", accreditation="acc-1", subject="dup")
        )
    did = "did:cityid:z1"
    op = DidOperationRecord(did, 0, "{}", T0, 0)
    digest = "sha256:" + "0" * 64
    did_anchor = entry("did.created", did=did, operation_digest=digest, document_digest=digest)
    directory.append_did_operation(op, did_anchor)
    assert directory.did_operations(did)[0].log_index == did_anchor.index
    with pytest.raises(ConflictError):  # the compare-and-swap refuses: no entry
        directory.append_did_operation(
            op, entry("did.created", did=did, operation_digest=digest, document_digest=digest)
        )
    version = CatalogRecord("cat-1", 1, "dup", "{}", ("name",), T0, 0)
    cat_anchor = entry(
        "catalog.published", catalog_digest=digest, publisher=first.did, entry="cat-1", version="1"
    )
    directory.add_catalog_version(version, cat_anchor)
    with pytest.raises(ConflictError):
        directory.add_catalog_version(
            version,
            entry(
                "catalog.published",
                catalog_digest=digest,
                publisher=first.did,
                entry="cat-1",
                version="1",
            ),
        )
    assert backend.log.entry_count() == 8
    assert [e.kind for e in entries_of(backend)] == [
        "issuer.created",
        "credential.issued",
        "credential.issued",
        "type.registered",
        "accreditation.granted",
        "accreditation.revoked",
        "did.created",
        "catalog.published",
    ]
    assert_reconciled(backend)


def test_reconcile_names_orphan_leaves_and_unanchored_records(backend: Backend) -> None:
    """What the previous design left behind: an entry whose act was then refused, and a
    record stored without its entry. Both are named, with their indices."""
    record, key, anchor = issuer("a")
    backend.store.create_issuer(record, key, anchor)
    backend.store.create_issuer(*issuer("b")[:2])  # stored, never anchored
    orphan = issuer("ghost")[2]
    backend.store.put_credential(*credential("urn:c:1"))  # an entry...
    lost, _ = credential("urn:c:2", 2)
    backend.store.put_credential(lost)  # ...and a record without one
    backend.log.append_entries([orphan.entry])  # appended outside any act
    findings = reconcile(backend.log, backend.store, backend.directory)
    found = {(f.problem, f.what, f.key, f.index) for f in findings}
    assert found == {
        (UNANCHORED, "issuer.created", "b did:key:zb-0", None),
        (ORPHAN, "issuer.created", "ghost did:key:zghost-0", 2),
    }, found
    # a record naming an index the log does not hold is unanchored too
    backend.store.put_credential(credential("urn:c:3", 3, log_index=99)[0])
    names = {(f.problem, f.key, f.index) for f in reconcile(backend.log, backend.store)}
    assert (UNANCHORED, "urn:c:3", 99) in names


def test_status_changes_reconcile_with_their_last_entry(backend: Backend) -> None:
    store = backend.store
    [(group, index)] = store.reserve_status_indices("a", 1, lambda n: 7, 1024, PURPOSES)
    record, anchor = credential("urn:c:1", status_group=group, status_index=index)
    store.put_credential(record, anchor)
    for value, kind in ((True, "credential.suspended"), (False, "credential.reinstated")):
        store.set_status(
            group,
            "suspension",
            index,
            value,
            entry(
                kind,
                credential_id="urn:c:1",
                issuer="did:key:za-0",
                status_list=f"{group}/suspension",
            ),
        )
    assert_reconciled(backend)
    store.set_status(group, "suspension", index, True)  # a change with no entry
    [finding] = reconcile(backend.log, store, backend.directory)
    assert finding.problem == UNANCHORED and finding.key == "urn:c:1"
    assert "suspension" in finding.what


# -- racing writers: exactly one admitted ------------------------------------------------


def _race(workers: int, act: Callable[[int], None]) -> list[BaseException | None]:
    outcomes: list[BaseException | None] = [None] * workers
    start = threading.Barrier(workers)

    def run(n: int) -> None:
        start.wait()
        try:
            act(n)
        except BaseException as exc:
            outcomes[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_racing_duplicate_issuers_admit_one_entry(backend: Backend) -> None:
    views = [backend.reopen() for _ in range(8)]

    def create(n: int) -> None:
        views[n][0].create_issuer(*issuer("dup-1", n))

    outcomes = _race(8, create)
    assert sum(o is None for o in outcomes) == 1
    assert all(o is None or isinstance(o, ConflictError) for o in outcomes), outcomes
    [created] = entries_of(backend)
    assert created.kind == "issuer.created"
    assert created.fields["did"] == backend.store.get_issuer("dup-1").did  # the one stored
    assert_reconciled(backend)


def test_racing_duplicate_credential_ids_admit_one_entry(backend: Backend) -> None:
    views = [backend.reopen() for _ in range(16)]

    def put(n: int) -> None:
        views[n][0].put_credential(*credential("urn:c:same", n))

    outcomes = _race(16, put)
    assert sum(o is None for o in outcomes) == 1, outcomes
    assert backend.log.entry_count() == 1
    stored = backend.store.get_credential("urn:c:same")
    assert stored.log_index == 0
    assert entries_of(backend)[0].fields["credential_digest"] == "sha256:" + stored.digest.hex()
    assert_reconciled(backend)


def test_racing_suspend_and_reinstate_end_with_the_last_entry(backend: Backend) -> None:
    [(group, index)] = backend.store.reserve_status_indices("a", 1, lambda n: 3, 1024, PURPOSES)
    record, anchor = credential("urn:c:s", status_group=group, status_index=index)
    backend.store.put_credential(record, anchor)
    views = [backend.reopen() for _ in range(12)]

    def flip(n: int) -> None:
        value = n % 2 == 0
        kind = "credential.suspended" if value else "credential.reinstated"
        for _ in range(5):
            views[n][0].set_status(
                group,
                "suspension",
                index,
                value,
                entry(
                    kind,
                    credential_id="urn:c:s",
                    issuer="did:key:za-0",
                    status_list=f"{group}/suspension",
                ),
            )

    assert _race(12, flip) == [None] * 12
    last = entries_of(backend)[-1]
    bit = backend.store.get_status_list(group, "suspension").bits[index // 8] >> (7 - index % 8) & 1
    assert bool(bit) == (last.kind == "credential.suspended")
    assert backend.log.entry_count() == 1 + 12 * 5
    assert_reconciled(backend)


def _create_in_process(path: str, n: int, start: Any, outcomes: Any) -> None:
    store = SqliteStore(path)
    start.wait()
    try:
        store.create_issuer(*issuer("dup-p", n))
        outcomes.put("ok")
    except ConflictError:
        outcomes.put("conflict")
    finally:
        store.close()


@pytest.mark.slow
def test_racing_processes_on_one_sqlite_file_admit_one_entry(tmp_path: Path) -> None:
    """Real processes (the service's workers share the file the same way)."""
    import multiprocessing

    path = tmp_path / "identity.sqlite3"
    SqliteStore(path).close()
    context = multiprocessing.get_context("spawn")
    start, outcomes = context.Barrier(6), context.Queue()
    procs = [
        context.Process(target=_create_in_process, args=(str(path), n, start, outcomes))
        for n in range(6)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert sorted(outcomes.get(timeout=5) for _ in procs) == ["conflict"] * 5 + ["ok"]
    store, log = SqliteStore(path), SQLiteLogStore(path)
    assert log.entry_count() == 1
    assert reconcile(log, store) == []
    store.close()
