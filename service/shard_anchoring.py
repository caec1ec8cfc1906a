"""The service's acts anchored in the log shard of now (docs/log-shards.md, issue #16).

With ``IDENTITY_LOG_SHARD_PERIOD`` (or ``IDENTITY_LOG_SHARD_MAX_ENTRIES``) set, every act's
entry goes into the shard the :class:`~identity.log.shards.ShardPolicy` picks when the
act is anchored, admitted by the record store in the act's own transaction as before
(issue #12): the :class:`~identity.stores.Anchor` names the shard, the store writes into
that shard's tables or keys. :class:`ShardAnchoring` is the service side of that:

* :meth:`ShardAnchoring.shard_for_act` -- the shard of now (the writable one this
  process runs; at a boundary the next period's shard is put in the catalog first, so
  an entry never lands in a shard the catalog does not list, and opened in the
  background). A shard of now that is frozen refuses the act (409, nothing written).
* :meth:`ShardAnchoring.notify` wakes the shard's integrator after a commit;
  :meth:`ShardAnchoring.inclusion` waits for the shard's checkpoint covering an index.
* :meth:`ShardAnchoring.readers` -- every shard, newest first, with the checkpoint to
  prove against: a running shard's latest, a frozen shard's final one, read through the
  :class:`~service.log_shards.ShardSet` (from its exported files when it has them: no
  live store is needed to verify a credential anchored there).
* a roller freezes shards whose period closed (past the grace) every ``roll_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from identity.errors import UnavailableError
from identity.log.checkpoint import SignedCheckpoint
from identity.log.reader import LogReader
from identity.log.sequencer import Inclusion
from identity.log.shards import FrozenShardError, ShardedLog, ShardReceipt
from identity.log.store import LogStore
from service.log_shards import ShardBackend, ShardSet

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShardView:
    """One shard as the verifier reads it: name, origin, the checkpoint to prove against,
    a reader, and (while it runs) its store for entries not yet integrated."""

    name: str
    origin: str
    checkpoint: SignedCheckpoint
    reader: LogReader
    store: LogStore | None


class ShardAnchoring:
    """Anchoring in the shards of a :class:`ShardedLog` (see the module docstring)."""

    def __init__(
        self,
        sharded: ShardedLog,
        backend: ShardBackend,
        shard_set: ShardSet,
        *,
        roll_s: float = 5.0,
    ) -> None:
        self.sharded = sharded
        self.backend = backend
        self.shard_set = shard_set
        self.roll_s = roll_s
        self._catalogued: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: dict[str, asyncio.Task[object]] = {}
        self._roller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open every shard in the catalog and the shard of now; start the roller."""
        self._loop = asyncio.get_running_loop()
        await self.sharded.start()
        self._catalogued.update(s.name for s in self.sharded.shards())
        self._roller = self._loop.create_task(self._roll_loop(), name="log-shard-roller")

    async def stop(self) -> None:
        """Stop the roller and every shard's log (integrating what is sequenced)."""
        if self._roller is not None:
            self._roller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._roller
        for task in list(self._opening.values()):
            with contextlib.suppress(Exception):
                await task
        await self.sharded.stop()
        self.shard_set.close()
        self.backend.close()

    async def _roll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.roll_s)
            try:
                frozen = await self.sharded.roll()
                await self.follow()
            except Exception as exc:  # another replica froze it, a store down: next turn
                log.warning("log shard roll postponed: %s", exc)
                continue
            for name in frozen:
                log.info("log shard %s frozen with its final checkpoint", name)

    async def follow(self) -> None:
        """Open every shard the catalog lists that this process has not (made by another
        replica), so acts anchored there verify here too."""
        known = {s.name for s in self.sharded.shards()}
        for record in await asyncio.to_thread(self.sharded.catalog.records):
            if record.name not in known:
                await self.sharded.ensure(record.name)
                self._catalogued.add(record.name)

    # -- the write path ------------------------------------------------------------------

    def shard_for_act(self) -> str:
        """The shard an act anchored now goes to; :class:`FrozenShardError` when it is
        frozen (a clock behind the roll), :class:`UnavailableError` while its log cannot
        integrate."""
        shard = self.sharded.writable_now()
        if shard is not None:
            assert shard.log is not None
            shard.log.require_healthy()
            return shard.name
        record = self.sharded.record_now()
        known = next((s for s in self.sharded.shards() if s.name == record.name), None)
        if known is not None and known.log is None:
            if self._full(known.record.limit, known.store):
                return record.name  # the store spills the act into the next split
            raise FrozenShardError("the log shard of now is frozen", shard=record.name)
        if record.name not in self._catalogued:
            # Listed before any entry lands in it (a crash then leaves no shard unlisted).
            self.sharded.catalog.add(record)
            self._catalogued.add(record.name)
        self._open_soon(record.name)
        return record.name

    @staticmethod
    def _full(limit: int | None, store: LogStore) -> bool:
        """Whether a shard frozen for its size is full (its acts go to the next split)."""
        return limit is not None and store.entry_count() >= limit

    def _open_soon(self, name: str) -> None:
        """Open shard ``name`` in the background (once), from the event loop's thread."""
        loop = self._loop
        if loop is None:
            raise UnavailableError("the sharded log is not running")

        def schedule() -> None:
            if name not in self._opening:
                task: asyncio.Task[object] = loop.create_task(self.sharded.current())
                self._opening[name] = task
                task.add_done_callback(lambda _: self._opening.pop(name, None))

        self._in_loop(loop, schedule)

    def notify(self, name: str) -> None:
        """An act committed an entry into shard ``name``: wake its integrator -- opening
        the shard first when this process has not (the store spilled the act into a split
        it added to the catalog, or another replica did)."""
        with contextlib.suppress(Exception):
            shard = self.sharded.shard(name)
            if shard.log is not None:
                shard.log.notify()
            return
        self._catalogued.add(name)
        with contextlib.suppress(UnavailableError):
            self._ensure_soon(name)

    def _ensure_soon(self, name: str) -> None:
        """Open shard ``name`` from the catalog in the background (once)."""
        loop = self._loop
        if loop is None:
            raise UnavailableError("the sharded log is not running")

        def schedule() -> None:
            if name not in self._opening:
                task: asyncio.Task[object] = loop.create_task(self.sharded.ensure(name))
                self._opening[name] = task
                task.add_done_callback(lambda _: self._opening.pop(name, None))

        self._in_loop(loop, schedule)

    @staticmethod
    def _in_loop(loop: asyncio.AbstractEventLoop, work: Callable[[], None]) -> None:
        """Run ``work`` on ``loop``'s thread: now if this is it, else soon."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            work()
        else:
            loop.call_soon_threadsafe(work)

    def origin(self, name: str) -> str:
        """Shard ``name``'s origin (``<IDENTITY_LOG_ORIGIN>/<name>``)."""
        return self.sharded.origin(name)

    def name_of(self, origin: str) -> str | None:
        """The shard whose origin is ``origin``, ``None`` for another log's."""
        base = self.sharded.base_origin + "/"
        return origin.removeprefix(base) if origin.startswith(base) else None

    async def inclusion(self, name: str, index: int) -> Inclusion:
        """The shard's signed checkpoint covering ``index`` and the inclusion proof."""
        shard = await self.sharded.ensure(name)
        return await self.sharded.wait_for_checkpoint(ShardReceipt(name, shard.origin, index))

    # -- the read path -------------------------------------------------------------------

    def views(self) -> Iterator[ShardView]:
        """Every shard, newest first, ready to prove against (see the module docstring)."""
        for shard in reversed(self.sharded.shards()):
            if shard.log is not None:
                yield ShardView(
                    shard.name, shard.origin, shard.log.checkpoint, shard.log.reader, shard.store
                )
                continue
            final = shard.final_checkpoint()
            if final is None:
                continue
            served = self.shard_set.get(shard.name)
            yield ShardView(shard.name, shard.origin, final, served.reader, None)


def build_shard_anchoring(
    open_backend: Callable[[], ShardBackend],
    open_log: Callable[[ShardBackend, Callable[[], datetime]], ShardedLog],
    shard_set: ShardSet,
    clock: Callable[[], datetime],
) -> ShardAnchoring:
    """A :class:`ShardAnchoring` on a fresh backend (start it with ``await .start()``)."""
    backend = open_backend()
    return ShardAnchoring(open_log(backend, clock), backend, shard_set)
