"""The sharded log's cost (issue #16 item 3), each figure beside the unsharded log in the
same run, in turns (A, B, A, B …; medians).

    .venv/bin/python -m benchmarks.bench_shards [--entries N] [--rounds N] [--no-redis]
                                                [--redis-port 9880]

* **Append rate**: durable appends/s through :class:`ShardedLog` (year shards; the
  router, the frozen/size guard and the shard's own :class:`TransparencyLog`) against
  one :class:`TransparencyLog` on the same backend -- memory, SQLite (``FULL``) and a
  private ``redis-server`` (AOF, ``appendfsync always``) -- 2,048 submitters at a time.
  Then **per shard**: one run that crosses a year boundary halfway (injected clock),
  the rate of each shard while it was the writable one.
* **Inclusion proof p50/p99** at one tree size: the unsharded :class:`LogReader`, the
  shard's reader found through :class:`ShardSet` (the ``/log/{shard}/proofs/inclusion``
  path: name check, lookup, reader), and a frozen shard read back from its exported
  tiles (:func:`load_static_log`, no store), sampled in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script too

import redis

from benchmarks.harness import redis_server, table
from identity.keys import Ed25519PrivateKey
from identity.log.checkpoint import NoteSigner
from identity.log.reader import LogReader
from identity.log.sequencer import TransparencyLog
from identity.log.shards import ShardCatalog, ShardedLog, ShardPolicy
from identity.log.store import LogStore
from identity.storage.log_shards import (
    RedisShardCatalog,
    SQLiteShardCatalog,
    memory_shard_stores,
    redis_shard_stores,
    sqlite_shard_stores,
)
from identity.storage.memory_log import MemoryLogStore
from identity.storage.redis_log import RedisLogStore
from identity.storage.shard_catalog import MemoryShardCatalog
from identity.storage.sqlite_log import SQLiteLogStore
from identity.storage.static_log import load_static_log
from service.audit import FolderAuditSource
from service.cli_export import export_log
from service.log_shards import ShardBackend, ShardSet, shard_verifier

KEY = Ed25519PrivateKey(bytes(range(32)))
BASE = "bench.example/log"
SUBMITTERS = 2048
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def signer_for(origin: str) -> NoteSigner:
    return NoteSigner(origin, KEY)


def entry(i: int) -> bytes:
    return i.to_bytes(8, "big") * 8


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _drive(append: Callable[[bytes], object], start: int, count: int) -> float:
    """Appends/s of ``count`` appends, ``SUBMITTERS`` in flight."""
    began = time.perf_counter()
    for at in range(start, start + count, SUBMITTERS):
        end = min(at + SUBMITTERS, start + count)
        await asyncio.gather(*(append(entry(i)) for i in range(at, end)))  # type: ignore[misc]
    return count / (time.perf_counter() - began)


class Backend:
    """Fresh unsharded stores and shard backends of one kind, for each turn."""

    def __init__(self, kind: str, folder: Path, client: redis.Redis | None) -> None:
        self.kind, self.folder, self.client, self.turn = kind, folder, client, 0

    def _next(self) -> str:
        self.turn += 1
        return f"t{self.turn}"

    def single(self) -> LogStore:
        name = self._next()
        if self.kind == "memory":
            return MemoryLogStore()
        if self.kind == "sqlite":
            return SQLiteLogStore(self.folder / f"{name}.sqlite3")
        assert self.client is not None
        return RedisLogStore(self.client, f"bench-{name}:")

    def sharded(self) -> tuple[ShardCatalog, Callable[[str], LogStore]]:
        name = self._next()
        if self.kind == "memory":
            return MemoryShardCatalog(), memory_shard_stores()
        if self.kind == "sqlite":
            folder = self.folder / name
            folder.mkdir()
            return SQLiteShardCatalog(folder / "catalog.sqlite3"), sqlite_shard_stores(folder)
        assert self.client is not None
        prefix = f"bench-{name}:"
        return RedisShardCatalog(self.client, prefix), redis_shard_stores(self.client, prefix)


async def _single_rate(backend: Backend, count: int) -> float:
    log = TransparencyLog(backend.single(), signer_for(BASE), max_delay_ms=1.0)
    await log.start()
    try:
        return await _drive(log.append, 0, count)
    finally:
        await log.stop()
        log.store.close()


def _sharded_log(backend: Backend, clock: Clock) -> ShardedLog:
    catalog, stores = backend.sharded()
    return ShardedLog(
        ShardPolicy("year"), BASE, catalog, stores, signer_for, clock=clock, max_delay_ms=1.0
    )


async def _sharded_rate(backend: Backend, count: int) -> float:
    log = _sharded_log(backend, Clock(T0))
    await log.start()
    try:
        return await _drive(log.append, 0, count)
    finally:
        await log.stop()


async def _per_shard(backend: Backend, count: int) -> list[tuple[str, float]]:
    clock = Clock(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    log = _sharded_log(backend, clock)
    await log.start()
    try:
        first = await _drive(log.append, 0, count // 2)
        clock.now = datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC)
        second = await _drive(log.append, count // 2, count - count // 2)
        return [("2026", first), ("2027", second)]
    finally:
        await log.stop()


def appends(kind: str, backend: Backend, count: int, rounds: int) -> list[tuple[str, str, str]]:
    single, sharded = [], []
    for _ in range(rounds):
        single.append(asyncio.run(_single_rate(backend, count)))
        sharded.append(asyncio.run(_sharded_rate(backend, count)))
    a, b = statistics.median(single), statistics.median(sharded)
    rows = [
        (f"{kind}: unsharded appends/s", f"{a:,.0f}", "baseline"),
        (f"{kind}: sharded appends/s", f"{b:,.0f}", f"{b / a:.2f}x the unsharded log"),
    ]
    for name, per in asyncio.run(_per_shard(backend, count)):
        rows.append((f"{kind}: shard {name} appends/s", f"{per:,.0f}", f"{per / a:.2f}x"))
    return rows


def _percentiles(samples: list[int]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) / 1000
    p99 = ordered[int(len(ordered) * 0.99)] / 1000
    return f"{p50:.1f} / {p99:.1f}"


def proofs(folder: Path, count: int, samples: int) -> list[tuple[str, str, str]]:
    """Inclusion proofs at one tree size: unsharded reader, ShardSet reader, files."""

    async def build() -> tuple[TransparencyLog, ShardedLog, Clock]:
        single = TransparencyLog(
            SQLiteLogStore(folder / "proof-single.sqlite3"), signer_for(BASE), max_delay_ms=1.0
        )
        await single.start()
        await _drive(single.append, 0, count)
        await single.stop()
        clock = Clock(datetime(2026, 12, 31, tzinfo=UTC))
        (folder / "proof-shards").mkdir()
        catalog = SQLiteShardCatalog(folder / "proof-shards" / "catalog.sqlite3")
        sharded = ShardedLog(
            ShardPolicy("year", grace_s=0), BASE, catalog,
            sqlite_shard_stores(folder / "proof-shards"), signer_for, clock=clock,
            max_delay_ms=1.0,
        )  # fmt: skip
        await sharded.start()
        await _drive(sharded.append, 0, count)
        clock.now = datetime(2027, 1, 1, tzinfo=UTC)
        await sharded.roll()
        await sharded.stop()
        return single, sharded, clock

    asyncio.run(build())
    plain = LogReader(SQLiteLogStore(folder / "proof-single.sqlite3"), signer_for(BASE).verifier)
    verifier = signer_for(BASE).verifier
    catalog = SQLiteShardCatalog(folder / "proof-shards" / "catalog.sqlite3")
    shard_set = ShardSet(
        BASE, verifier, lambda: ShardBackend(catalog, sqlite_shard_stores(folder / "proof-shards"))
    )
    export_log(shard_set.get("2026").reader, folder / "export" / "2026")
    origin = BASE + "/2026"
    began = time.perf_counter()
    static = load_static_log(
        FolderAuditSource(folder / "export" / "2026"), shard_verifier(verifier, origin), origin
    )
    load_s = time.perf_counter() - began
    size = plain.checkpoint().checkpoint.size
    assert (
        static.checkpoint().checkpoint.size
        == shard_set.get("2026").reader.checkpoint().checkpoint.size
        == size
    )
    import random

    rng = random.Random(7)
    timings: dict[str, list[int]] = {"plain": [], "sharded": [], "files": []}
    calls: dict[str, Callable[[int], object]] = {
        "plain": lambda i: plain.inclusion_proof(i, size),
        "sharded": lambda i: shard_set.get("2026").reader.inclusion_proof(i, size),
        "files": lambda i: static.inclusion_proof(i, size),
    }
    for _ in range(samples):
        index = rng.randrange(size)
        for name, call in calls.items():
            t = time.perf_counter_ns()
            call(index)
            timings[name].append(time.perf_counter_ns() - t)
    base = statistics.median(timings["plain"])
    rows = [
        (f"inclusion p50/p99 µs, unsharded ({size:,})", _percentiles(timings["plain"]), "baseline")
    ]
    for name, label in (("sharded", "through ShardSet"), ("files", "frozen, from files")):
        ratio = statistics.median(timings[name]) / base
        rows.append(
            (f"inclusion p50/p99 µs, {label}", _percentiles(timings[name]), f"{ratio:.2f}x")
        )
    rows.append(("load + full audit of the export", f"{load_s:.2f} s", f"{size:,} entries"))
    shard_set.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--redis-port", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="identity-bench-shards-") as tmp:
        folder = Path(tmp)
        rows: list[tuple[str, str, str]] = []
        for kind in ("memory", "sqlite"):
            (folder / kind).mkdir()
            rows += appends(kind, Backend(kind, folder / kind, None), args.entries, args.rounds)
        if not args.no_redis:
            with redis_server(folder / "redis", port=args.redis_port) as port:
                client = redis.Redis(port=port)
                rows += appends(
                    "redis", Backend("redis", folder, client), args.entries, args.rounds
                )
                client.close()
        (folder / "proofs").mkdir()
        rows += proofs(folder / "proofs", args.entries, args.samples)
        print(f"sharded log vs unsharded, {args.entries:,} entries per run, {args.rounds} rounds")
        table(rows)


if __name__ == "__main__":
    main()
