"""An act's log entry routed to its log shard inside the act's own transaction (#16).

A record store that admits an act's entry into a log shard (the shard its
:class:`~identity.stores.Anchor` names, docs/log-shards.md) first routes it here, in the
same transaction as the record and the entry:

* it reads the shard's catalog record -- the SQLite table ``log_shards`` in the records'
  file (same ``BEGIN IMMEDIATE``), the Redis hash ``<prefix>log:shards`` (``WATCH``ed in
  the same ``MULTI``/``EXEC``), the memory catalog (its lock held around the admission);
* a shard that is sealed or frozen refuses the act (:class:`FrozenShardError`, 409,
  nothing written) -- so no entry ever lands after :meth:`ShardCatalog.seal`, and a final
  checkpoint covers every entry its shard ever gets;
* a shard at its limit spills the entry into the next size split of its period
  (``2026`` → ``2026.1``), put in the catalog by the same transaction when it is not
  there yet (catalog-first): no shard ever holds more than its limit, across processes;
* :attr:`Anchor.shard <identity.stores.Anchor.shard>` is set to the shard chosen, so the
  store numbers the entry there and the receipt names it.

The rule itself is :func:`~identity.log.shards.plan_admission` (no I/O); a Redis
Cluster's outbox applies the same rule in its admission script
(:mod:`identity.storage.redis_spread`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from redis.client import Pipeline

from identity.log.shards import ShardRecord, plan_admission
from identity.storage.memory_log import MemoryLogStore
from identity.storage.redis_log_keys import LogKeys
from identity.storage.shard_catalog import (
    memory_catalog,
    parse_record,
    record_json,
    sqlite_catalog_add,
    sqlite_catalog_get,
)
from identity.storage.sqlite_log import next_entry_index, shard_tables
from identity.stores import Anchor

NEW_SHARDS = "_identity_new_log_shards"
"""Where a Redis transaction keeps the catalog records it must add (on its pipeline)."""


def route(
    anchors: Sequence[Anchor | None],
    lookup: Callable[[str], ShardRecord | None],
    count: Callable[[str], int],
) -> list[ShardRecord]:
    """Set each sharded anchor's shard to where :func:`plan_admission` puts it, routed
    from the shard it picked (:attr:`Anchor.picked <identity.stores.Anchor.picked>`: a
    retried transaction routes afresh); the records the transaction must add to the
    catalog. Unsharded anchors are left alone."""
    sharded = [a for a in anchors if a is not None and a.shard is not None]
    if not sharded:
        return []
    wanted: list[str] = []
    for anchor in sharded:
        picked = anchor.picked = anchor.picked or anchor.shard
        assert picked is not None
        wanted.append(picked)
    plan = plan_admission(wanted, lookup, count)
    for anchor, name in zip(sharded, plan.shards(), strict=True):
        anchor.shard = name
    return plan.added


def route_sqlite(db: sqlite3.Connection, anchors: Sequence[Anchor | None]) -> None:
    """:func:`route` inside the write transaction on ``db`` (the records' file, which holds
    the catalog table and every shard's tables); new catalog rows are inserted in it."""

    def lookup(name: str) -> ShardRecord | None:
        found = sqlite_catalog_get(db, name)
        return None if found is None else found[1]

    def count(name: str) -> int:
        tables = shard_tables(name)
        db.execute(tables.entries_schema)
        return next_entry_index(db, tables)

    for record in route(anchors, lookup, count):
        sqlite_catalog_add(db, record)


def route_redis(
    pipe: Pipeline,
    catalog_key: str,
    keys_of: Callable[[str], LogKeys],
    anchors: Sequence[Anchor | None],
) -> None:
    """:func:`route` in a ``WATCH`` body before ``multi()``: the catalog hash and the
    picked shards' sizes (``WATCH``ed by the caller) are read, a split's size is
    ``WATCH``ed before it is read;
    the records to add are kept on ``pipe`` for :func:`queue_new_shards`."""

    def lookup(name: str) -> ShardRecord | None:
        raw = pipe.hget(catalog_key, name)
        return None if raw is None else parse_record(raw)[1]

    picked = {a.picked or a.shard for a in anchors if a is not None and a.shard is not None}

    def count(name: str) -> int:
        size = keys_of(name).size
        if name not in picked:  # a picked shard's size is watched already (the caller's)
            pipe.watch(size)  # type: ignore[no-untyped-call]
        return int(pipe.get(size) or 0)

    added = route(anchors, lookup, count)
    order = int(pipe.hlen(catalog_key)) if added else 0
    setattr(pipe, NEW_SHARDS, [(order + i, r) for i, r in enumerate(added)])


def queue_new_shards(pipe: Pipeline, catalog_key: str) -> None:
    """After ``multi()``: queue the catalog records :func:`route_redis` decided to add
    (once per transaction)."""
    for order, record in getattr(pipe, NEW_SHARDS, ()):
        pipe.hset(catalog_key, record.name, record_json(record, order))
    setattr(pipe, NEW_SHARDS, [])


@contextmanager
def routing_memory(root: MemoryLogStore, anchors: Sequence[Anchor | None]) -> Iterator[None]:
    """:func:`route` for a memory record store: the catalog of ``root``'s shards is locked
    around the body (the admission), so a seal comes before or after it; new records are
    added if the body does not raise. Without a sharded anchor, nothing is locked."""
    if not any(a is not None and a.shard is not None for a in anchors):
        yield
        return
    catalog = memory_catalog(root)
    with catalog.lock:
        added = route(anchors, catalog.by_name.get, lambda n: len(root.shard(n).entries))
        yield
        for record in added:
            catalog.by_name.setdefault(record.name, record)
