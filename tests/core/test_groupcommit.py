"""Group commit batches concurrent writers into one commit and reports per-item outcomes."""

from __future__ import annotations

import asyncio
import threading

import pytest

from identity.errors import ConflictError
from identity.groupcommit import GroupCommit


def test_concurrent_submissions_share_commits() -> None:
    commits: list[list[int]] = []
    gate = threading.Event()

    def commit(items: list[int]) -> list[int]:
        gate.wait(1)
        commits.append(items)
        return [i * 10 for i in items]

    async def main() -> list[int]:
        group: GroupCommit[int, int] = GroupCommit(commit, max_batch=64)
        tasks = [asyncio.create_task(group.submit(i)) for i in range(100)]
        await asyncio.sleep(0.05)
        gate.set()
        results = await asyncio.gather(*tasks)
        await group.close()
        return list(results)

    assert asyncio.run(main()) == [i * 10 for i in range(100)]
    assert sum(len(c) for c in commits) == 100
    assert len(commits) < 10
    assert max(len(c) for c in commits) <= 64


def test_one_refused_item_does_not_fail_its_batch() -> None:
    def commit(items: list[int]) -> list[int | BaseException]:
        return [ConflictError("taken") if i == 3 else i for i in items]

    async def main() -> list[object]:
        group: GroupCommit[int, int] = GroupCommit(commit)
        out = await asyncio.gather(*(group.submit(i) for i in range(6)), return_exceptions=True)
        await group.close()
        return list(out)

    out = asyncio.run(main())
    assert isinstance(out[3], ConflictError)
    assert [o for i, o in enumerate(out) if i != 3] == [0, 1, 2, 4, 5]


def test_a_failed_commit_fails_every_caller_of_that_batch_and_the_next_batch_works() -> None:
    calls = 0

    def commit(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk full")
        return items

    async def main() -> tuple[object, int]:
        group: GroupCommit[int, int] = GroupCommit(commit)
        first = await asyncio.gather(group.submit(1), return_exceptions=True)
        second = await group.submit(2)
        await group.close()
        return first[0], second

    first, second = asyncio.run(main())
    assert isinstance(first, OSError)
    assert second == 2


def test_waiting_window_gathers_late_arrivals() -> None:
    sizes: list[int] = []

    def commit(items: list[int]) -> list[int]:
        sizes.append(len(items))
        return items

    async def main() -> None:
        group: GroupCommit[int, int] = GroupCommit(commit, max_wait_s=0.2)

        async def late(i: int) -> int:
            await asyncio.sleep(0.01 * i)
            return await group.submit(i)

        await asyncio.gather(*(late(i) for i in range(5)))
        await group.close()

    asyncio.run(main())
    assert sizes == [5]


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        GroupCommit(lambda items: items, max_batch=0)
