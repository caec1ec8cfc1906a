"""The directory-store contract of identity/directory_store.py, proved on every backend.

``MemoryDirectoryStore`` is the oracle: the ``directory`` fixture (conftest) runs each
test on memory, SQLite, fakeredis and a real Redis; the concurrency tests race threads
on the backends that other processes can share; the Hypothesis test replays random
operation sequences on the oracle and a backend and compares every answer and error.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.directory_store import (
    CatalogRecord,
    DidOperationRecord,
    DirectoryStore,
    SharingEvent,
    SharingRequest,
)
from identity.errors import ConflictError, NotFoundError, UnavailableError
from identity.storage.memory_directory import MemoryDirectoryStore
from identity.storage.redis import RedisStore
from identity.storage.redis_directory import RedisDirectoryStore
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_directory import SqliteDirectoryStore
from identity.stores import ApiKeyRecord, IssuerRecord
from tests.storage.conftest import REAL_REDIS
from tests.storage.races import handles_on, release_together
from tests.storage.redis_backends import REDIS_URL, fake_redis
from tests.storage.test_redis_store import closed_port

T0 = datetime(2026, 1, 1, 8, 30, 15, 123456, tzinfo=UTC)
DID, CITIZEN = "did:example:agency-1", "did:example:citizen-1"


def op(sequence: int, did: str = DID, text: str = "") -> DidOperationRecord:
    return DidOperationRecord(did, sequence, text or f'{{"op":{sequence}}}', T0, 10 + sequence)


def version(n: int, entry_id: str = "psb/residence", publisher: str = "psb") -> CatalogRecord:
    return CatalogRecord(entry_id, n, publisher, f'{{"v":{n}}}', ("name", "address"), T0, n)


def request(
    rid: str = "req-1", events: int = 1, state: str = "pending", **changes: Any
) -> SharingRequest:
    base = SharingRequest(
        rid, "tax", "psb", CITIZEN, "residence", state, events, '{"ask":1}', T0, T0
    )
    return replace(base, **changes)


def event(rid: str = "req-1", sequence: int = 0, kind: str = "requested") -> SharingEvent:
    return SharingEvent(rid, sequence, kind, T0 + timedelta(seconds=sequence), sequence, "{}")


def advance(store: DirectoryStore, rid: str, state: str, kind: str) -> SharingRequest:
    current = store.get_request(rid)
    nxt = replace(current, state=state, events=current.events + 1)
    store.advance_request(nxt, event(rid, current.events, kind))
    return nxt


# -- DID operations ---------------------------------------------------------------------


def test_did_operations_are_kept_in_sequence_order(directory: DirectoryStore) -> None:
    for n in range(3):
        directory.append_did_operation(op(n))
    directory.append_did_operation(op(0, "did:example:other"))
    assert directory.did_operations(DID) == [op(0), op(1), op(2)]
    assert directory.did_operations("did:example:other") == [op(0, "did:example:other")]


@pytest.mark.parametrize(("stored", "sequence"), [(0, 1), (1, 0), (1, 3), (2, 1)])
def test_did_operation_out_of_turn_conflicts_and_writes_nothing(
    directory: DirectoryStore, stored: int, sequence: int
) -> None:
    for n in range(stored):
        directory.append_did_operation(op(n))
    with pytest.raises(ConflictError):
        directory.append_did_operation(op(sequence, text="late"))
    assert directory.did_operations(DID) == [op(n) for n in range(stored)]


def test_unknown_histories_are_empty_lists(directory: DirectoryStore) -> None:
    assert directory.did_operations("did:example:nobody") == []
    assert directory.catalog_versions("nothing") == []
    assert directory.latest_catalog() == []
    assert directory.request_events("no-request") == []
    assert directory.requests_about(CITIZEN) == []
    assert directory.requests_of_agency("psb") == []


# -- catalog ----------------------------------------------------------------------------


def test_catalog_versions_count_from_one_oldest_first(directory: DirectoryStore) -> None:
    for n in (1, 2, 3):
        directory.add_catalog_version(version(n))
    assert directory.catalog_versions("psb/residence") == [version(1), version(2), version(3)]


@pytest.mark.parametrize(("stored", "number"), [(0, 2), (2, 1), (2, 2), (2, 4)])
def test_catalog_version_out_of_turn_conflicts_and_writes_nothing(
    directory: DirectoryStore, stored: int, number: int
) -> None:
    for n in range(1, stored + 1):
        directory.add_catalog_version(version(n))
    with pytest.raises(ConflictError):
        directory.add_catalog_version(replace(version(number), entry="late"))
    assert directory.catalog_versions("psb/residence") == [version(n) for n in range(1, stored + 1)]
    assert directory.latest_catalog() == ([version(stored)] if stored else [])


def test_another_publisher_cannot_take_a_catalog_id(directory: DirectoryStore) -> None:
    directory.add_catalog_version(version(1))
    with pytest.raises(ConflictError):
        directory.add_catalog_version(version(2, publisher="tax"))
    assert directory.catalog_versions("psb/residence") == [version(1)]
    assert directory.latest_catalog() == [version(1)]


def test_latest_catalog_is_each_entrys_newest_version_by_id(directory: DirectoryStore) -> None:
    for entry_id, count in (("z/last", 1), ("a/first", 3), ("m/middle", 2)):
        for n in range(1, count + 1):
            directory.add_catalog_version(version(n, entry_id))
    assert directory.latest_catalog() == [
        version(3, "a/first"),
        version(2, "m/middle"),
        version(1, "z/last"),
    ]


# -- sharing requests -------------------------------------------------------------------


def test_a_request_is_stored_with_its_event_zero(directory: DirectoryStore) -> None:
    directory.create_request(request(), event())
    assert directory.get_request("req-1") == request()
    assert directory.request_events("req-1") == [event()]


def test_a_duplicate_request_id_conflicts_and_writes_nothing(directory: DirectoryStore) -> None:
    directory.create_request(request(), event())
    with pytest.raises(ConflictError):
        directory.create_request(request(state="other"), event(kind="again"))
    assert directory.get_request("req-1") == request()
    assert directory.request_events("req-1") == [event()]
    assert directory.sharing_counts() == {"requests": 1, "state:pending": 1, "event:requested": 1}


@pytest.mark.parametrize(
    ("new", "first"),
    [(request(events=2), event()), (request(), event(sequence=1)), (request(), event("req-9"))],
    ids=["events-not-1", "event-not-0", "event-of-another-request"],
)
def test_a_new_request_must_start_with_its_own_event_zero(
    directory: DirectoryStore, new: SharingRequest, first: SharingEvent
) -> None:
    with pytest.raises(ConflictError):
        directory.create_request(new, first)
    with pytest.raises(NotFoundError):
        directory.get_request("req-1")
    assert directory.request_events("req-1") == directory.request_events("req-9") == []


def test_advance_replaces_the_request_and_appends_its_event(directory: DirectoryStore) -> None:
    directory.create_request(request(), event())
    approved = request(events=2, state="approved", consent='{"c":1}', updated=T0 + timedelta(1))
    directory.advance_request(approved, event(sequence=1, kind="approved"))
    assert directory.get_request("req-1") == approved
    assert directory.request_events("req-1") == [event(), event(sequence=1, kind="approved")]


@pytest.mark.parametrize(
    ("nxt", "evt"),
    [
        (request(events=2, state="x"), event(sequence=1, kind="x")),  # stale: already at 2
        (request(events=3, state="x"), event(sequence=1, kind="x")),  # wrong sequence
        (request(events=3, state="x"), event(sequence=3, kind="x")),  # skips a number
        (request(events=3, state="x"), event("req-2", sequence=2, kind="x")),  # other request
    ],
    ids=["stale-events", "wrong-sequence", "gap", "event-of-another-request"],
)
def test_advance_out_of_turn_conflicts_and_writes_nothing(
    directory: DirectoryStore, nxt: SharingRequest, evt: SharingEvent
) -> None:
    directory.create_request(request(), event())
    current = advance(directory, "req-1", "approved", "approved")
    with pytest.raises(ConflictError):
        directory.advance_request(nxt, evt)
    assert directory.get_request("req-1") == current
    assert [e.sequence for e in directory.request_events("req-1")] == [0, 1]
    assert directory.request_events("req-2") == []
    assert "state:x" not in directory.sharing_counts()


def test_an_unknown_request_is_not_found(directory: DirectoryStore) -> None:
    with pytest.raises(NotFoundError):
        directory.get_request("req-1")
    with pytest.raises(NotFoundError):
        directory.advance_request(request(events=2), event(sequence=1))
    assert directory.request_events("req-1") == []
    assert directory.sharing_counts() == {"requests": 0}


def test_requests_about_a_subject_are_oldest_first(directory: DirectoryStore) -> None:
    later, tie_b, tie_a = (
        request("r-late", created=T0 + timedelta(hours=1)),
        request("r-b"),
        request("r-a", created=T0.astimezone(timezone(timedelta(hours=8)))),  # same instant
    )
    for made in (later, tie_b, tie_a, request("r-other", subject="did:example:citizen-2")):
        directory.create_request(made, event(made.id))
    assert directory.requests_about(CITIZEN) == [tie_a, tie_b, later]
    assert [r.id for r in directory.requests_about("did:example:citizen-2")] == ["r-other"]


def test_requests_of_an_agency_are_those_it_made_or_holds(directory: DirectoryStore) -> None:
    made = request("r1", requester="health", holder="tax", created=T0 + timedelta(2))
    held = request("r2", requester="psb", holder="health", created=T0 + timedelta(1))
    own = request("r3", requester="health", holder="health", created=T0 + timedelta(3))
    for r in (made, held, own, request("r4")):
        directory.create_request(r, event(r.id))
    assert directory.requests_of_agency("health") == [held, made, own]
    assert [r.id for r in directory.requests_of_agency("psb")] == ["r4", "r2"]


def test_listings_follow_an_advance_that_moves_the_request(directory: DirectoryStore) -> None:
    directory.create_request(request(), event())
    moved = request(events=2, subject="did:example:citizen-2", requester="health")
    directory.advance_request(moved, event(sequence=1, kind="moved"))
    assert directory.requests_about(CITIZEN) == []
    assert directory.requests_about("did:example:citizen-2") == [moved]
    assert directory.requests_of_agency("tax") == []
    assert directory.requests_of_agency("health") == directory.requests_of_agency("psb") == [moved]


def test_sharing_counts_are_exact(directory: DirectoryStore) -> None:
    assert directory.sharing_counts() == {"requests": 0}
    for rid in ("r1", "r2", "r3"):
        directory.create_request(request(rid), event(rid))
    advance(directory, "r1", "approved", "approved")
    advance(directory, "r1", "approved", "accessed")
    advance(directory, "r2", "denied", "denied")
    advance(directory, "r3", "denied", "denied")
    assert directory.sharing_counts() == {
        "requests": 3,
        "state:approved": 1,
        "state:denied": 2,
        "event:requested": 3,
        "event:approved": 1,
        "event:accessed": 1,
        "event:denied": 2,
    }  # no request is pending any more, so there is no "state:pending"


def test_records_round_trip_equal_with_offsets_and_nones(directory: DirectoryStore) -> None:
    east = timezone(timedelta(hours=8))
    directory.append_did_operation(replace(op(0, text='{"é":"中"}'), time=T0.astimezone(east)))
    directory.add_catalog_version(replace(version(1), fields=()))
    bare = request(consent=None, consent_expires=None, exemption=None)
    full = request("r2", consent="{}", consent_expires=T0 + timedelta(days=90), exemption="law")
    directory.create_request(bare, event())
    directory.create_request(full, replace(event("r2"), time=T0.replace(microsecond=1)))
    got = (
        directory.did_operations(DID)[0],
        directory.catalog_versions("psb/residence")[0],
        directory.get_request("req-1"),
        directory.get_request("r2"),
        directory.request_events("r2")[0],
    )
    assert got == (
        replace(op(0, text='{"é":"中"}'), time=T0.astimezone(east)),
        replace(version(1), fields=()),
        bare,
        full,
        replace(event("r2"), time=T0.replace(microsecond=1)),
    )
    assert got[0].time.utcoffset() == timedelta(hours=8)
    assert got[4].time.tzinfo is not None and got[4].time.utcoffset() == timedelta(0)
    assert type(got[1].fields) is tuple


# -- backend specifics ------------------------------------------------------------------


def test_sqlite_directory_survives_reopening_its_shared_file(tmp_path: Path) -> None:
    path = tmp_path / "identity.sqlite3"
    main, first = SqliteStore(path), SqliteDirectoryStore(path)
    main.create_issuer(IssuerRecord("psb", "PSB", "did:key:z1", b"k", T0), _key())
    first.append_did_operation(op(0))
    first.add_catalog_version(version(1))
    first.create_request(request(), event())
    first.close()
    main.close()
    again, main = SqliteDirectoryStore(path), SqliteStore(path)
    assert again.did_operations(DID) == [op(0)]
    assert again.latest_catalog() == [version(1)]
    assert again.get_request("req-1") == request()
    assert again.request_events("req-1") == [event()]
    assert main.get_issuer("psb").name == "PSB"
    again.close()
    main.close()


def _key() -> ApiKeyRecord:
    return ApiKeyRecord("k1", b"h" * 32, "psb", frozenset({"issue"}), T0)


def test_redis_directory_keys_stay_in_their_namespace(redis_prefix: str) -> None:
    client = fake_redis()
    main, directory = RedisStore(client, redis_prefix), RedisDirectoryStore(client, redis_prefix)
    main.create_issuer(IssuerRecord("psb", "PSB", "did:key:z1", b"k", T0), _key())
    directory.append_did_operation(op(0))
    directory.create_request(request(), event())
    directory.add_catalog_version(version(1))
    keys = {k.decode() for k in client.keys("*")}
    assert all(k.startswith(redis_prefix) for k in keys)
    mine = {k for k in keys if k.startswith(redis_prefix + "dir:")}
    assert len(mine) >= 6 and not any(k.startswith(redis_prefix + "dir:") for k in keys - mine)
    assert main.get_issuer("psb").name == "PSB" and directory.get_request("req-1") == request()


def test_backend_failures_are_unavailable_errors(tmp_path: Path) -> None:
    with pytest.raises(UnavailableError):
        SqliteDirectoryStore(tmp_path / "missing-dir" / "x.sqlite3")
    dead = RedisDirectoryStore.from_url(f"redis://127.0.0.1:{closed_port()}/0", socket_timeout=0.2)
    for call in (
        lambda: dead.did_operations(DID),
        lambda: dead.create_request(request(), event()),
        lambda: dead.requests_about(CITIZEN),
    ):
        with pytest.raises(UnavailableError) as caught:
            call()
        assert isinstance(caught.value.__cause__, redis.ConnectionError)
    dead.close()


# -- concurrency: several handles (as several processes would hold) on one backend ------


@pytest.fixture(params=["memory", "sqlite", REAL_REDIS])
def handles(
    request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str
) -> Iterator[Callable[[], DirectoryStore]]:
    """Opens another handle on one shared backend: a new connection or file handle."""
    if request.param == "redis":
        request.getfixturevalue("real_redis")  # skips or fails when no server; cleans up

    def open_one() -> DirectoryStore:
        if request.param == "sqlite":
            return SqliteDirectoryStore(tmp_path / "race.sqlite3")
        return RedisDirectoryStore.from_url(REDIS_URL, redis_prefix)

    yield from handles_on(request.param, MemoryDirectoryStore(), open_one)


def race(
    handles: Callable[[], DirectoryStore], n: int, attempt: Callable[[DirectoryStore, int], None]
) -> list[str]:
    """Run ``attempt(handle, i)`` in ``n`` threads released together; their outcomes."""
    stores, outcomes = [handles() for _ in range(n)], [""] * n

    def run(i: int) -> None:
        try:
            attempt(stores[i], i)
            outcomes[i] = "won"
        except ConflictError:
            outcomes[i] = "conflict"
        except Exception as exc:
            outcomes[i] = repr(exc)

    release_together(n, run)
    return outcomes


def test_of_writers_racing_for_one_sequence_number_exactly_one_wins(
    handles: Callable[[], DirectoryStore],
) -> None:
    main = handles()
    main.create_request(request(), event())

    def append(seq: int) -> Callable[[DirectoryStore, int], None]:
        return lambda s, i: s.append_did_operation(op(seq, text=f"writer {i}"))

    def advance_to(seq: int) -> Callable[[DirectoryStore, int], None]:
        return lambda s, i: s.advance_request(
            request(events=seq + 1, state=f"s{i}"), event(sequence=seq, kind=f"k{i}")
        )

    for seq in range(3):
        outcomes = race(handles, 8, append(seq))
        assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
        assert main.did_operations(DID)[seq:] == [op(seq, text=f"writer {outcomes.index('won')}")]
        outcomes = race(handles, 8, advance_to(seq + 1))
        assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
        winner = outcomes.index("won")
        assert main.get_request("req-1") == request(events=seq + 2, state=f"s{winner}")
        assert main.request_events("req-1")[seq + 1 :] == [
            event(sequence=seq + 1, kind=f"k{winner}")
        ]
    counts = main.sharing_counts()
    assert counts["requests"] == 1 and sum(v for k, v in counts.items() if "event:" in k) == 4


def test_retrying_concurrent_writers_lose_and_duplicate_nothing(
    handles: Callable[[], DirectoryStore],
) -> None:
    writers, each = 6, 8
    main = handles()
    main.create_request(request(), event())

    def work(store: DirectoryStore, i: int) -> None:
        for j in range(each):
            while True:
                try:
                    nxt = len(store.did_operations(DID))
                    store.append_did_operation(op(nxt, text=f"{i}:{j}"))
                    break
                except ConflictError:
                    continue
            while True:
                try:
                    cur = store.get_request("req-1")
                    made = replace(event(sequence=cur.events, kind=f"by-{i}"), record=f"{i}:{j}")
                    store.advance_request(replace(cur, events=cur.events + 1, state=f"{i}"), made)
                    break
                except ConflictError:
                    continue

    assert race(handles, writers, work) == ["won"] * writers
    expected = sorted(f"{i}:{j}" for i in range(writers) for j in range(each))
    ops, events = main.did_operations(DID), main.request_events("req-1")
    assert [o.sequence for o in ops] == list(range(writers * each))
    assert sorted(o.operation for o in ops) == expected
    assert [e.sequence for e in events] == list(range(writers * each + 1))
    assert sorted(e.record for e in events[1:]) == expected
    assert main.get_request("req-1").events == writers * each + 1
    counts = main.sharing_counts()
    assert {k: v for k, v in counts.items() if k.startswith("event:by-")} == {
        f"event:by-{i}": each for i in range(writers)
    }
    assert counts["requests"] == 1 and sum(v for k, v in counts.items() if "state:" in k) == 1


# -- random operation sequences against the oracle ----------------------------------------

TEXTS = st.text(
    st.characters(exclude_categories=("Cs",)), max_size=6
)  # JCS text: no lone surrogates
TIMES = st.datetimes(  # fold means nothing at a fixed offset and == ignores it; repr does not
    datetime(2020, 1, 1),
    datetime(2030, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]),
).map(lambda t: t.replace(fold=0))
INDEXES = st.integers(0, 2**53)
DIDS = st.sampled_from(["did:example:a", "did:example:b"])
ENTRIES = st.sampled_from(["c1", "c2", "c3"])
RIDS = st.sampled_from(["r1", "r2", "r3"])
AGENCIES = st.sampled_from(["psb", "tax", "health"])
SUBJECTS = st.sampled_from(["did:example:c1", "did:example:c2"])


@st.composite
def sharing_write(draw: st.DrawFn, new: bool) -> tuple[SharingRequest, SharingEvent]:
    """A request and event, mostly numbered consistently so that writes often succeed."""
    rid, events = draw(RIDS), draw(st.sampled_from([1, 1, 1, 2] if new else [1, 2, 3, 4]))
    sequence = events - 1 if draw(st.integers(0, 3)) else draw(st.integers(0, 3))
    made = SharingRequest(
        *(rid, draw(AGENCIES), draw(AGENCIES), draw(SUBJECTS), draw(TEXTS)),
        *(draw(st.sampled_from(["pending", "approved", "denied"])), events, draw(TEXTS)),
        *(draw(TIMES), draw(TIMES), draw(st.none() | TEXTS), draw(st.none() | TIMES)),
        draw(st.none() | TEXTS),
    )
    kind = draw(st.sampled_from(["requested", "approved", "accessed"]))
    event_of = rid if draw(st.integers(0, 4)) else draw(RIDS)
    return made, SharingEvent(event_of, sequence, kind, draw(TIMES), draw(INDEXES), draw(TEXTS))


def call(
    name: str, *args: st.SearchStrategy[Any]
) -> st.SearchStrategy[tuple[str, tuple[Any, ...]]]:
    return st.tuples(st.just(name), st.tuples(*args))


OPERATIONS = st.one_of(
    call(
        "append_did_operation",
        st.builds(DidOperationRecord, DIDS, st.integers(0, 3), TEXTS, TIMES, INDEXES),
    ),
    call(
        "add_catalog_version",
        st.builds(
            CatalogRecord,
            *(ENTRIES, st.integers(1, 3), st.sampled_from(["psb", "tax"]), TEXTS),
            *(st.lists(TEXTS, max_size=3).map(tuple), TIMES, INDEXES),
        ),
    ),
    st.tuples(st.just("create_request"), sharing_write(new=True)),
    *[st.tuples(st.just("advance_request"), sharing_write(new=False))] * 3,
    *(call(name, ids) for name, ids in [("did_operations", DIDS), ("catalog_versions", ENTRIES)]),
    *(call(name, RIDS) for name in ("get_request", "request_events")),
    call("requests_about", SUBJECTS),
    call("requests_of_agency", AGENCIES),
    *(call(name) for name in ("latest_catalog", "sharing_counts")),
)
EVERY_READ = [
    *(("did_operations", (d,)) for d in ("did:example:a", "did:example:b")),
    *(("catalog_versions", (e,)) for e in ("c1", "c2", "c3")),
    *((name, (r,)) for r in ("r1", "r2", "r3") for name in ("get_request", "request_events")),
    *(("requests_about", (s,)) for s in ("did:example:c1", "did:example:c2")),
    *(("requests_of_agency", (a,)) for a in ("psb", "tax", "health")),
    ("latest_catalog", ()),
    ("sharing_counts", ()),
]


def outcome(store: DirectoryStore, name: str, args: tuple[Any, ...]) -> str:
    """What a call answered (``repr``, so datetimes' offsets count) or raised (its type)."""
    try:
        result = getattr(store, name)(*args)
    except Exception as exc:
        return type(exc).__name__
    return repr(sorted(result.items()) if isinstance(result, dict) else result)


@pytest.fixture(params=["sqlite", "fakeredis", REAL_REDIS])
def fresh_backend(
    request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str
) -> Callable[[], DirectoryStore]:
    """Makes an empty store per Hypothesis example (real Redis: under ``redis_prefix``)."""
    client = request.getfixturevalue("real_redis") if request.param == "redis" else None

    def make() -> DirectoryStore:
        name = uuid.uuid4().hex
        if request.param == "sqlite":
            return SqliteDirectoryStore(tmp_path / f"{name}.sqlite3", synchronous="OFF")
        return RedisDirectoryStore(client or fake_redis(), prefix=f"{redis_prefix}{name}:")

    return make


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=st.lists(OPERATIONS, min_size=20, max_size=80))
def test_random_operation_sequences_match_the_memory_oracle(
    fresh_backend: Callable[[], DirectoryStore], operations: list[tuple[str, tuple[Any, ...]]]
) -> None:
    oracle, backend = MemoryDirectoryStore(), fresh_backend()
    try:
        for step, (name, args) in enumerate([*operations, *EVERY_READ]):
            expected = outcome(oracle, name, args)
            assert outcome(backend, name, args) == expected, f"step {step}: {name}{args}"
    finally:
        backend.close()
