"""Redis-specific requirements of RedisStore / RedisLogStore (the contracts run in
test_contract.py and test_redis_log_contract.py): failures become UnavailableError, key
prefixes isolate services sharing one Redis, and optimistic transactions stay exact
under concurrent clients of a real server."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import fakeredis
import pytest
import redis

from identity.errors import ConflictError, UnavailableError
from identity.storage import redis_log
from identity.storage.redis import RedisStore
from identity.storage.redis_log import RedisLogStore
from identity.stores import CredentialRecord, Store
from tests.storage.redis_backends import REDIS_URL, fake_redis, new_prefix, real_redis
from tests.storage.test_contract import api_key, credential, issuer

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung Redis)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield int(s.getsockname()[1])


STORE_CALLS: list[Callable[[Store], object]] = [
    lambda s: s.ping(),
    lambda s: s.get_issuer("agency-1"),
    lambda s: s.create_issuer(issuer(), api_key()),
    lambda s: s.put_credentials([credential(1)]),
    lambda s: s.count_credentials(),
    lambda s: s.consume_challenge("c", "login", T0),
    lambda s: s.reserve_status_indices("agency-1", 1, lambda n: 0, 64, ["revocation"]),
]


@pytest.mark.parametrize("call", STORE_CALLS)
def test_redis_down_is_unavailable_with_a_retry_hint(call: Callable[[Store], object]) -> None:
    store = RedisStore.from_url(f"redis://127.0.0.1:{closed_port()}/0", socket_timeout=0.2)
    with pytest.raises(UnavailableError) as caught:
        call(store)
    assert caught.value.data["retry_after"] == 1
    assert isinstance(caught.value.__cause__, redis.ConnectionError)


def test_a_hung_redis_times_out_as_unavailable() -> None:
    with silent_server() as port:
        store = RedisStore.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=0.2)
        with pytest.raises(UnavailableError):
            store.get_credential("urn:uuid:1")
        log = RedisLogStore.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=0.2)
        with pytest.raises(UnavailableError):
            log.append_entries([b"e"])


def test_log_store_down_is_unavailable() -> None:
    log = RedisLogStore.from_url(f"redis://127.0.0.1:{closed_port()}/0", socket_timeout=0.2)
    for call in (
        lambda: log.open("o", b"k"),
        lambda: log.append_entries([b"e"]),
        lambda: log.read_nodes([(0, 0)]),
        lambda: log.integrate(None, b"c", []),
    ):
        with pytest.raises(UnavailableError):
            call()


def test_a_decoding_client_is_refused() -> None:
    with pytest.raises(ValueError, match="decode"):
        RedisStore(fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True))


def prefix_isolation(client: redis.Redis, base: str) -> None:
    one, two = RedisStore(client, base + "one:"), RedisStore(client, base + "two:")
    one.create_issuer(issuer(), api_key())
    one.put_credential(credential(1))
    assert two.find_credential("urn:uuid:1") is None
    assert two.find_credential_by_digest(credential(1).digest) is None
    assert two.list_issuers() == [] and two.count_credentials() == 0
    two.create_issuer(issuer(), api_key())  # the same ids are free under another prefix
    two.put_credential(credential(1, digest=b"t" * 32))
    assert one.get_credential("urn:uuid:1") == credential(1)
    assert one.find_credential_by_digest(b"t" * 32) is None
    # Every key is under ``base``, or under another test's own prefix (a shared server).
    stray = [k for k in client.scan_iter(count=1000) if not k.startswith(base.encode())]
    assert all(k.startswith(b"test-") for k in stray), stray[:5]


def test_stores_with_different_prefixes_do_not_see_each_other() -> None:
    prefix_isolation(fake_redis(), new_prefix())


@pytest.mark.redis_server
def test_stores_with_different_prefixes_share_a_real_redis_without_seeing_each_other() -> None:
    prefix = new_prefix()
    with real_redis(prefix) as client:
        prefix_isolation(client, prefix)
        assert client.keys(prefix + "*")  # everything it wrote is under its prefix


def test_a_retried_append_call_is_stored_once(monkeypatch: pytest.MonkeyPatch) -> None:
    log = RedisLogStore(fake_redis(lua=True), new_prefix())
    token = uuid.uuid4()
    monkeypatch.setattr(redis_log.uuid, "uuid4", lambda: token)  # same call, sent twice
    assert log.append_entries([b"a", b"b"]) == 0
    assert log.append_entries([b"a", b"b"]) == 0
    assert log.entry_count() == 2


def clients(n: int) -> list[redis.Redis]:
    return [redis.Redis.from_url(REDIS_URL) for _ in range(n)]


@pytest.mark.redis_server
def test_overlapping_batches_from_many_clients_land_each_record_once() -> None:
    prefix = new_prefix()
    with real_redis(prefix):
        stores = [RedisStore(c, prefix) for c in clients(6)]
        outcomes: list[ConflictError | None] = []
        lock = threading.Lock()

        def put(store: RedisStore, shift: int) -> None:
            for start in range(0, 60, 10):
                batch = [credential(n) for n in range(start + shift, start + shift + 10)]
                got = store.put_credentials(batch)
                with lock:
                    outcomes.extend(got)

        threads = [threading.Thread(target=put, args=(s, i % 3)) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes.count(None) == 62  # ids 0..61, each stored by exactly one writer
        assert stores[0].count_credentials() == 62
        assert stores[1].find_credential_by_digest(bytes([7]) * 32) == credential(7)


@pytest.mark.redis_server
def test_status_indices_reserved_by_many_clients_are_all_distinct() -> None:
    prefix = new_prefix()
    with real_redis(prefix):
        stores = [RedisStore(c, prefix) for c in clients(4)]
        stores[0].create_issuer(issuer(), api_key())
        got: list[tuple[str, int]] = []
        lock = threading.Lock()

        def reserve(store: RedisStore, seed: int) -> None:
            state = {"n": seed}

            def pick(size: int) -> int:
                state["n"] = (state["n"] * 1103515245 + 12345) % 2**31
                return state["n"] % size

            for _ in range(10):
                reserved = store.reserve_status_indices("agency-1", 3, pick, 64, ["revocation"])
                with lock:
                    got.extend(reserved)

        threads = [threading.Thread(target=reserve, args=(s, i)) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(got) == 120 and len(set(got)) == 120
        for group in {g for g, _ in got}:
            assert sum(1 for g, _ in got if g == group) <= 32  # closed at half full


def subject_credential(n: int, subject: str, day: int) -> CredentialRecord:
    record = credential(n)
    return CredentialRecord(
        id=record.id,
        digest=record.digest,
        issuer_id=record.issuer_id,
        issuer_did=record.issuer_did,
        type=record.type,
        subject_id=subject,
        issued_at=datetime(2026, 1, day, tzinfo=UTC),
    )


def test_credentials_of_a_subject_come_oldest_first(store: Store) -> None:
    store.put_credentials(
        [
            subject_credential(1, "did:key:zA", 1),
            subject_credential(2, "did:key:zB", 1),
            subject_credential(3, "did:key:zA", 2),
        ]
    )
    store.put_credential(subject_credential(4, "did:key:zA", 2))
    assert [r.id for r in store.credentials_of_subject("did:key:zA")] == [
        "urn:uuid:1",
        "urn:uuid:3",
        "urn:uuid:4",
    ]
    assert store.credentials_of_subject("did:key:zNobody") == []


def test_status_list_version_follows_set_status(store: Store) -> None:
    store.create_issuer(issuer(), api_key())
    [(group, index)] = store.reserve_status_indices("agency-1", 1, lambda n: 3, 64, ["revocation"])
    assert store.status_list_version(group, "revocation") == 0
    store.set_status(group, "revocation", index, True)
    assert store.status_list_version(group, "revocation") == 1
