"""A log sharded by period, the way Certificate Transparency runs temporal shards.

Each shard is a whole log of its own -- today's :class:`~identity.log.sequencer.TransparencyLog`
over its own :class:`~identity.log.store.LogStore`, unchanged -- with its own origin
(``<base origin>/<name>``, e.g. ``identity.example/log/2026``), its own key, signed
checkpoints (C2SP signed notes, as before), tiles and storage keys or tables. This module
is the router above them:

* **Where an entry goes.** :class:`ShardPolicy` names the shard of a moment: ``year``
  (``2026``), ``month`` (``2026-03``) or ``none`` (one period). With ``max_entries`` a
  period is split further by size: ``2026``, ``2026.1``, ``2026.2``, … each shard holding
  at most ``max_entries`` entries. :meth:`ShardedLog.append` appends to the shard of
  *now* (the injected clock), so every writer with the same clock picks the same shard.
* **Freezing.** A shard whose period ended ``grace_s`` ago (writers' clocks may lag by
  less), or that is full, is frozen by :meth:`ShardedLog.freeze`: everything sequenced is
  integrated, a *final* checkpoint signed, and the catalog (:class:`ShardCatalog`, durable)
  records that note. From the moment freezing starts the shard's store refuses appends
  (:class:`FrozenShardError`, nothing written), and after a restart the catalog says so.
* **Reading.** Every shard keeps a :class:`~identity.log.reader.LogReader`; a frozen one
  can be exported to static tiles and read back without any store
  (:mod:`identity.storage.static_log`).

Nothing here does I/O but through the stores and catalog it is given; blocking calls run
with ``asyncio.to_thread`` as in the sequencer.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from identity.errors import PROBLEMS, ConflictError, NotFoundError, RangeError
from identity.log.checkpoint import NoteSigner, SignedCheckpoint, open_checkpoint
from identity.log.proofs import Address
from identity.log.reader import LogReader
from identity.log.sequencer import Inclusion, TransparencyLog
from identity.log.store import LogStore
from identity.log.tree import NodeRun

PERIODS = ("none", "year", "month")
"""How a log is split in time; ``none`` with no ``max_entries`` is the unsharded log."""
SHARD_NAME = re.compile(r"(?:[0-9]{4}(?:-[0-9]{2})?(?:\.[1-9][0-9]{0,8})?|0|[1-9][0-9]{0,8})")
"""The names :meth:`ShardPolicy.name` makes (and the only ones a URL may ask for)."""


def shard_origin(base_origin: str, name: str) -> str:
    """The origin of log shard ``name`` of the log ``base_origin``: ``<base>/<name>``."""
    return f"{base_origin.rstrip('/')}/{name}"


class UnknownShardError(NotFoundError):
    """No shard of that name exists in this log."""

    type_uri = PROBLEMS + "unknown-log-shard"
    title = "Unknown log shard"


class FrozenShardError(ConflictError):
    """The shard is frozen (its final checkpoint is signed, or being signed): it takes no
    more entries. Nothing of the refused append was written."""

    type_uri = PROBLEMS + "log-shard-frozen"
    title = "Log shard frozen"


class ShardFullError(FrozenShardError):
    """The shard holds ``max_entries`` already: the batch belongs in the next shard."""


@dataclass(frozen=True, slots=True)
class ShardPolicy:
    """Where the boundaries between shards fall.

    ``period`` is ``none``, ``year`` or ``month`` (UTC calendar boundaries);
    ``max_entries`` (optional) closes a shard once it holds that many entries;
    ``grace_s`` is how long after its period ends a shard stays writable, for writers
    whose clock lags (it is frozen only then)."""

    period: str = "none"
    max_entries: int | None = None
    grace_s: float = 60.0

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise RangeError(f"the shard period is one of {', '.join(PERIODS)}", period=self.period)
        if self.max_entries is not None and self.max_entries < 1:
            raise RangeError("a shard holds at least one entry", max_entries=self.max_entries)
        if self.grace_s < 0:
            raise RangeError("the freezing grace is not negative", grace_s=self.grace_s)

    @property
    def sharded(self) -> bool:
        """Whether this policy splits the log at all (else: today's single log)."""
        return self.period != "none" or self.max_entries is not None

    def label(self, at: datetime) -> str:
        """The period ``at`` falls in (UTC): ``2026``, ``2026-03``, or ``""`` for none."""
        at = at.astimezone(UTC)
        if self.period == "year":
            return f"{at.year:04d}"
        if self.period == "month":
            return f"{at.year:04d}-{at.month:02d}"
        return ""

    @staticmethod
    def name(label: str, seq: int) -> str:
        """The shard name of the ``seq``-th size split of period ``label``."""
        if not label:
            return str(seq)
        return label if seq == 0 else f"{label}.{seq}"

    def ends(self, label: str) -> datetime | None:
        """When period ``label`` ends (the next one's first instant), ``None`` if never."""
        if self.period == "year":
            return datetime(int(label) + 1, 1, 1, tzinfo=UTC)
        if self.period == "month":
            year, month = (int(p) for p in label.split("-"))
            return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return None

    def closed(self, label: str, now: datetime) -> bool:
        """Whether period ``label`` ended more than ``grace_s`` before ``now``."""
        end = self.ends(label)
        return end is not None and now >= end + timedelta(seconds=self.grace_s)


@dataclass(frozen=True, slots=True)
class ShardRecord:
    """One shard as the catalog keeps it; ``final`` is its final signed checkpoint note
    once frozen (``None`` while it is writable)."""

    name: str
    label: str
    seq: int
    origin: str
    final: bytes | None = None
    sealed: bool = False
    """Set durably when freezing begins, before the final checkpoint is signed: from
    then on no record store admits an entry into the shard (they read this flag inside
    the act's own transaction), so the final checkpoint covers every entry it ever gets."""
    limit: int | None = None
    """The most entries the shard takes (``IDENTITY_LOG_SHARD_MAX_ENTRIES`` when it was
    made), checked in the transaction that admits an entry; ``None``: no size limit."""

    @property
    def frozen(self) -> bool:
        """True once the catalog holds the shard's final signed checkpoint."""
        return self.final is not None

    @property
    def closed(self) -> bool:
        """True once the shard takes no more entries: sealed (freezing) or frozen."""
        return self.sealed or self.final is not None

    @property
    def base_origin(self) -> str:
        """The origin of the log this shard belongs to (its own, without ``/<name>``)."""
        return self.origin.removesuffix("/" + self.name)

    def successor(self) -> ShardRecord:
        """The next size split of this shard's period (``2026`` → ``2026.1``), writable,
        with the same limit."""
        seq = self.seq + 1
        name = ShardPolicy.name(self.label, seq)
        return ShardRecord(
            name, self.label, seq, shard_origin(self.base_origin, name), limit=self.limit
        )


@dataclass
class AdmissionPlan:
    """Where the entries of one act (or group commit) go, decided inside the act's own
    transaction by :func:`plan_admission`: ``parts`` is ``(shard, how many)`` in order,
    ``added`` the shards the transaction must put in the catalog (before it admits into
    them: catalog-first)."""

    parts: list[tuple[str, int]] = field(default_factory=list)
    added: list[ShardRecord] = field(default_factory=list)

    def shards(self) -> list[str]:
        """The shard of each entry, in order."""
        return [name for name, count in self.parts for _ in range(count)]


def plan_admission(
    wanted: Sequence[str],
    lookup: Callable[[str], ShardRecord | None],
    count: Callable[[str], int],
    *,
    refuse: bool = True,
) -> AdmissionPlan:
    """Route entries, one per item of ``wanted`` (the shard each anchor names), as a
    record store does inside the transaction that admits them (docs/log-shards.md).

    ``lookup(name)`` reads a shard's catalog record and ``count(name)`` its entries, both
    inside that transaction. Each entry goes to its wanted shard while it is open and
    below its limit; a full shard spills the rest into the next size split of its period
    (``2026`` → ``2026.1``), added to the catalog by the same transaction when it is not
    there yet. A shard that is closed (sealed or frozen) without being full refuses the
    act -- :class:`FrozenShardError`, nothing is written -- unless ``refuse`` is false
    (an act already committed elsewhere, the cluster's outbox): its entries then go to
    the next size split too, so the act still lands in exactly one shard, before that
    shard's final checkpoint. A shard missing from the catalog is
    :class:`UnknownShardError` (the service lists a shard before any act names it)."""
    plan = AdmissionPlan()
    known: dict[str, ShardRecord] = {}
    sizes: dict[str, int] = {}

    def record(name: str) -> ShardRecord | None:
        if name not in known:
            found = lookup(name)
            if found is None:
                return None
            known[name] = found
        return known[name]

    def size(rec: ShardRecord) -> int:
        if rec.name not in sizes:
            sizes[rec.name] = 0 if rec in plan.added else count(rec.name)
        return sizes[rec.name]

    at = 0
    while at < len(wanted):
        name = wanted[at]
        run = 1
        while at + run < len(wanted) and wanted[at + run] == name:
            run += 1
        rec = record(name)
        if rec is None:
            raise UnknownShardError("no log shard of that name in the catalog", shard=name)
        while run:
            full = rec.limit is not None and size(rec) >= rec.limit
            if rec.closed and not full and refuse:
                raise FrozenShardError("the log shard is frozen", shard=rec.name)
            if rec.closed or full:
                following = record(rec.successor().name)
                if following is None:
                    following = rec.successor()
                    known[following.name] = following
                    plan.added.append(following)
                rec = following
                continue
            room = run if rec.limit is None else min(run, rec.limit - size(rec))
            plan.parts.append((rec.name, room))
            if rec.limit is not None:
                sizes[rec.name] = size(rec) + room
            run -= room
            at += room
    return plan


class ShardCatalog(Protocol):
    """The durable list of a log's shards and which are frozen.

    Contract (``tests/log/test_shards.py`` runs it on every backend): :meth:`records`
    returns the shards in the order they were added; :meth:`add` of a name already
    present is a no-op when the record is equal and :class:`ConflictError` otherwise;
    :meth:`freeze` is durable when it returns, a no-op when the shard already has that
    final note, :class:`ConflictError` when it has another, :class:`UnknownShardError`
    for a name never added. Methods are blocking and thread-safe."""

    def records(self) -> list[ShardRecord]:
        """Every shard, oldest first."""
        ...

    def add(self, record: ShardRecord) -> None:
        """Record a new (writable) shard."""
        ...

    def seal(self, name: str) -> None:
        """Mark shard ``name`` closed to new entries (durable when it returns; a no-op
        when it is sealed or frozen already); :class:`UnknownShardError` for a name never
        added. Record stores read the flag in the transaction that admits an entry, so
        none lands in the shard after this returns."""
        ...

    def freeze(self, name: str, final: bytes) -> None:
        """Mark shard ``name`` frozen (and sealed) with its final checkpoint note."""
        ...

    def close(self) -> None:
        """Release the catalog's connections; the catalog is unusable after."""
        ...


def check_add(existing: ShardRecord | None, record: ShardRecord) -> bool:
    """For catalogs: whether ``record`` must be written (``False``: already there);
    :class:`ConflictError` when another record holds its name."""
    if record.closed:
        raise RangeError("a shard is added writable and frozen later", shard=record.name)
    if existing is None:
        return True
    if replace(existing, final=None, sealed=False) != record:
        raise ConflictError("another shard of that name is in the catalog", shard=record.name)
    return False


def check_seal(existing: ShardRecord | None, name: str) -> bool:
    """For catalogs: whether sealing ``name`` must be written (``False``: closed already)."""
    if existing is None:
        raise UnknownShardError("no log shard of that name", shard=name)
    return not existing.closed


def check_freeze(existing: ShardRecord | None, name: str, final: bytes) -> bool:
    """For catalogs: whether freezing ``name`` with ``final`` must be written."""
    if existing is None:
        raise UnknownShardError("no log shard of that name", shard=name)
    if existing.final is None:
        return True
    if existing.final != final:
        raise ConflictError("the shard is frozen with another final checkpoint", shard=name)
    return False


class GuardedStore:
    """A shard's :class:`LogStore`, refusing appends once the shard is frozen or full.

    Every method but :meth:`append_entries` passes through. The check and the append run
    under one lock, so in this process no append lands after :meth:`close_for_appends`
    returned. That covers :meth:`ShardedLog.append`; the service's acts are admitted by
    record stores, which check the catalog's ``sealed`` flag and ``limit`` inside each
    act's own transaction instead (:func:`plan_admission`), exact across processes."""

    def __init__(self, inner: LogStore, name: str, max_entries: int | None = None) -> None:
        self.inner = inner
        self.name = name
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._frozen = False
        self.full = False
        """Set once a batch was refused for size: the shard takes no more."""

    def close_for_appends(self) -> None:
        """From now on every append raises :class:`FrozenShardError`."""
        with self._lock:
            self._frozen = True

    @property
    def closed(self) -> bool:
        """True once :meth:`close_for_appends` ran: appends raise :class:`FrozenShardError`."""
        return self._frozen

    def open(self, origin: str, public_key: bytes) -> None:
        """Pass-through to the shard's store; opening is allowed frozen or not."""
        self.inner.open(origin, public_key)

    def append_entries(self, entries: Sequence[bytes]) -> int:
        """As :meth:`LogStore.append_entries`, or :class:`FrozenShardError` /
        :class:`ShardFullError` with nothing written."""
        with self._lock:
            if self._frozen:
                raise FrozenShardError("the log shard is frozen", shard=self.name)
            if self.full:
                raise ShardFullError("the log shard is full", shard=self.name)
            limit = self.max_entries
            if limit is not None and self.inner.entry_count() + len(entries) > limit:
                self.full = True
                raise ShardFullError("the log shard is full", shard=self.name)
            return self.inner.append_entries(entries)

    def entry_count(self) -> int:
        """Pass-through: the shard store's number of sequenced entries."""
        return self.inner.entry_count()

    def read_entries(self, start: int, end: int) -> list[bytes]:
        """Pass-through: entries ``[start, end)`` of the shard's store."""
        return self.inner.read_entries(start, end)

    def read_nodes(self, addresses: Sequence[Address]) -> list[bytes]:
        """Pass-through: the shard store's node hashes at ``addresses``, in order."""
        return self.inner.read_nodes(addresses)

    def read_hash_tile(self, level: int, index: int) -> bytes:
        """Pass-through: the shard store's stored hash tile at ``(level, index)``."""
        return self.inner.read_hash_tile(level, index)

    def find_leaf(self, leaf_hash: bytes, below: int) -> int | None:
        """Pass-through: the shard store's lookup of ``leaf_hash`` among leaves below ``below``."""
        return self.inner.find_leaf(leaf_hash, below)

    def stored_counts(self) -> dict[int, int]:
        """Pass-through: the shard store's stored node count per level."""
        return self.inner.stored_counts()

    def latest_checkpoint(self) -> bytes | None:
        """Pass-through: the shard store's latest checkpoint note, ``None`` before the first."""
        return self.inner.latest_checkpoint()

    def integrate(self, expected: bytes | None, checkpoint: bytes, runs: Sequence[NodeRun]) -> None:
        """Pass-through, frozen or not: integration of entries appended before the freeze
        must still finish so the final checkpoint covers them."""
        self.inner.integrate(expected, checkpoint, runs)

    def close(self) -> None:
        """Pass-through: close the shard's store."""
        self.inner.close()


@dataclass(frozen=True, slots=True)
class ShardReceipt:
    """Where an appended entry sits: the shard (name and origin) and its index there."""

    shard: str
    origin: str
    index: int


@dataclass
class Shard:
    """One shard of a :class:`ShardedLog`: its record, store, reader and, while it is
    writable, its running :class:`TransparencyLog`."""

    record: ShardRecord
    store: GuardedStore
    signer: NoteSigner
    reader: LogReader
    log: TransparencyLog | None = None
    freezing: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def name(self) -> str:
        """The shard's catalog name."""
        return self.record.name

    @property
    def origin(self) -> str:
        """The shard's log origin (the checkpoint's first line and the signer's key name)."""
        return self.record.origin

    def final_checkpoint(self) -> SignedCheckpoint | None:
        """The verified final checkpoint of a frozen shard."""
        if self.record.final is None:
            return None
        return open_checkpoint(self.record.final, self.signer.verifier, self.origin)


class ShardedLog:
    """Shards of one log behind one ``append``; see the module docstring.

    ``open_store(name)`` gives shard ``name``'s own store (its keys, tables or file);
    ``signer_for(origin)`` its signer; ``clock`` is now (UTC); ``log_options`` are passed
    to every shard's :class:`TransparencyLog`."""

    def __init__(
        self,
        policy: ShardPolicy,
        base_origin: str,
        catalog: ShardCatalog,
        open_store: Callable[[str], LogStore],
        signer_for: Callable[[str], NoteSigner],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        **log_options: Any,
    ) -> None:
        self.policy = policy
        self.base_origin = base_origin.rstrip("/")
        self.catalog = catalog
        self._open_store = open_store
        self._signer_for = signer_for
        self._clock = clock
        self._options = log_options
        self._shards: dict[str, Shard] = {}
        self._opening = asyncio.Lock()
        self._running = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._active: Shard | None = None

    def origin(self, name: str) -> str:
        """The origin of shard ``name`` (its checkpoints' first line)."""
        return shard_origin(self.base_origin, name)

    def writable_now(self) -> Shard | None:
        """The open, writable shard of now, without waiting (``None``: the shard of now
        is not open yet -- :meth:`current` opens it -- or is frozen)."""
        label = self.policy.label(self._clock())
        active = self._active
        if active is not None and active.record.label == label and active.log is not None:
            return active
        newest = self._newest(label)
        return newest if newest is not None and newest.log is not None else None

    def record_now(self) -> ShardRecord:
        """The record of the shard of now (its newest of now's period), known in this
        process or to be made: what :meth:`current` opens."""
        label = self.policy.label(self._clock())
        newest = self._newest(label)
        if newest is not None:
            return newest.record
        name = self.policy.name(label, 0)
        return ShardRecord(name, label, 0, self.origin(name), limit=self.policy.max_entries)

    async def current(self) -> Shard:
        """The shard of now, opened (and added to the catalog) if it was not."""
        return await self._current()

    async def ensure(self, name: str) -> Shard:
        """Shard ``name``, opened from the catalog if this process has not opened it yet
        (another replica made it); :class:`UnknownShardError` if the catalog lacks it."""
        shard = self._shards.get(name)
        if shard is not None:
            return shard
        async with self._opening:
            for record in await asyncio.to_thread(self.catalog.records):
                if record.name == name:
                    return await self._open(record)
        raise UnknownShardError("no log shard of that name", shard=name)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open every shard in the catalog (frozen ones for reading, writable ones with a
        running log) and the shard of now."""
        self._running = True
        for record in await asyncio.to_thread(self.catalog.records):
            await self._open(record)
        await self._current()

    async def stop(self) -> None:
        """Stop every running shard log (integrating what was queued) and close stores."""
        self._running = False
        for task in list(self._tasks):
            await task
        for shard in list(self._shards.values()):
            if shard.log is not None:
                await shard.log.stop()
                shard.log = None
            shard.store.close()
        self._shards.clear()
        self._active = None

    async def _open(self, record: ShardRecord) -> Shard:
        if record.name in self._shards:
            return self._shards[record.name]
        signer = self._signer_for(record.origin)
        store = GuardedStore(
            await asyncio.to_thread(self._open_store, record.name),
            record.name,
            self.policy.max_entries,
        )
        shard = Shard(record, store, signer, LogReader(store, signer.verifier, record.origin))
        if record.frozen:
            store.close_for_appends()
            final = shard.final_checkpoint()
            assert final is not None
            stored = await asyncio.to_thread(store.latest_checkpoint)
            if stored is None:  # its live data was dropped after export: read from files
                self._shards[record.name] = shard
                return shard
            await asyncio.to_thread(store.open, record.origin, signer.verifier.public_key.raw)
            if stored != record.final:
                raise ConflictError("a frozen shard's store moved past its final checkpoint")
        else:
            if record.sealed:  # freezing began (a replica stopped mid-way): finish it
                store.close_for_appends()
            shard.log = TransparencyLog(store, signer, origin=record.origin, **self._options)
            await shard.log.start()
        self._shards[record.name] = shard
        return shard

    # -- routing -----------------------------------------------------------------------

    def shards(self) -> list[Shard]:
        """Every open shard, oldest first."""
        return list(self._shards.values())

    def shard(self, name: str) -> Shard:
        """Shard ``name``, or :class:`UnknownShardError`."""
        shard = self._shards.get(name)
        if shard is None:
            raise UnknownShardError("no log shard of that name", shard=name)
        return shard

    def _newest(self, label: str) -> Shard | None:
        newest = None
        for shard in reversed(self._shards.values()):
            if shard.record.label == label and (
                newest is None or shard.record.seq > newest.record.seq
            ):
                newest = shard
        return newest

    async def _current(self, past: str | None = None) -> Shard:
        """The writable shard of now: the newest of now's period, or a new one (after
        ``past``, when that one turned out full)."""
        label = self.policy.label(self._clock())
        active = self._active
        if active is not None and active.record.label == label and active.name != past:
            return active  # the hot path: the shard of the last append
        newest = self._newest(label)
        if newest is not None and newest.name != past:
            self._active = newest
            return newest
        async with self._opening:
            newest = self._newest(label)
            if newest is not None and newest.name != past:
                self._active = newest
                return newest
            seq = 0 if newest is None else newest.record.seq + 1
            name = self.policy.name(label, seq)
            record = ShardRecord(name, label, seq, self.origin(name), limit=self.policy.max_entries)
            await asyncio.to_thread(self.catalog.add, record)
            self._active = await self._open(record)
            return self._active

    async def append(self, entry: bytes) -> ShardReceipt:
        """Durably sequence ``entry`` in the shard of now; return where it went.

        :class:`FrozenShardError` when that shard is frozen (nothing written); a full
        shard hands the entry to the next one of the period."""
        if not self._running:
            raise FrozenShardError("the sharded log is not running")
        past: str | None = None
        while True:
            active = self._active  # the hot path, without a coroutine: the last shard
            if past is None and active is not None and active.log is not None:
                label = active.record.label
                shard = active if self.policy.label(self._clock()) == label else None
            else:
                shard = None
            if shard is None:
                shard = await self._current(past)
            log = shard.log
            if log is None or shard.store.closed:
                if await self._full(shard):  # frozen for being full: on to the next
                    past = shard.name
                    continue
                raise FrozenShardError("the log shard is frozen", shard=shard.name)
            try:
                index = await log.append(entry)
            except ShardFullError:
                past = shard.name
                self._background(self._freeze_quietly(shard.name))
                continue
            except FrozenShardError:
                # Frozen while the entry waited for its batch (nothing of it written):
                # retry in the shard of now -- refused there if that is still this one.
                continue
            return ShardReceipt(shard.name, shard.origin, index)

    async def _full(self, shard: Shard) -> bool:
        """Whether ``shard`` refused a batch for size (or holds ``max_entries``). The
        next shard is in the catalog before a full one freezes, so after a restart the
        newest shard of a period is never a full one."""
        limit = shard.record.limit if shard.record.limit is not None else self.policy.max_entries
        if limit is None:
            return False
        return shard.store.full or await asyncio.to_thread(shard.store.entry_count) >= limit

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_for_checkpoint(self, receipt: ShardReceipt) -> Inclusion:
        """The signed checkpoint of the receipt's shard covering it, and its proof."""
        shard = self.shard(receipt.shard)
        if shard.log is not None:
            return await shard.log.wait_for_checkpoint(receipt.index)
        final = shard.final_checkpoint()
        assert final is not None
        size = final.checkpoint.size
        proof = await asyncio.to_thread(shard.reader.inclusion_proof, receipt.index, size)
        return Inclusion(final, proof)

    # -- freezing ----------------------------------------------------------------------

    async def freeze(self, name: str) -> SignedCheckpoint:
        """Freeze shard ``name``: refuse appends -- in this process, and durably in the
        catalog (:meth:`ShardCatalog.seal`, which every record store checks inside the
        transaction admitting an entry, so nothing lands after it) -- then integrate
        everything sequenced, sign the final checkpoint and record it durably. Idempotent."""
        shard = self.shard(name)
        async with shard.freezing:
            if shard.record.frozen:
                final = shard.final_checkpoint()
                assert final is not None
                return final
            shard.store.close_for_appends()
            await asyncio.to_thread(self.catalog.seal, name)
            shard.record = replace(shard.record, sealed=True)
            log = shard.log
            assert log is not None
            await log.stop()  # commits (or refuses) what is queued, integrates the rest
            signed = await log.integrate()
            if await asyncio.to_thread(shard.store.entry_count) != signed.checkpoint.size:
                raise ConflictError("entries reached the shard while it froze", shard=name)
            await asyncio.to_thread(self.catalog.freeze, name, signed.note)
            shard.record = replace(shard.record, final=signed.note)
            shard.log = None
            return signed

    async def _freeze_quietly(self, name: str) -> None:
        try:
            await self.freeze(name)
        except Exception:  # retried by the next roll()
            return

    async def roll(self) -> list[str]:
        """Freeze every writable shard whose period closed (past the grace), which is
        full, or which the catalog says is sealed (a freeze another replica began), and
        open the shard of now; return the names frozen."""
        now = self._clock()
        due = []
        listed = {r.name: r for r in await asyncio.to_thread(self.catalog.records)}
        for shard in self.shards():
            if shard.record.frozen:
                continue
            if listed.get(shard.name, shard.record).closed:  # sealed by another replica
                shard.record = replace(shard.record, sealed=True)
            if (
                shard.record.sealed
                or await self._full(shard)
                or self.policy.closed(shard.record.label, now)
            ):
                due.append(shard.name)
        for name in due:
            await self.freeze(name)
        if self._running:
            await self._current()
        return due
