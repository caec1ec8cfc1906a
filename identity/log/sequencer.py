"""The log's writer: group-commit sequencing, then integration and signing.

* **Sequencing.** ``await log.append(entry)`` queues the entry; one background task takes
  up to ``max_batch`` queued entries, waiting at most ``max_delay_ms`` after the first,
  and stores them with ONE :meth:`LogStore.append_entries` transaction. When ``append``
  returns, the entry is durable and has its index. ``await log.append_many(entries)``
  puts several into one batch (contiguous indices, all or none). The appenders of a
  batch share one future (:mod:`identity.log.batches`).
* **Integration** is a separate task, woken after every commit (then waiting
  ``integrate_delay_ms`` to coalesce batches): it reads the new entries (those this
  process committed are kept in memory until then: the bytes the transaction wrote),
  extends the tree, checks the new tree against the last signed checkpoint with an RFC 9162
  consistency proof read from the store, signs a checkpoint, and stores nodes and
  checkpoint with a compare-and-swap. A store whose tree does not fold to the signed
  root, or whose checkpoint moved under us, is never signed over: the log cannot fork.
* ``await log.wait_for_checkpoint(index)`` returns the first signed checkpoint covering
  ``index`` and the inclusion proof against it.
* **Acts admitted by record stores** (issue #12) enter the store's entries in the act's
  own transaction, not through :meth:`TransparencyLog.append`; :meth:`notify` wakes the
  integrator for them, and it also polls every ``poll_s`` (entries of other replicas,
  retries after an error).
* **No silent stall.** :meth:`TransparencyLog.health` is a :class:`LogHealth`: tree size,
  entries sequenced but not integrated, seconds the oldest of them has waited, errors
  so far, and the reason integration is not keeping up (an error, a store that fails
  its checks, a checkpoint compare-and-swap that keeps failing, or a lag beyond
  ``max_lag_s``). :meth:`require_healthy` refuses new acts meanwhile.

Blocking store calls run with ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from identity.errors import (
    ConflictError,
    LogIntegrityError,
    LogProofError,
    RangeError,
    UnavailableError,
)
from identity.log import proofs
from identity.log.batches import Batch, CommittedEntries
from identity.log.checkpoint import Checkpoint, NoteSigner, SignedCheckpoint, sign_checkpoint
from identity.log.hashing import HASH_SIZE
from identity.log.reader import InclusionProof, LogReader
from identity.log.store import LogStore
from identity.log.tiles import MAX_ENTRY_SIZE
from identity.log.tree import Frontier, NodeRun, extend, leaf_hashes

RETRY_DELAY_S = 0.5
MAX_CAS_RETRIES = 64
"""Checkpoint compare-and-swaps lost in a row before integration counts as stalled."""


@dataclass(frozen=True, slots=True)
class LogHealth:
    """How integration keeps up with sequencing (for ``/health`` and the metrics).

    ``pending`` entries are sequenced but not yet under a signed checkpoint;
    ``seconds_behind`` is how long integration has been behind without catching up (0
    when nothing is pending); ``reason`` is ``None`` when healthy, else why not.
    """

    tree_size: int
    sequenced: int
    pending: int
    seconds_behind: float
    seconds_since_checkpoint: float
    integration_errors: int
    reason: str | None
    state: str = "ok"
    """``ok``, ``stopped`` (until restart), ``stalled`` (CAS lost), ``lagging``, ``not
    running`` or ``corrupted`` (a read found damage): what a change of state is judged
    by (``reason`` carries figures)."""
    last_error: str | None = None
    """The last failed integration attempt's error, until one succeeds (transient)."""

    @property
    def ok(self) -> bool:
        """``True`` when healthy: ``reason`` is ``None``."""
        return self.reason is None


@dataclass(frozen=True, slots=True)
class Inclusion:
    """A signed checkpoint and the proof that one entry is in it."""

    checkpoint: SignedCheckpoint
    proof: InclusionProof


class LogObserver(Protocol):
    """What the log reports as it works (the service turns it into metrics)."""

    def batch_sequenced(self, size: int) -> None:
        """``size`` entries went into the tree at once: one batch of a direct append, or
        (since acts admit their own entries, issue #12) one integration step."""

    def integration_failed(self, error: BaseException) -> None:
        """An integration attempt failed (retried when the store was unavailable)."""


class TransparencyLog:
    """An append-only, signed RFC 9162 log over a :class:`LogStore`."""

    def __init__(
        self,
        store: LogStore,
        signer: NoteSigner,
        *,
        origin: str | None = None,
        max_batch: int = 4096,
        max_delay_ms: float = 2.0,
        integrate_delay_ms: float = 0.0,
        max_integrate: int = 1 << 16,
        max_lag_s: float = 30.0,
        poll_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_batch < 1 or max_delay_ms < 0 or integrate_delay_ms < 0 or max_integrate < 1:
            raise RangeError("batch size must be positive and delays non-negative")
        self.store = store
        self.signer = signer
        self.origin = signer.name if origin is None else origin
        self.reader = LogReader(store, signer.verifier, self.origin)
        self.max_batch = max_batch
        self.max_delay = max_delay_ms / 1000
        self.integrate_delay = integrate_delay_ms / 1000
        self.max_integrate = max_integrate
        self._pending: list[Batch] = []  # the last one is open; the first commits next
        self._committed_entries = CommittedEntries()
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self._committed = asyncio.Event()
        self._integrated = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._failure: BaseException | None = None
        self._checkpoint: SignedCheckpoint | None = None
        self._frontier = Frontier(0, ())
        self.max_lag = max_lag_s
        self.poll = poll_s
        self._now = monotonic
        self._errors = 0
        self._error: str | None = None  # integration stopped for good (until restart)
        self._stalled: str | None = None  # it runs but cannot advance the checkpoint
        self._last_error: str | None = None
        self._sequenced = 0
        self._behind_since: float | None = None
        self._signed_at = monotonic()
        self.observer: LogObserver | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the store to this log, check its state against its signed checkpoint
        (signing the empty tree on first use) and start the background tasks."""
        await asyncio.to_thread(self.store.open, self.origin, self.signer.verifier.public_key.raw)
        await asyncio.to_thread(self._load)
        self._closing = False
        self._tasks = [
            asyncio.create_task(self._sequence_loop(), name="log-sequencer"),
            asyncio.create_task(self._integrate_loop(), name="log-integrator"),
        ]

    async def stop(self) -> None:
        """Commit everything queued, integrate it, then stop both tasks."""
        self._closing = True
        self._arrived.set()
        self._full.set()
        if self._tasks:
            await self._tasks[0]
            self._committed.set()
            await self._tasks[1]
        self._tasks = []

    @property
    def checkpoint(self) -> SignedCheckpoint:
        """The latest checkpoint this sequencer signed or loaded; ``UnavailableError`` before
        ``start``."""
        if self._checkpoint is None:
            raise UnavailableError("the log has not been started")
        return self._checkpoint

    # -- sequencing ------------------------------------------------------------------

    async def append(self, entry: bytes) -> int:
        """Durably sequence ``entry``; return its index once committed.

        A cancelled caller gets ``CancelledError`` once its batch is resolved; the entry
        was queued and is stored with its batch either way."""
        if self._closing or not self._tasks:
            raise UnavailableError("the log is not accepting entries")
        if not isinstance(entry, bytes) or len(entry) > MAX_ENTRY_SIZE:
            raise RangeError("a log entry is bytes of at most 65535 (tlog-tiles bundle limit)")
        pending = self._pending  # _open_batch(1) only when the last batch is full: per entry
        if pending and len(pending[-1].entries) < self.max_batch:
            batch = pending[-1]
        else:
            batch = self._open_batch(1)
        offset = len(batch.entries)
        batch.entries.append(entry)
        if offset + 1 >= self.max_batch:
            self._full.set()
        return await batch.future + offset

    async def append_many(self, entries: Sequence[bytes]) -> int:
        """Durably sequence ``entries`` in ONE batch (one transaction: all or none, at
        contiguous indices, even beyond ``max_batch``); return the first index.

        For a caller with several entries at once: one await instead of one each."""
        if self._closing or not self._tasks:
            raise UnavailableError("the log is not accepting entries")
        if not entries:
            raise RangeError("append_many needs at least one entry")
        for entry in entries:
            if not isinstance(entry, bytes) or len(entry) > MAX_ENTRY_SIZE:
                raise RangeError("a log entry is bytes of at most 65535 (tlog-tiles bundle limit)")
        batch = self._open_batch(len(entries))
        offset = len(batch.entries)
        batch.entries.extend(entries)
        if len(batch.entries) >= self.max_batch:
            self._full.set()
        return await batch.future + offset

    def _open_batch(self, room: int) -> Batch:
        """The batch new entries join: the last pending one while it has ``room`` (or is
        empty), else a new one."""
        pending = self._pending
        if pending:
            last = pending[-1]
            if not last.entries or len(last.entries) + room <= self.max_batch:
                return last
        batch = Batch(asyncio.get_running_loop())
        pending.append(batch)
        self._arrived.set()
        return batch

    def _has_full_batch(self) -> bool:
        return len(self._pending) > 1 or (
            bool(self._pending) and len(self._pending[0].entries) >= self.max_batch
        )

    async def _sequence_loop(self) -> None:
        batch: Batch | None = None
        try:
            while True:
                await self._arrived.wait()
                if not self._pending:
                    self._arrived.clear()
                    if self._closing:
                        return
                    continue
                if not self._has_full_batch() and not self._closing:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._full.wait(), self.max_delay)
                batch = self._pending.pop(0)
                if not self._has_full_batch():
                    self._full.clear()
                await self._commit(batch)
                batch = None
        finally:  # cancelled (the loop is shutting down): nobody may wait forever
            for left in [batch, *self._pending] if batch is not None else self._pending:
                left.abandon()

    def _store_batch(self, entries: list[bytes]) -> int:
        """The batch's transaction (in a worker thread); its entries are remembered for
        the integrator at once, before the event loop hears of the commit."""
        first = self.store.append_entries(entries)
        self._committed_entries.add(first, entries)
        return first

    async def _commit(self, batch: Batch) -> None:
        """One durable transaction for ``batch``; then wake its appenders."""
        try:
            first = await asyncio.to_thread(self._store_batch, batch.entries)
        except Exception as exc:
            batch.fail(exc)
            return
        batch.commit(first)
        if self.observer is not None:
            self.observer.batch_sequenced(len(batch.entries))
        self._committed.set()

    # -- integration -----------------------------------------------------------------

    def _load(self) -> None:
        """Read and check the store's signed state; sign the empty tree if there is none."""
        note = self.store.latest_checkpoint()
        if note is None:
            empty = sign_checkpoint(Checkpoint(self.origin, 0, proofs.fold(())), self.signer)
            self.store.integrate(None, empty.note, [])
            note = empty.note
        signed = self.reader.checkpoint()
        if signed.note != note:
            raise ConflictError("the log's checkpoint moved during start")
        size = signed.checkpoint.size
        frontier = Frontier(size, tuple(self.store.read_nodes(Frontier.addresses(size))))
        if frontier.root() != signed.checkpoint.root:
            raise LogIntegrityError("the stored tree does not match the signed checkpoint")
        if self.store.entry_count() < size:
            raise LogIntegrityError("the store has fewer entries than its signed checkpoint")
        try:
            self._check_counts(size)
        except LogIntegrityError:
            if self.store.latest_checkpoint() != note:  # not a snapshot: another writer
                raise ConflictError("the log's checkpoint moved during the reload") from None
            raise
        self._checkpoint, self._frontier = signed, frontier
        self._committed_entries.forget(size)  # integrated (by another writer, perhaps)

    def _check_counts(self, size: int) -> None:
        """The store's own per-level counts must be those of the signed tree: a counter
        that disagrees would make the next extension write in the wrong place."""
        counts = self.store.stored_counts()
        level = 0
        while size >> level or counts.get(level):
            if counts.get(level, 0) != size >> level:
                raise LogIntegrityError(
                    f"the store's level {level} counter says {counts.get(level, 0)} hashes, "
                    f"the signed tree has {size >> level}",
                    level=level,
                )
            level += 1

    def _integrate_once(self) -> SignedCheckpoint:
        """Integrate up to ``max_integrate`` sequenced entries; sign and CAS the checkpoint."""
        old, frontier = self.checkpoint, self._frontier
        sequenced = self.store.entry_count()
        self._observe(sequenced)
        end = min(sequenced, frontier.size + self.max_integrate)
        if end == frontier.size:
            return old
        entries = self._read_entries(frontier.size, end)
        new_frontier, runs = extend(frontier, leaf_hashes(entries))
        root = new_frontier.root()
        if old.checkpoint.size:
            self._check_consistency(old.checkpoint, new_frontier.size, root, runs)
        new = sign_checkpoint(Checkpoint(self.origin, new_frontier.size, root), self.signer)
        self.store.integrate(old.note, new.note, runs)
        self._committed_entries.forget(new_frontier.size)
        self._checkpoint, self._frontier = new, new_frontier
        self._signed_at = self._now()
        return new

    def _read_entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``[start, end)``: the ones this process committed from memory, the
        others (acts' own transactions, other replicas) from the store."""
        out: list[bytes] = []
        at = start
        for first, entries in self._committed_entries.runs(start, end):
            if first > at:
                out += self.store.read_entries(at, first)
            out += entries
            at = first + len(entries)
        if at < end:
            out += self.store.read_entries(at, end)
        return out

    def _check_consistency(
        self, old: Checkpoint, size: int, root: bytes, runs: Sequence[NodeRun]
    ) -> None:
        """RFC 9162 §2.1.4: prove the new tree extends the signed one, reading the proof
        from the store plus the new runs, before anything is signed."""
        fresh = {lvl: (start, data) for lvl, start, data in runs}  # one run per level

        def new_hash(level: int, index: int) -> bytes | None:
            start, data = fresh.get(level, (0, b""))
            at = (index - start) * HASH_SIZE
            return data[at : at + HASH_SIZE] if index >= start and at < len(data) else None

        def read(addresses: Sequence[proofs.Address]) -> list[bytes]:
            known = [new_hash(lvl, i) for lvl, i in addresses]
            stored = [a for a, h in zip(addresses, known, strict=True) if h is None]
            found = iter(self.store.read_nodes(stored))
            return [next(found) if h is None else h for h in known]

        proof = proofs.resolve(proofs.consistency_plan(old.size, size), read)
        try:
            proofs.verify_consistency(old.size, size, old.root, root, proof)
        except LogProofError as exc:
            raise LogIntegrityError("refusing to sign: the stored tree would fork") from exc

    async def integrate(self) -> SignedCheckpoint:
        """Integrate everything sequenced so far now; return the newest checkpoint.

        A lost compare-and-swap after which the stored tree grew is another writer's
        progress (replicas take turns integrating one log): this returns once the tree
        holds every entry this log sequenced. :class:`UnavailableError` when it is lost
        :data:`MAX_CAS_RETRIES` times in a row with the tree not growing (the stored
        checkpoint is not one this log can reload, or keeps changing without growing)."""
        lost = 0
        while True:
            before = self.checkpoint.checkpoint.size
            try:
                signed = await asyncio.to_thread(self._integrate_once)
            except ConflictError:
                # Another writer advanced: reload and retry. The reload itself can race a
                # further advance (ConflictError again); that is contention, not a fork.
                lost += 1
                with contextlib.suppress(ConflictError):
                    await asyncio.to_thread(self._load)
                if self.checkpoint.checkpoint.size > before:
                    # The other writer's checkpoint grew the tree: progress, not a stall
                    # (replicas integrating one log take turns). Done once it holds every
                    # entry this log sequenced; else integrate the rest from there.
                    if self.checkpoint.checkpoint.size >= self._sequenced:
                        self._wake_waiters()
                        return self.checkpoint
                    lost = 0
                    continue
                if lost >= MAX_CAS_RETRIES:
                    self._stalled = "the checkpoint compare-and-swap keeps failing"
                    raise UnavailableError(
                        "the checkpoint compare-and-swap keeps failing", attempts=lost
                    ) from None
                continue
            self._wake_waiters()
            if signed.checkpoint.size == before:
                return signed
            if self.observer is not None:  # entries admitted by acts, now in the tree
                self.observer.batch_sequenced(signed.checkpoint.size - before)

    def _wake_waiters(self) -> None:
        """The checkpoint moved on: wake everyone waiting in :meth:`wait_for_checkpoint`."""
        self._integrated.set()
        self._integrated = asyncio.Event()

    async def _integrate_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._committed.wait(), self.poll)
            self._committed.clear()
            if self.integrate_delay and not self._closing:
                await asyncio.sleep(self.integrate_delay)
            try:
                await self.integrate()
            except UnavailableError as exc:
                # The store is down or slow: nothing was signed; try again shortly (the
                # replica recovers by itself when the store returns). Acts fail by
                # themselves meanwhile (their store is down); only a lost-CAS streak or
                # a lag beyond max_lag_s makes the log refuse them.
                self._errors += 1
                self._last_error = f"the log store is unavailable: {exc.detail}"
                if self._closing:
                    return
                if self.observer is not None:
                    self.observer.integration_failed(exc)
                await asyncio.sleep(RETRY_DELAY_S)
                self._committed.set()
                continue
            except Exception as exc:  # a fork attempt or a broken store: stop signing
                self._errors += 1
                self._error = self._last_error = f"integration stopped: {exc}"
                if self.observer is not None:
                    self.observer.integration_failed(exc)
                self._failure = exc
                self._integrated.set()
                return
            self._last_error = self._stalled = None
            if self._closing:
                return

    # -- health ----------------------------------------------------------------------

    def notify(self) -> None:
        """Entries were admitted outside :meth:`append` (an act's own transaction): wake
        the integrator."""
        self._committed.set()

    def _observe(self, sequenced: int) -> None:
        """Note how many entries are sequenced; start the lag clock when falling behind."""
        self._sequenced = max(self._sequenced, sequenced)
        size = self._frontier.size
        if sequenced <= size:
            self._behind_since = None
        elif self._behind_since is None or self._signed_at > self._behind_since:
            self._behind_since = self._now()

    def health(self) -> LogHealth:
        """The integrator's state now (cheap: no store access)."""
        size = self._checkpoint.checkpoint.size if self._checkpoint else 0
        pending = max(0, self._sequenced - size)
        now = self._now()
        behind = now - self._behind_since if pending and self._behind_since is not None else 0.0
        state, reason = "ok", None
        if self._error is not None:
            state, reason = "stopped", self._error
        elif self.reader.corruption is not None:
            state, reason = "corrupted", self.reader.corruption
        elif self._stalled is not None:
            state, reason = "stalled", self._stalled
        elif not self._tasks and self._checkpoint is not None:
            state, reason = "not running", "the log is not running"
        elif behind > self.max_lag:
            state = "lagging"
            reason = f"integration is {behind:.0f} s behind sequencing ({pending} entries)"
        return LogHealth(
            tree_size=size,
            sequenced=max(self._sequenced, size),
            pending=pending,
            seconds_behind=behind,
            seconds_since_checkpoint=now - self._signed_at,
            integration_errors=self._errors,
            reason=reason,
            state=state,
            last_error=self._last_error,
        )

    @property
    def healthy(self) -> bool:
        """``health().ok``, computed from the same state without building a :class:`LogHealth`."""
        if self._error is not None or self.reader.corruption is not None:
            return False
        if self._stalled is not None or (not self._tasks and self._checkpoint is not None):
            return False
        size = self._checkpoint.checkpoint.size if self._checkpoint else 0
        if self._sequenced - size <= 0 or self._behind_since is None:
            return self.max_lag >= 0.0  # nothing pending (or not yet behind)
        return not self._now() - self._behind_since > self.max_lag

    def require_healthy(self) -> None:
        """:class:`UnavailableError` naming the reason while integration does not keep up.

        Checked per act without building a :class:`LogHealth`: :attr:`healthy` is
        ``health().ok`` (tests/log/test_log_healthy_fast.py proves the two equal); the
        full health is built only to name the reason of a refusal."""
        if self.healthy:
            return
        health = self.health()
        if not health.ok:
            raise UnavailableError(f"the log cannot anchor acts now: {health.reason}")

    async def wait_for_checkpoint(self, index: int) -> Inclusion:
        """Wait until ``index`` is integrated; return the checkpoint and inclusion proof."""
        while True:
            if self._failure is not None:
                raise UnavailableError(
                    f"the log stopped integrating: {self._error}", index=index
                ) from self._failure
            signed = self.checkpoint
            if index < signed.checkpoint.size:
                size = signed.checkpoint.size
                proof = await asyncio.to_thread(self.reader.inclusion_proof, index, size)
                return Inclusion(signed, proof)
            if not self._tasks:
                raise UnavailableError("the log is not running", index=index)
            await self._integrated.wait()
