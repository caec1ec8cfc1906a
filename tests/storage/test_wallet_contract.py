"""The wallet-store contract of identity/wallet_store.py, proved on every backend.

``MemoryWalletStore`` is the oracle: the ``wallet`` fixture runs each test on memory,
SQLite (in the main store's file, as in the service), fakeredis and a real Redis; a race
of writers of one id runs on the backends several processes share; a Hypothesis test
replays random sequences on the oracle and a backend and compares every answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.errors import ConflictError, UnavailableError
from identity.storage.memory_wallet import MemoryWalletStore
from identity.storage.redis import RedisStore
from identity.storage.redis_wallet import RedisWalletStore, beside
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_wallet import SqliteWalletStore
from identity.wallet_store import WalletEntry, WalletStore
from tests.storage.conftest import BACKENDS, REAL_REDIS
from tests.storage.races import handles_on, release_together, unrefused, winners
from tests.storage.redis_backends import fake_redis, new_prefix
from tests.storage.test_redis_store import closed_port

T0 = datetime(2026, 1, 1, 8, 30, 15, 123456, tzinfo=UTC)
ALICE, BOB = "did:example:alice", "did:example:bob"


def entry(cid: str, subject: str = ALICE, minutes: int = 0, sealed: bytes = b"") -> WalletEntry:
    return WalletEntry(
        cid, subject, sealed or f"sealed {cid}".encode(), T0 + timedelta(minutes=minutes)
    )


@pytest.fixture(params=BACKENDS)
def wallet(
    request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str
) -> Iterator[WalletStore]:
    backend: WalletStore
    if request.param == "memory":
        backend = MemoryWalletStore()
    elif request.param == "sqlite":
        SqliteStore(tmp_path / "store.sqlite3").close()
        backend = SqliteWalletStore(tmp_path / "store.sqlite3")
    elif request.param == "fakeredis":
        backend = RedisWalletStore(fake_redis(), prefix=redis_prefix)
    else:
        backend = RedisWalletStore(request.getfixturevalue("real_redis"), prefix=redis_prefix)
    yield backend
    backend.close()


def test_kept_entries_are_found_by_their_subject_only(wallet: WalletStore) -> None:
    first, second = entry("urn:a"), entry("https://city.example/credentials/b/1", minutes=1)
    wallet.keep(first)
    wallet.keep(second)
    wallet.keep(entry("urn:c", BOB))
    assert wallet.find(ALICE, "urn:a") == first
    assert wallet.find(ALICE, second.credential_id) == second  # an id with slashes
    assert wallet.find(BOB, "urn:a") is None  # another subject's: as if unknown
    assert wallet.find(ALICE, "urn:unknown") is None
    assert wallet.of_subject(ALICE) == [first, second]
    assert [e.credential_id for e in wallet.of_subject(BOB)] == ["urn:c"]
    assert wallet.of_subject("did:example:nobody") == []


def test_a_kept_id_is_refused_for_anyone_and_nothing_changes(wallet: WalletStore) -> None:
    kept = entry("urn:a", sealed=b"\x00\xffbinary")
    wallet.keep(kept)
    for again in (entry("urn:a", sealed=b"other"), entry("urn:a", BOB)):
        with pytest.raises(ConflictError) as caught:
            wallet.keep(again)
        assert caught.value.data["id"] == "urn:a"
    assert wallet.find(ALICE, "urn:a") == kept
    assert wallet.of_subject(ALICE) == [kept]
    assert wallet.of_subject(BOB) == []


def test_keep_many_stores_each_entry_or_refuses_it_in_its_slot(wallet: WalletStore) -> None:
    wallet.keep(entry("urn:old", BOB))
    outcomes = wallet.keep_many(
        [entry("urn:a"), entry("urn:old"), entry("urn:b", BOB), entry("urn:a", BOB, sealed=b"x")]
    )
    assert [type(o).__name__ for o in outcomes] == [
        "NoneType", "ConflictError", "NoneType", "ConflictError"
    ]  # fmt: skip
    assert wallet.find(ALICE, "urn:a") == entry("urn:a")  # the first of the call won
    assert wallet.find(BOB, "urn:a") is None and wallet.find(ALICE, "urn:old") is None
    assert wallet.of_subject(BOB) == [entry("urn:old", BOB), entry("urn:b", BOB)]
    assert wallet.keep_many([]) == []


def test_entries_are_listed_oldest_first(wallet: WalletStore) -> None:
    late, early, tie = entry("urn:late", minutes=5), entry("urn:early"), entry("urn:tie")
    for e in (late, early, tie):
        wallet.keep(e)
    assert wallet.of_subject(ALICE) == [early, tie, late]  # a tie keeps the keep order


def test_the_sqlite_wallet_lives_in_the_main_store_file(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    main = SqliteStore(path)
    SqliteWalletStore(path).keep(entry("urn:a"))
    assert SqliteWalletStore(path).find(ALICE, "urn:a") == entry("urn:a")
    main.close()


def test_the_redis_wallet_beside_a_store_shares_its_client_and_prefix() -> None:
    client, prefix = fake_redis(), new_prefix()
    store = RedisStore(client, prefix=prefix)
    wallet = beside(store)
    wallet.keep(entry("urn:a"))
    wallet.close()  # not the store's client
    assert sorted(k.decode() for k in client.keys("*")) == sorted(
        [prefix + "wallet:entry:urn:a", prefix + "wallet:of:" + ALICE]
    )
    assert RedisWalletStore(client, prefix=prefix).find(ALICE, "urn:a") == entry("urn:a")
    store.ping()


def test_backend_failures_are_unavailable_errors(tmp_path: Path) -> None:
    with pytest.raises(UnavailableError):
        SqliteWalletStore(tmp_path / "missing-dir" / "x.sqlite3")
    dead = RedisWalletStore.from_url(f"redis://127.0.0.1:{closed_port()}/0", socket_timeout=0.2)
    for call in (
        lambda: dead.keep(entry("urn:a")),
        lambda: dead.keep_many([entry("urn:a"), entry("urn:b")]),
        lambda: dead.find(ALICE, "urn:a"),
        lambda: dead.of_subject(ALICE),
    ):
        with pytest.raises(UnavailableError) as caught:
            call()
        assert isinstance(caught.value.__cause__, redis.ConnectionError)
    dead.close()


# -- concurrency: several handles (as several processes would hold) on one backend ------


@pytest.fixture(params=["memory", "sqlite", REAL_REDIS])
def handles(
    request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str
) -> Iterator[Callable[[], WalletStore]]:
    if request.param == "sqlite":
        SqliteStore(tmp_path / "store.sqlite3").close()

    def open_one() -> WalletStore:
        if request.param == "sqlite":
            return SqliteWalletStore(tmp_path / "store.sqlite3")
        return RedisWalletStore(request.getfixturevalue("real_redis"), prefix=redis_prefix)

    yield from handles_on(request.param, MemoryWalletStore(), open_one)


def test_of_racing_writers_of_one_id_exactly_one_wins(
    handles: Callable[[], WalletStore],
) -> None:
    writers = 8
    stores = [handles() for _ in range(writers)]

    won = winners(
        writers,
        unrefused(
            lambda i: stores[i].keep(
                entry("urn:race", f"did:example:{i}", sealed=f"by {i}".encode())
            )
        ),
    )
    assert len(won) == 1
    winner = f"did:example:{won[0]}"
    found = stores[0].find(winner, "urn:race")
    assert found is not None and found.sealed == f"by {won[0]}".encode()
    assert all(
        stores[0].of_subject(f"did:example:{i}") == [] for i in range(writers) if i != won[0]
    )
    assert stores[0].of_subject(winner) == [found]


def test_racing_batches_keep_each_id_once(handles: Callable[[], WalletStore]) -> None:
    writers, ids = 6, [f"urn:batch:{n}" for n in range(5)]
    stores = [handles() for _ in range(writers)]
    answers: dict[int, list[ConflictError | None]] = {}

    def keep(i: int) -> None:
        answers[i] = stores[i].keep_many([entry(c, f"did:example:{i}") for c in ids])

    release_together(writers, keep)
    for n, cid in enumerate(ids):
        won = [i for i in range(writers) if answers[i][n] is None]
        assert len(won) == 1, (cid, won)
        assert stores[0].find(f"did:example:{won[0]}", cid) is not None
    kept = sum(len(stores[0].of_subject(f"did:example:{i}")) for i in range(writers))
    assert kept == len(ids)


# -- the oracle: random sequences, every answer compared ---------------------------------

IDS = st.sampled_from(["urn:1", "urn:2", "urn:3", "https://x.example/c/4"])
SUBJECTS = st.sampled_from([ALICE, BOB])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("keep"), IDS, SUBJECTS, st.integers(0, 3)),
        st.tuples(st.just("find"), IDS, SUBJECTS, st.just(0)),
        st.tuples(st.just("many"), IDS, SUBJECTS, st.integers(0, 3)),
        st.tuples(st.just("list"), st.just(""), SUBJECTS, st.just(0)),
    ),
    max_size=20,
)


def _apply(store: WalletStore, name: str, cid: str, subject: str, minutes: int) -> object:
    if name == "keep":
        try:
            store.keep(entry(cid, subject, minutes))
        except ConflictError:
            return "conflict"
        return "kept"
    if name == "many":  # three entries, the third repeating the first's id
        batch = [entry(cid, subject, minutes), entry("urn:2", BOB, minutes), entry(cid, BOB)]
        return ["kept" if o is None else "conflict" for o in store.keep_many(batch)]
    if name == "find":
        return store.find(subject, cid)
    return store.of_subject(subject)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_every_backend_answers_as_the_oracle(
    tmp_path: Path, ops: list[tuple[str, str, str, int]]
) -> None:
    oracle = MemoryWalletStore()
    backends: list[WalletStore] = [
        SqliteWalletStore(tmp_path / f"{new_prefix()}.sqlite3"),
        RedisWalletStore(fake_redis(), prefix=new_prefix()),
    ]
    try:
        for op in ops:
            expected = _apply(oracle, *op)
            for backend in backends:
                assert _apply(backend, *op) == expected, (type(backend).__name__, op)
    finally:
        for backend in backends:
            backend.close()
