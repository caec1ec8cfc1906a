"""What checking the shard catalog inside each act's transaction costs (issue #16).

    .venv/bin/python -m benchmarks.bench_shard_admission [--acts N] [--rounds N]
                                                         [--redis-port 9181]

Issuances (``put_credentials``, group commits of 32 credentials with their
``credential.issued`` entries) through the SQLite record store (``synchronous=FULL``) and
a private ``redis-server`` (AOF, ``appendfsync always``), three ways in turns (A, B, C,
A, B, C …; medians):

* **unsharded** -- anchors naming no shard: the baseline (no catalog read);
* **sharded** -- every anchor names shard ``2026``: the catalog record read (and, on
  Redis, ``WATCH``ed) in the act's transaction;
* **sharded, size limit** -- ``2026`` with a limit of 1,000 entries: also the shard's
  size read, and a spill into the next split every 1,000 entries (the split added to
  the catalog in the same transaction).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script too

import redis

from benchmarks.harness import redis_server, table
from identity.log.shards import ShardCatalog, ShardRecord
from identity.storage.log_shards import RedisShardCatalog, SQLiteShardCatalog
from identity.storage.redis import RedisStore
from identity.storage.sqlite import SqliteStore
from tests.cluster.acts import issued_act

BATCH = 32
ORIGIN = "identity.example/log"
LIMIT = 1000


def _rate(store: Any, shard: str | None, start: int, acts: int) -> float:
    """Acts/s writing ``acts`` credentials in group commits of :data:`BATCH`."""
    began = time.perf_counter()
    for first in range(start, start + acts, BATCH):
        made = [issued_act(n, f"did:example:s{n % 97}") for n in range(first, first + BATCH)]
        anchors = [replace(a, shard=shard) for _, a in made]
        outcomes = store.put_credentials([r for r, _ in made], anchors)
        assert outcomes == [None] * BATCH
    return acts / (time.perf_counter() - began)


def _run(
    name: str, open_pair: Callable[[int], tuple[Any, ShardCatalog]], acts: int, rounds: int
) -> list[tuple[str, str, str]]:
    modes = [("unsharded", None, None), ("sharded", "2026", None), ("size limit", "2026", LIMIT)]
    rates: dict[str, list[float]] = {m: [] for m, _, _ in modes}
    start = 0
    for turn in range(rounds):
        for at, (mode, shard, limit) in enumerate(modes):
            store, catalog = open_pair(turn * 10 + at)
            if shard is not None:
                catalog.add(ShardRecord(shard, shard, 0, f"{ORIGIN}/{shard}", limit=limit))
            rates[mode].append(_rate(store, shard, start, acts))
            start += acts
            store.close()
            catalog.close()
    base = statistics.median(rates["unsharded"])
    rows = []
    for mode, _, _ in modes:
        median = statistics.median(rates[mode])
        note = "baseline" if mode == "unsharded" else f"{median / base:.2f}x"
        rows.append((f"{name}: {mode} acts/s", f"{median:,.0f}", note))
    return rows


def main() -> None:
    """Run the benchmark and print the table (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acts", type=int, default=3200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-port", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def sqlite(n: int) -> tuple[Any, ShardCatalog]:
            path = folder / f"identity-{n}.sqlite3"
            return SqliteStore(path), SQLiteShardCatalog(path)

        rows = _run("SQLite", sqlite, args.acts, args.rounds)
        with redis_server(folder / "redis", args.redis_port) as port:
            client = redis.Redis(port=port)

            def on_redis(n: int) -> tuple[Any, ShardCatalog]:
                prefix = f"bench-{n}:"
                return RedisStore(client, prefix), RedisShardCatalog(client, prefix)

            rows += _run("Redis", on_redis, args.acts, args.rounds)
            client.close()
    table(rows)


if __name__ == "__main__":
    main()
