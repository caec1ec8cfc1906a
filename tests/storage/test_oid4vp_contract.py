"""The presentation-request store contract (identity/oid4vp/requests.py) on every backend:
memory (the oracle), SQLite, fakeredis and a real Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from identity.errors import ConflictError
from identity.oid4vp.requests import PresentationRequest, PresentationRequestStore
from identity.storage.memory_oid4vp import MemoryPresentationRequestStore
from identity.storage.redis_oid4vp import RedisPresentationRequestStore
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_oid4vp import SqlitePresentationRequestStore
from tests.storage.conftest import REAL_REDIS
from tests.storage.redis_backends import fake_redis

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def request(rid: str = "r1") -> PresentationRequest:
    return PresentationRequest(
        id=rid,
        owner="key:abc",
        client_id="decentralized_identifier:did:key:z6Mk",
        response_uri=f"https://v.example/oid4vp/responses/{rid}",
        nonce="n-" + rid,
        state="s-" + rid,
        dcql_query={"credentials": [{"id": "q", "format": "dc+sd-jwt"}]},
        signed=True,
        redirect_uri=None,
        created_at=T0,
        expires_at=T0 + timedelta(minutes=5),
    )


@pytest.fixture(params=["memory", "sqlite", "fakeredis", REAL_REDIS])
def requests(
    request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str
) -> Iterator[PresentationRequestStore]:
    backend: PresentationRequestStore
    if request.param == "memory":
        backend = MemoryPresentationRequestStore()
    elif request.param == "sqlite":
        SqliteStore(tmp_path / "store.sqlite3").close()
        backend = SqlitePresentationRequestStore(tmp_path / "store.sqlite3")
    elif request.param == "fakeredis":
        backend = RedisPresentationRequestStore(fake_redis(), prefix=redis_prefix)
    else:
        backend = RedisPresentationRequestStore(
            request.getfixturevalue("real_redis"), prefix=redis_prefix
        )
    yield backend
    backend.close()


def test_created_requests_read_back_equal(requests: PresentationRequestStore) -> None:
    requests.create(request())
    assert requests.get("r1") == request()
    assert requests.get("nope") is None


def test_an_id_is_created_once(requests: PresentationRequestStore) -> None:
    requests.create(request())
    with pytest.raises(ConflictError):
        requests.create(replace(request(), nonce="other"))
    assert requests.get("r1") == request()


def test_advance_is_compare_and_set(requests: PresentationRequestStore) -> None:
    requests.create(request())
    fetched = request().advanced("fetched")
    assert requests.advance(fetched, "created") is True
    assert requests.advance(fetched, "created") is False  # a second fetch step is refused
    answered = fetched.advanced("answered", result={"verified": True}, response_code="rc")
    assert requests.advance(answered, "fetched") is True
    assert requests.get("r1") == answered
    assert requests.advance(replace(answered, result=None), "fetched") is False
    assert requests.get("r1") == answered
    assert requests.advance(request("unknown"), "created") is False
    assert requests.get("unknown") is None


def test_the_machine_has_no_backward_step() -> None:
    answered = request().advanced("answered")
    with pytest.raises(ValueError):
        answered.advanced("fetched")
    with pytest.raises(ValueError):
        request().advanced("created")


def test_of_racing_answers_exactly_one_wins(requests: PresentationRequestStore) -> None:
    requests.create(request())
    wins: list[bool] = []

    def answer(n: int) -> None:
        wins.append(requests.advance(request().advanced("answered", result={"n": n}), "created"))

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 5 + [True]
    stored = requests.get("r1")
    assert stored is not None and stored.status == "answered"


def refusal(n: int) -> dict[str, str]:
    return {"error": "invalid_request", "error_description": f"refusal {n}", "check": "x"}


def test_a_refusal_is_kept_and_changes_nothing_else(requests: PresentationRequestStore) -> None:
    requests.create(request())
    assert requests.advance(request().advanced("fetched"), "created") is True
    assert requests.refuse("r1", refusal(1)) is True
    stored = requests.get("r1")
    assert stored == replace(request().advanced("fetched"), refusals=(refusal(1),), refused_count=1)
    assert requests.refuse("unknown", refusal(2)) is False
    assert requests.get("unknown") is None


def test_refusals_keep_only_the_newest(requests: PresentationRequestStore) -> None:
    requests.create(request())
    for n in range(12):
        assert requests.refuse("r1", refusal(n), keep=5) is True
    stored = requests.get("r1")
    assert stored is not None and stored.status == "created"
    assert stored.refusals == tuple(refusal(n) for n in range(7, 12))
    assert stored.refused_count == 12


def test_a_success_after_refusals_keeps_them_and_ends_the_request(
    requests: PresentationRequestStore,
) -> None:
    requests.create(request())
    requests.refuse("r1", refusal(1))
    answered = request().advanced("answered", result={"verified": True})  # read before it
    assert requests.advance(answered, "created") is True
    stored = requests.get("r1")
    assert stored == replace(answered, refusals=(refusal(1),), refused_count=1)
    assert requests.refuse("r1", refusal(2)) is False  # an answered request takes none
    assert requests.get("r1") == stored


def _race(requests: PresentationRequestStore, rid: str) -> list[bool]:
    """Three refusals and one success released at once; the success's outcomes."""
    answered = request(rid).advanced("answered", result={"verified": True})
    barrier = threading.Barrier(4)
    wins: list[bool] = []

    def refuse(n: int) -> None:
        barrier.wait()
        requests.refuse(rid, refusal(n))

    def succeed() -> None:
        barrier.wait()
        wins.append(requests.advance(answered, "created"))

    threads = [threading.Thread(target=refuse, args=(n,)) for n in range(3)]
    threads.append(threading.Thread(target=succeed))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return wins


def test_a_refusal_racing_a_success_leaves_the_success(
    requests: PresentationRequestStore,
) -> None:
    for round_ in range(5):
        rid = f"race{round_}"
        requests.create(request(rid))
        assert _race(requests, rid) == [True]
        stored = requests.get(rid)
        assert stored is not None and stored.status == "answered"
        assert stored.result == {"verified": True}
        assert stored.refused_count == len(stored.refusals) <= 3
