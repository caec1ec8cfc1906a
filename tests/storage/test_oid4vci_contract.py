"""The OID4VCI store contract of identity/oid4vci/store.py, proved on every backend.

``MemoryOid4vciStore`` is the oracle: each test runs on memory, SQLite (in the main
store's file), fakeredis and a real Redis; races of redeemers and of nonce takers run on
the backends several processes share; a Hypothesis test compares random sequences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.errors import ConflictError, UnavailableError
from identity.oid4vci.authorization import AUTHORIZED, Authorization, grant
from identity.oid4vci.offer import REDEEMED, Offer
from identity.oid4vci.store import AccessToken, Oid4vciStore
from identity.storage.memory_oid4vci import MemoryOid4vciStore
from identity.storage.redis_oid4vci import RedisOid4vciStore
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_oid4vci import SqliteOid4vciStore
from tests.storage.conftest import REAL_REDIS
from tests.storage.races import handles_on, unrefused, winners
from tests.storage.redis_backends import fake_redis, new_prefix
from tests.storage.test_redis_store import closed_port

BACKENDS = ["memory", "sqlite", "fakeredis", REAL_REDIS]


def offer(oid: str = "o1", code: str = "c1", **changes: object) -> Offer:
    base = Offer(
        id=oid,
        issuer_id="agency-1",
        type_name="ResidencePermitCredential",
        configuration_ids=("ResidencePermitCredential_dc_sd_jwt",),
        claims={"fullName": "李雷"},
        subject=None,
        valid_until=None,
        code_hash=code,
        pin_salt="00" * 16,
        pin_hash="ab" * 32,
        tx_code_length=6,
        tries_left=5,
        expires_at=1000,
        created_at=0,
    )
    return base.next(**changes) if changes else base


def make(kind: str, tmp_path: Path, prefix: str, request: pytest.FixtureRequest) -> Oid4vciStore:
    if kind == "memory":
        return MemoryOid4vciStore()
    if kind == "sqlite":
        SqliteStore(tmp_path / "store.sqlite3").close()
        return SqliteOid4vciStore(tmp_path / "store.sqlite3")
    if kind == "fakeredis":
        return RedisOid4vciStore(fake_redis(), prefix=prefix)
    return RedisOid4vciStore(request.getfixturevalue("real_redis"), prefix=prefix)


@pytest.fixture(params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str
) -> Iterator[Oid4vciStore]:
    backend = make(request.param, tmp_path, redis_prefix, request)
    yield backend
    backend.close()


def test_offers_are_found_by_id_code_and_transaction(store: Oid4vciStore) -> None:
    first = offer(transaction_id="t1")
    store.add_offer(first)
    assert store.get_offer("o1") == first
    assert store.offer_by_code("c1") == first
    assert store.offer_by_transaction("t1") == first
    assert store.get_offer("nope") is None and store.offer_by_code("nope") is None
    assert store.offer_by_transaction("nope") is None


def test_a_repeated_offer_id_or_code_is_refused_and_nothing_changes(store: Oid4vciStore) -> None:
    store.add_offer(offer())
    for again in (offer("o1", "c2"), offer("o2", "c1")):
        with pytest.raises(ConflictError):
            store.add_offer(again)
    assert store.get_offer("o2") is None
    assert store.offer_by_code("c2") is None
    assert store.get_offer("o1") == offer()


def test_replace_is_compare_and_set_on_the_version(store: Oid4vciStore) -> None:
    current = offer()
    store.add_offer(current)
    new = current.next(state=REDEEMED, transaction_id="t9")
    store.replace_offer(current, new)
    assert store.get_offer("o1") == new and store.offer_by_code("c1") == new
    assert store.offer_by_transaction("t9") == new
    with pytest.raises(ConflictError):  # a stale version
        store.replace_offer(current, current.next(tries_left=1))
    assert store.get_offer("o1") == new
    with pytest.raises(ConflictError):  # an unknown offer
        store.replace_offer(offer("o7", "c7"), offer("o7", "c7").next())
    assert store.get_offer("o7") is None


def test_a_transaction_id_is_unique_and_follows_its_offer(store: Oid4vciStore) -> None:
    """Every backend answers a repeated transaction id with ConflictError (SQLite's UNIQUE
    constraint included, never UnavailableError), with nothing changed; a replaced or
    cleared one finds nothing and is free again."""
    first = offer(transaction_id="t1")
    store.add_offer(first)
    with pytest.raises(ConflictError):
        store.add_offer(offer("o2", "c2", transaction_id="t1"))
    assert store.get_offer("o2") is None and store.offer_by_code("c2") is None
    assert store.offer_by_transaction("t1") == first
    second = offer("o2", "c2")
    store.add_offer(second)
    with pytest.raises(ConflictError):
        store.replace_offer(second, second.next(transaction_id="t1"))
    assert store.get_offer("o2") == second and store.offer_by_transaction("t1") == first
    moved = first.next(transaction_id="t2")
    store.replace_offer(first, moved)
    assert store.offer_by_transaction("t1") is None and store.offer_by_transaction("t2") == moved
    taken = second.next(transaction_id="t1")
    store.replace_offer(second, taken)
    assert store.offer_by_transaction("t1") == taken
    cleared = moved.next(transaction_id=None)
    store.replace_offer(moved, cleared)
    assert store.offer_by_transaction("t2") is None and store.get_offer("o1") == cleared
    kept = taken.next(tries_left=1)  # the same transaction id, kept
    store.replace_offer(taken, kept)
    assert store.offer_by_transaction("t1") == kept


def test_an_offer_keeps_its_code(store: Oid4vciStore) -> None:
    current = offer()
    store.add_offer(current)
    with pytest.raises(ConflictError):
        store.replace_offer(current, current.next(code_hash="c9"))
    assert store.get_offer("o1") == current and store.offer_by_code("c9") is None
    assert store.offer_by_code("c1") == current


def test_tokens_expire_and_are_unique(store: Oid4vciStore) -> None:
    token = AccessToken("h1", "o1", 100)
    store.add_token(token)
    assert store.find_token("h1", 99) == token
    assert store.find_token("h1", 100) is None
    assert store.find_token("h2", 0) is None
    with pytest.raises(ConflictError):
        store.add_token(AccessToken("h1", "o2", 500))
    assert store.find_token("h1", 0) == token


def test_revoked_tokens_are_never_found_again(store: Oid4vciStore) -> None:
    first, second, other = (
        AccessToken("h1", "o1", 100),
        AccessToken("h2", "o1", 100),
        AccessToken("h3", "o2", 100),
    )
    for token in (first, second, other):
        store.add_token(token)
    store.revoke_tokens("o1")
    assert store.find_token("h1", 0) is None and store.find_token("h2", 0) is None
    assert store.find_token("h3", 0) == other  # another offer's token is untouched
    store.revoke_tokens("o1")  # idempotent
    store.revoke_tokens("never-stored")
    # sticky: a token added after the revocation (a redemption in flight) is revoked
    store.add_token(AccessToken("h4", "o1", 100))
    assert store.find_token("h4", 0) is None
    with pytest.raises(ConflictError):  # a revoked digest is never taken again
        store.add_token(AccessToken("h1", "o2", 100))
    assert store.find_token("h3", 0) == other


def test_a_nonce_is_taken_once_and_never_after_expiry(store: Oid4vciStore) -> None:
    store.add_nonce("n1", 100)
    store.add_nonce("n2", 100)
    assert store.take_nonce("n1", 50) is True
    assert store.take_nonce("n1", 50) is False
    assert store.take_nonce("n2", 100) is False  # expired
    assert store.take_nonce("n2", 50) is False  # and gone
    assert store.take_nonce("never", 0) is False


def test_backend_failures_are_unavailable_errors(tmp_path: Path) -> None:
    with pytest.raises(UnavailableError):
        SqliteOid4vciStore(tmp_path / "missing-dir" / "x.sqlite3")
    dead = RedisOid4vciStore.from_url(f"redis://127.0.0.1:{closed_port()}/0", socket_timeout=0.2)
    for call in (
        lambda: dead.add_offer(offer()),
        lambda: dead.get_offer("o1"),
        lambda: dead.take_nonce("n", 0),
        lambda: dead.find_token("h", 0),
        lambda: dead.revoke_tokens("o1"),
        lambda: dead.get_authorization("a1"),
        lambda: dead.add_authorization(auth()),
    ):
        with pytest.raises(UnavailableError):
            call()
    dead.close()


# -- races: several handles (as several processes would hold) on one backend -----------


@pytest.fixture(params=["memory", "sqlite", REAL_REDIS])
def handles(
    request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str
) -> Iterator[Callable[[], Oid4vciStore]]:
    yield from handles_on(
        request.param,
        MemoryOid4vciStore(),
        lambda: make(request.param, tmp_path, redis_prefix, request),
    )


def test_of_racing_redeemers_exactly_one_wins(handles: Callable[[], Oid4vciStore]) -> None:
    stores = [handles() for _ in range(6)]
    current = offer()
    stores[0].add_offer(current)

    won = winners(
        6,
        unrefused(
            lambda i: stores[i].replace_offer(current, current.next(state=REDEEMED, tries_left=i))
        ),
    )
    assert len(won) == 1
    stored = stores[0].get_offer("o1")
    assert stored is not None and stored.tries_left == won[0] and stored.version == 1


def test_of_racing_nonce_takers_exactly_one_wins(handles: Callable[[], Oid4vciStore]) -> None:
    stores = [handles() for _ in range(6)]
    stores[0].add_nonce("n", 100)
    assert len(winners(6, lambda i: stores[i].take_nonce("n", 1))) == 1


def auth(rid: str = "a1") -> Authorization:
    return Authorization(
        id=rid, offer_id="o1", client_id="wallet", redirect_uri="http://127.0.0.1/cb",
        code_challenge="x" * 43, state="s", configuration_ids=("c",), details=False,
        expires_at=100, created_at=0,
    )  # fmt: skip


def test_authorization_requests_are_found_by_id_and_code(store: Oid4vciStore) -> None:
    pending = auth()
    store.add_authorization(pending)
    assert store.get_authorization("a1") == pending
    assert store.authorization_by_code("h1") is None and store.get_authorization("x") is None
    with pytest.raises(ConflictError):
        store.add_authorization(auth())
    granted = grant(pending, "did:key:z1", "h1", 10, 60)
    store.replace_authorization(pending, granted)
    assert store.get_authorization("a1") == granted
    assert store.authorization_by_code("h1") == granted and granted.status == AUTHORIZED
    with pytest.raises(ConflictError):  # a stale version
        store.replace_authorization(pending, pending.next(status="denied"))
    assert store.get_authorization("a1") == granted
    other = auth("a2")
    store.add_authorization(other)
    with pytest.raises(ConflictError):  # a code digest is unique
        store.replace_authorization(other, grant(other, "did:key:z2", "h1", 10, 60))
    assert store.get_authorization("a2") == other
    assert store.authorization_by_code("h1") == granted
    with pytest.raises(ConflictError):  # an unknown request
        store.replace_authorization(auth("a9"), auth("a9").next())
    assert store.get_authorization("a9") is None


def test_a_request_stored_with_its_code_is_found_by_it(store: Oid4vciStore) -> None:
    """``add_authorization`` indexes a code as ``replace_authorization`` does (Redis did
    not): look-up by code, uniqueness of the code, and a code that never changes."""
    granted = grant(auth(), "did:key:z1", "h1", 10, 60)
    store.add_authorization(granted)
    assert store.authorization_by_code("h1") == granted
    with pytest.raises(ConflictError):  # another request with the same code
        store.add_authorization(grant(auth("a2"), "did:key:z2", "h1", 10, 60))
    assert store.get_authorization("a2") is None
    assert store.authorization_by_code("h1") == granted
    for changed in ("h2", None):
        with pytest.raises(ConflictError):  # a code, once set, never changes
            store.replace_authorization(granted, granted.next(code_hash=changed))
        assert store.get_authorization("a1") == granted
    assert store.authorization_by_code("h2") is None
    redeemed = granted.next(status=REDEEMED)
    store.replace_authorization(granted, redeemed)
    assert store.authorization_by_code("h1") == redeemed


def test_of_racing_offers_with_one_transaction_id_one_is_stored(
    handles: Callable[[], Oid4vciStore],
) -> None:
    stores = [handles() for _ in range(6)]

    won = winners(
        6, unrefused(lambda i: stores[i].add_offer(offer(f"o{i}", f"c{i}", transaction_id="t")))
    )
    assert len(won) == 1
    found = stores[0].offer_by_transaction("t")
    assert found is not None and found.id == f"o{won[0]}"
    assert [i for i in range(6) if stores[0].get_offer(f"o{i}") is not None] == won


def test_of_offers_racing_to_one_transaction_id_one_gets_it(
    handles: Callable[[], Oid4vciStore],
) -> None:
    stores = [handles() for _ in range(6)]
    offers = [offer(f"o{i}", f"c{i}") for i in range(6)]
    for one in offers:
        stores[0].add_offer(one)

    won = winners(
        6,
        unrefused(lambda i: stores[i].replace_offer(offers[i], offers[i].next(transaction_id="t"))),
    )
    assert len(won) == 1
    found = stores[0].offer_by_transaction("t")
    assert found is not None and found.id == f"o{won[0]}"
    assert [i for i in range(6) if stores[0].get_offer(f"o{i}") != offers[i]] == won


def test_of_requests_racing_to_one_code_one_gets_it(handles: Callable[[], Oid4vciStore]) -> None:
    stores = [handles() for _ in range(6)]
    pending = [auth(f"a{i}") for i in range(6)]

    def work(i: int) -> bool:
        try:
            if i % 2:  # half add a request holding the code, half grant a stored one
                stores[i].add_authorization(grant(auth(f"b{i}"), "did:key:z", "h", 10, 60))
            else:
                stores[0].add_authorization(pending[i])
                stores[i].replace_authorization(
                    pending[i], grant(pending[i], "did:key:z", "h", 10, 60)
                )
        except ConflictError:
            return False
        return True

    won = winners(6, work)
    assert len(won) == 1
    found = stores[0].authorization_by_code("h")
    winner = f"b{won[0]}" if won[0] % 2 else f"a{won[0]}"
    assert found is not None and found.id == winner


def test_of_racing_code_redemptions_exactly_one_wins(handles: Callable[[], Oid4vciStore]) -> None:
    stores = [handles() for _ in range(6)]
    granted = grant(auth(), "did:key:z1", "h1", 10, 60)
    stores[0].add_authorization(granted)

    won = winners(
        6,
        unrefused(
            lambda i: stores[i].replace_authorization(
                granted, granted.next(status=REDEEMED, state=str(i))
            )
        ),
    )
    assert len(won) == 1
    stored = stores[0].authorization_by_code("h1")
    assert stored is not None and stored.status == REDEEMED and stored.state == str(won[0])


def test_a_raced_code_gives_one_token_and_a_later_replay_revokes_it(
    handles: Callable[[], Oid4vciStore],
) -> None:
    """RFC 6749 §4.1.2 through the store: six redemptions of one code at once -- each
    winner of the compare-and-set stores its token -- leave exactly one token; the code
    presented again later revokes it for every handle."""
    stores = [handles() for _ in range(6)]
    granted = grant(auth(), "did:key:z1", "h1", 10, 60)
    stores[0].add_authorization(granted)

    def work(i: int) -> bool:
        try:
            stores[i].replace_authorization(granted, granted.next(status=REDEEMED))
        except ConflictError:
            return False
        stores[i].add_token(AccessToken(f"t{i}", granted.offer_id, 100))
        return True

    won = winners(6, work)
    assert len(won) == 1
    found = [i for i in range(6) if stores[(i + 1) % 6].find_token(f"t{i}", 1) is not None]
    assert found == won
    replay = stores[(won[0] + 3) % 6]
    current = replay.authorization_by_code("h1")
    assert current is not None and current.status == REDEEMED
    replay.revoke_tokens(current.offer_id)
    assert all(one.find_token(f"t{won[0]}", 1) is None for one in stores)


# -- the oracle ------------------------------------------------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(["o1", "o2"]), st.sampled_from(["c1", "c2"])),
        st.tuples(st.just("bump"), st.sampled_from(["o1", "o2"]), st.integers(0, 2).map(str)),
        st.tuples(st.just("nonce"), st.sampled_from(["n1", "n2"]), st.just("")),
        st.tuples(st.just("take"), st.sampled_from(["n1", "n2"]), st.just("")),
        st.tuples(st.just("token"), st.sampled_from(["o1", "o2"]), st.sampled_from(["h1", "h2"])),
        st.tuples(st.just("revoke"), st.sampled_from(["o1", "o2"]), st.just("")),
        st.tuples(st.just("tx"), st.sampled_from(["o1", "o2"]), st.sampled_from(["t1", "t2", ""])),
        st.tuples(st.just("authz"), st.sampled_from(["a1", "a2"]), st.sampled_from(["h1", ""])),
        st.tuples(st.just("grant"), st.sampled_from(["a1", "a2"]), st.sampled_from(["h1", "h2"])),
    ),
    max_size=20,
)


def _apply(store: Oid4vciStore, name: str, a: str, b: str) -> object:
    try:
        if name == "add":
            store.add_offer(offer(a, b))
        elif name == "bump":
            current = store.get_offer(a)
            base = current if current is not None else offer(a, "x")
            stale = base if int(b) else base.next()
            store.replace_offer(stale, base.next(tries_left=int(b)))
        elif name == "nonce":
            store.add_nonce(a, 10)
        elif name == "token":
            store.add_token(AccessToken(b, a, 10))
        elif name == "revoke":
            store.revoke_tokens(a)
        elif name == "tx":
            current = store.get_offer(a) or offer(a, "x")
            store.replace_offer(current, current.next(transaction_id=b or None))
        elif name == "authz":
            base = auth(a)
            store.add_authorization(grant(base, "did:key:z", b, 1, 9) if b else base)
        elif name == "grant":
            pending = store.get_authorization(a) or auth(a)
            store.replace_authorization(pending, grant(pending, "did:key:z", b, 1, 9))
        else:
            return store.take_nonce(a, 5)
    except ConflictError:
        return "conflict"
    tokens = (store.find_token("h1", 5), store.find_token("h2", 5))
    offers = (store.get_offer("o1"), store.get_offer("o2"), store.offer_by_code("c1"))
    found = (store.offer_by_transaction("t1"), store.offer_by_transaction("t2"))
    auths = (store.get_authorization("a1"), store.get_authorization("a2"))
    codes = (store.authorization_by_code("h1"), store.authorization_by_code("h2"))
    return (offers, tokens, found, auths, codes)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_every_backend_answers_as_the_oracle(
    tmp_path: Path, ops: list[tuple[str, str, str]]
) -> None:
    oracle = MemoryOid4vciStore()
    backends: list[Oid4vciStore] = [
        SqliteOid4vciStore(tmp_path / f"{new_prefix()}.sqlite3"),
        RedisOid4vciStore(fake_redis(), prefix=new_prefix()),
    ]
    try:
        for op in ops:
            expected = _apply(oracle, *op)
            for backend in backends:
                assert _apply(backend, *op) == expected, (type(backend).__name__, op)
    finally:
        for backend in backends:
            backend.close()
