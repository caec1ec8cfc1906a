"""One trust snapshot per request (issue #15): inside ``one_snapshot`` the version is read
once, at the first use, and only for that cache; outside it every snapshot reads again."""

from __future__ import annotations

import asyncio

from identity.registry.cache import VersionedCache


class Version:
    def __init__(self) -> None:
        self.value = 1
        self.reads = 0

    def __call__(self) -> int:
        self.reads += 1
        return self.value


def test_one_read_per_block_taken_at_first_use() -> None:
    version = Version()
    cache = VersionedCache(version)
    with cache.one_snapshot():
        assert version.reads == 0  # nothing read yet: an anonymous request may read none
        first = cache.snapshot()
        version.value = 2  # a write on another replica while the request runs
        assert cache.snapshot() is first
        assert first.get("k", lambda: "old") == "old"
    assert version.reads == 1
    after = cache.snapshot()  # the next request sees the new version
    assert version.reads == 2 and after is not first
    assert after.get("k", lambda: "new") == "new"


def test_another_cache_is_not_answered_by_the_block() -> None:
    a, b = Version(), Version()
    cache_a, cache_b = VersionedCache(a), VersionedCache(b)
    with cache_a.one_snapshot():
        cache_a.snapshot(), cache_a.snapshot()
        cache_b.snapshot(), cache_b.snapshot()
    assert (a.reads, b.reads) == (1, 2)


def test_concurrent_requests_have_their_own_snapshot() -> None:
    version = Version()
    cache = VersionedCache(version)

    async def request(seen: list[int]) -> None:
        with cache.one_snapshot():
            cache.snapshot()
            await asyncio.sleep(0)
            cache.snapshot()
            seen.append(version.reads)

    async def both() -> None:
        seen: list[int] = []
        await asyncio.gather(request(seen), request(seen))
        assert version.reads == 2  # one each, not one for both, not two each

    asyncio.run(both())


def test_a_thread_of_the_request_shares_its_snapshot() -> None:
    version = Version()
    cache = VersionedCache(version)

    async def request() -> None:
        with cache.one_snapshot():
            first = cache.snapshot()
            assert await asyncio.to_thread(cache.snapshot) is first

    asyncio.run(request())
    assert version.reads == 1
