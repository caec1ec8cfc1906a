"""``results.anchor``'s remembered leaves and inclusion paths stay within a byte budget
(issue #15: a worker's memory is bounded however many anchored credentials it checks),
and a cache that forgets gives the same answers as one that remembers."""

from __future__ import annotations

import os
import tracemalloc
from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient

from service.log import LEAF_COST, ByteBoundedCache, path_cost
from tests.service.conftest import issue, make_issuer, services_of


def test_the_cache_never_holds_more_than_its_budget() -> None:
    cache = ByteBoundedCache(10_000)
    for n in range(1_000):
        cache.put(("proof", n, 7), ("ab" * 32,) * (n % 40), path_cost(("",) * (n % 40)))
        assert cache.used <= cache.budget
    assert 0 < len(cache) < 1_000  # it forgot, and still holds the latest
    assert cache.get(("proof", 999, 7)) == ("ab" * 32,) * (999 % 40)


def test_an_entry_costlier_than_the_budget_is_not_kept_and_a_key_is_counted_once() -> None:
    cache = ByteBoundedCache(1_000)
    cache.put("big", b"x", 1_001)
    assert cache.get("big") is None and cache.used == 0
    cache.put("leaf", 1, 400)
    cache.put("leaf", 1, 400)
    assert cache.used == 400 and len(cache) == 1


def test_the_stated_costs_cover_what_the_entries_take() -> None:
    """tracemalloc's count of the cache's own allocations stays under its stated costs,
    for leaves and for paths of every length a log of up to 2^40 entries has."""
    for length in (0, 1, 20, 40):
        cache = ByteBoundedCache(1 << 40)
        tracemalloc.start()
        try:
            for n in range(2_000):
                leaf = (n + 10**9, os.urandom(32))
                cache.put(("leaf", os.urandom(32)), leaf, LEAF_COST)
                path = tuple(os.urandom(32).hex() for _ in range(length))
                key = ("proof", n + 10**9, n + 10**10, os.urandom(32))
                cache.put(key, path, path_cost(path))
            taken, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert taken <= cache.used, (length, taken, cache.used)
        assert taken >= cache.used * 0.6, (length, taken, cache.used)  # and not far above


def _anchors(client: TestClient) -> list[Any]:
    vcs = []
    agency = make_issuer(client)
    for _ in range(6):
        vcs.append(issue(client, agency, waitForCheckpoint=True).json()["verifiableCredential"])
    return vcs


def test_a_cache_that_forgets_answers_as_one_that_remembers(client: TestClient) -> None:
    vcs = _anchors(client)

    def anchors() -> list[Any]:
        answers = [
            client.post("/credentials/verify", json={"verifiableCredential": vc}) for vc in vcs
        ]
        return [answer.json()["results"]["anchor"] for answer in answers]

    remembered = anchors()
    assert all(a["valid"] and a["integrated"] for a in remembered)
    logs = services_of(client).logs
    assert logs.anchors._cache.used > 0
    logs.anchors._cache = ByteBoundedCache(LEAF_COST + path_cost(("",) * 4))  # ~one entry
    assert anchors() == remembered == anchors()
    assert logs.anchors._cache.used <= logs.anchors._cache.budget


def test_a_path_that_does_not_lead_to_the_signed_root_is_neither_served_nor_kept(
    client: TestClient, monkeypatch: Any
) -> None:
    vc = _anchors(client)[0]
    logs = services_of(client).logs
    logs.anchors._cache = ByteBoundedCache(1 << 20)
    real = logs.log.reader.inclusion_proof

    def damaged(index: int, size: int) -> Any:
        proof = real(index, size)
        return replace(proof, path=(bytes(32), *proof.path[1:]))

    monkeypatch.setattr(logs.log.reader, "inclusion_proof", damaged)
    answer = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert answer.status_code == 422 and answer.json()["verified"] is False
    assert answer.json()["results"]["anchor"]["valid"] is False
    assert "inclusionProof" not in answer.text and not any(
        key[0] == "proof" for key in logs.anchors._cache._items
    )
    monkeypatch.undo()
    again = client.post("/credentials/verify", json={"verifiableCredential": vc}).json()
    assert again["results"]["anchor"]["valid"] is True
