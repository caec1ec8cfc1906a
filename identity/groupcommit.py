"""Group commit: many concurrent writers, one durable transaction per batch.

An fsync costs the same for one record as for five hundred, so concurrent callers of
:meth:`GroupCommit.submit` are gathered -- up to ``max_batch`` items, waiting at most
``max_wait_s`` for more once the first arrives -- and handed to ``commit`` together, which
runs in a worker thread (it blocks on the disk or the network). Under no load a batch is
one item and adds at most ``max_wait_s`` of latency; under load a batch fills while the
previous one commits.

``commit(items)`` returns one outcome per item, in order: a result, or an exception
*instance* for an item that was refused alone (e.g. a duplicate id) while the others
committed. If ``commit`` raises, the whole batch failed and every caller gets that error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Gathers concurrent :meth:`submit` calls into batches for ``commit`` (module
    docstring): at most ``max_batch`` items, waiting at most ``max_wait_s`` for more;
    ``ValueError`` for a batch size below 1 or a negative wait."""

    def __init__(
        self,
        commit: Callable[[list[T]], Sequence[R | BaseException]],
        *,
        max_batch: int = 512,
        max_wait_s: float = 0.0,
    ) -> None:
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch must be >= 1 and max_wait_s >= 0")
        self._commit = commit
        self._max_batch = max_batch
        self._max_wait = max_wait_s
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        """How many batches were committed (for tests and metrics)."""

    async def submit(self, item: T) -> R:
        """Queue ``item``; return its outcome once its batch has committed durably."""
        if self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run())
        assert self._queue is not None
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def close(self) -> None:
        """Stop the batching task; queued callers that did not commit get CancelledError."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while self._queue is not None and not self._queue.empty():
            _, future = self._queue.get_nowait()
            future.cancel()

    async def _gather(self) -> list[tuple[T, asyncio.Future[R]]]:
        assert self._queue is not None
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_wait
        while len(batch) < self._max_batch:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self._gather()
            items = [item for item, _ in batch]
            try:
                outcomes = await asyncio.to_thread(self._commit, items)
            except Exception as exc:  # the whole transaction failed: nothing was written
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.batches += 1
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
