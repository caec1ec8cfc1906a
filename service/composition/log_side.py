"""The log side of the service: the transparency log, its anchors (and shard anchoring,
issue #16), the group commit of credential records, and the log's health monitor."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from identity.clock import Clock
from identity.errors import ConflictError, LogIntegrityError
from identity.groupcommit import GroupCommit
from identity.log.sequencer import TransparencyLog
from identity.log.store import LogStore
from identity.storage.memory_log import MemoryLogStore
from identity.stores import Anchor, CredentialRecord, Store
from service.log import Anchors, build_log, receipt_json
from service.log_health import LogHealthMonitor
from service.log_shards import build_shard_set, open_shard_backend, open_sharded_log, shard_policy
from service.settings import Settings, SettingsError
from service.shard_anchoring import build_shard_anchoring

START_ATTEMPTS = 8

Records = GroupCommit[tuple[CredentialRecord, Anchor | None], None]
"""Credential records with their log entries, written in group commits."""


@dataclass
class LogSide:
    """The log and everything that writes into it; ``log_health`` is set by :meth:`start`
    (it needs the running loop), nothing else changes after :func:`build_log_side`."""

    log: TransparencyLog
    anchors: Anchors
    records: Records
    clock: Clock
    log_health: LogHealthMonitor | None = None
    """Integration health (``/health``, metrics); set by :meth:`start`."""

    async def write_record(self, record: CredentialRecord, anchor: Anchor | None) -> None:
        """Store the record with its log entry (group commit), then integrate the entry."""
        await self.records.submit((record, anchor))
        self.anchors.notify(anchor)  # the entry was admitted with the record: integrate it

    def new_anchor(self, kind: str, fields: dict[str, str], time: datetime | None = None) -> Anchor:
        """The log entry of an act, for the store write that performs it (issue #12)."""
        return self.anchors.anchor(kind, time or self.clock.now(), fields)

    def receipt_of(self, anchor: Anchor) -> dict[str, Any]:
        """The committed act's receipt (origin, index, leaf hash) as JSON."""
        return receipt_json(self.anchors.receipt(anchor))

    async def start(self) -> None:
        """Start the log (refuses a store of another log) -- needs the running loop.

        Replicas starting together race to sign the first checkpoint (a compare-and-swap):
        the loser sees ``ConflictError`` and starts again from the winner's checkpoint.
        """
        await asyncio.to_thread(self._bind_log)
        for attempt in range(START_ATTEMPTS):
            try:
                await self.log.start()
                break
            except ConflictError:
                if attempt == START_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        if self.anchors.shards is not None:
            await self.anchors.shards.start()
        self.log_health = LogHealthMonitor(self.log)
        self.log_health.start()

    def _bind_log(self) -> None:
        """Bind the log store to this log's origin and key, or refuse in one line: the key
        comes from the master secret, so another log here means a changed secret or
        origin (the store itself is left as it is)."""
        try:
            self.log.store.open(self.log.origin, self.log.signer.verifier.public_key.raw)
        except LogIntegrityError:
            raise SettingsError(
                "IDENTITY_MASTER_SECRET or IDENTITY_LOG_ORIGIN changed: this store holds a log "
                "signed under another secret or origin; start with the ones it was created with"
            ) from None

    async def stop_health(self) -> None:
        """Stop the health monitor (first in shutdown: it reads the log)."""
        if self.log_health is not None:
            await self.log_health.stop()

    async def stop(self) -> None:
        """Flush the record writer, stop shard anchoring and the log, close the log store."""
        await self.records.close()
        if self.anchors.shards is not None:
            await self.anchors.shards.stop()
        await self.log.stop()
        self.log.store.close()


def _record_writer(store: Store, max_batch: int) -> Records:
    put = store.put_credentials

    def put_records(items: list[tuple[CredentialRecord, Anchor | None]]) -> list[Any]:
        return list(put([r for r, _ in items], [a for _, a in items]))

    return GroupCommit(put_records, max_batch=max_batch)


def build_log_side(
    settings: Settings,
    master_secret: bytes,
    store: Store,
    log_store: LogStore | None,
    clock: Clock,
) -> LogSide:
    """The log over ``log_store`` signed under ``master_secret``, its anchors (into the
    shard of now when the settings shard the log) and the record writer over ``store``."""
    records = _record_writer(store, settings.log_batch_size)
    log = build_log(settings, master_secret, log_store)
    anchors = Anchors(log)
    if shard_policy(settings).sharded:  # issue #16: acts go into the shard of now
        memory = log_store if isinstance(log_store, MemoryLogStore) else None
        anchors.shards = build_shard_anchoring(
            lambda: open_shard_backend(settings, memory),
            lambda backend, at: open_sharded_log(settings, master_secret, backend, at),
            build_shard_set(settings, log.signer.verifier, memory),
            clock.now,
        )
    return LogSide(log=log, anchors=anchors, records=records, clock=clock)
