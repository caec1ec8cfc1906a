"""Benchmark of the transparency log: ``.venv/bin/python benchmarks/bench_log.py [--quick]``.

Prints: the raw hashlib SHA-256 floor; in-memory appends/s; durable appends/s through the
group-commit sequencer on SQLite (synchronous=FULL) at several concurrencies; root /
inclusion / consistency p50 latencies at 1M and 10M entries (100k in --quick); SQLite
bytes per entry; and pymerkle (benchmark-only dependency) doing the same work. The figures of
issue #12 (appends at 10⁴/10⁶/10⁷ beside raw SQLite/Redis floors, proof p50/p99 through the
verifying read path, HTTP issue with atomic anchoring) are in ``bench_log_scale.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from identity.keys import Ed25519PrivateKey
from identity.log.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
from identity.log.reader import LogReader
from identity.log.sequencer import TransparencyLog
from identity.log.store import LogStore
from identity.log.tree import EMPTY_FRONTIER, MerkleTree, extend, leaf_hashes
from identity.storage.sqlite_log import SQLiteLogStore

SIGNER = NoteSigner("bench.example/log", Ed25519PrivateKey(bytes(range(32))))
ENTRY = 64  # bytes per benchmark entry (a JCS leaf of digests is ~150-250 bytes)


def entry(i: int) -> bytes:
    return i.to_bytes(8, "big") * (ENTRY // 8)


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else float("inf")


def p50_us(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t)
    return statistics.median(samples) / 1000


def hash_floor(n: int) -> float:
    data = [b"\x00" + entry(i) for i in range(n)]
    sha = hashlib.sha256
    t = time.perf_counter()
    for d in data:
        sha(d).digest()
    return rate(n, time.perf_counter() - t)


def memory_appends(n: int) -> tuple[float, MerkleTree]:
    data = [entry(i) for i in range(n)]
    tree = MerkleTree()
    t = time.perf_counter()
    for d in data:
        tree.append(d)
    return rate(n, time.perf_counter() - t), tree


def tree_latencies(tree: MerkleTree, runs: int) -> dict[str, float]:
    n, rnd = tree.size, random.Random(1)
    return {
        "root": p50_us(lambda: tree.root(rnd.randrange(1, n + 1)), runs),
        "inclusion": p50_us(lambda: tree.inclusion_proof(rnd.randrange(n), n), runs),
        "consistency": p50_us(lambda: tree.consistency_proof(rnd.randrange(1, n), n), runs),
    }


def pymerkle_run(n: int, runs: int) -> dict[str, float] | None:
    try:
        from pymerkle import InmemoryTree
    except ImportError:
        return None
    data = [entry(i) for i in range(n)]
    tree = InmemoryTree(algorithm="sha256")
    t = time.perf_counter()
    for d in data:
        tree.append_entry(d)
    appends = rate(n, time.perf_counter() - t)
    rnd = random.Random(1)
    return {
        "append/s": appends,
        "root": p50_us(lambda: tree.get_root(rnd.randrange(1, n + 1)), runs),
        "inclusion": p50_us(lambda: tree.prove_inclusion(rnd.randrange(1, n + 1), n), runs),
        "consistency": p50_us(lambda: tree.prove_consistency(rnd.randrange(1, n), n), runs),
    }


async def durable(store: LogStore, submitters: int, seconds: float, max_batch: int) -> float:
    """Durable appends/s through the sequencer into ``store`` (closed afterwards)."""
    log = TransparencyLog(store, SIGNER, max_batch=max_batch, max_delay_ms=0.5)
    await log.start()
    count = 0
    stop_at = time.perf_counter() + seconds

    async def submit(w: int) -> None:
        nonlocal count
        i = 0
        while time.perf_counter() < stop_at:
            await log.append(entry(w << 32 | i))
            i += 1
            count += 1

    t = time.perf_counter()
    await asyncio.gather(*(submit(w) for w in range(submitters)))
    elapsed = time.perf_counter() - t
    await log.stop()
    store.close()
    return rate(count, elapsed)


def build_sqlite(path: Path, n: int) -> SQLiteLogStore:
    """Fill a SQLite store with ``n`` integrated entries, in big transactions."""
    store = SQLiteLogStore(path, synchronous="NORMAL")
    store.open(SIGNER.name, SIGNER.verifier.public_key.raw)
    frontier, previous, step = EMPTY_FRONTIER, None, 1 << 16
    for start in range(0, n, step):
        batch = [entry(i) for i in range(start, min(n, start + step))]
        store.append_entries(batch)
        frontier, runs = extend(frontier, leaf_hashes(batch))
        note = sign_checkpoint(Checkpoint(SIGNER.name, frontier.size, frontier.root()), SIGNER).note
        store.integrate(previous, note, runs)
        previous = note
    return store


def storage_per_entry(path: Path, n: int) -> tuple[float, dict[str, float]]:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages, page = (
        db.execute("PRAGMA page_count").fetchone()[0],
        db.execute("PRAGMA page_size").fetchone()[0],
    )
    tables: dict[str, float] = {}
    try:
        for name, size in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            tables[name] = size / n
    except sqlite3.OperationalError:
        pass
    db.close()
    return (pages * page - n * ENTRY) / n, tables


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, ~1 minute")
    args = parser.parse_args()
    quick = args.quick
    sizes = [100_000] if quick else [1_000_000, 10_000_000]
    runs = 2000 if quick else 5000
    pm_n = 20_000 if quick else 100_000
    seconds = 2.0 if quick else 5.0

    floor = hash_floor(200_000 if quick else 1_000_000)
    print(f"hashlib SHA-256 floor (leaf-sized inputs): {floor:,.0f} hashes/s")
    mem_rate, small = memory_appends(pm_n)
    print(f"in-memory append ({pm_n:,}): {mem_rate:,.0f}/s  = {mem_rate / floor:.2f} x floor")
    pm = pymerkle_run(pm_n, min(runs, 1000))
    if pm:
        print(f"pymerkle InmemoryTree append ({pm_n:,}): {pm['append/s']:,.0f}/s "
              f"= {pm['append/s'] / floor:.3f} x floor; "
              f"ours is {mem_rate / pm['append/s']:.1f}x")  # fmt: skip
        ours = tree_latencies(small, min(runs, 1000))
        for k in ("root", "inclusion", "consistency"):
            print(f"  p50 {k:<12} at {pm_n:,}: ours {ours[k]:8.1f} us   pymerkle {pm[k]:10.1f} us")
    else:
        print("pymerkle not installed: .venv/bin/pip install pymerkle")

    with tempfile.TemporaryDirectory() as tmp:
        for submitters in (1, 16, 256, 4096):
            got = asyncio.run(
                durable(SQLiteLogStore(Path(tmp) / f"d{submitters}.db"), submitters, seconds, 4096)
            )
            print(
                f"durable appends (SQLite FULL, sequencer) {submitters:>5} submitters: {got:,.0f}/s"
            )

        for n in sizes:
            t = time.perf_counter()
            build_rate, tree = memory_appends(n)
            lat = tree_latencies(tree, runs)
            print(f"in-memory tree {n:,}: built at {build_rate:,.0f}/s; "
                  f"p50 root {lat['root']:.1f} us, "
                  f"inclusion {lat['inclusion']:.1f} us, consistency {lat['consistency']:.1f} us "
                  f"({time.perf_counter() - t:.0f}s)")  # fmt: skip
            del tree
        for n in sizes:
            sqlite_run(Path(tmp) / f"proofs{n}.db", n, runs)


def sqlite_run(path: Path, n: int, runs: int) -> None:
    """Proof latencies through the read path (LogReader) and storage of a SQLite log."""
    t = time.perf_counter()
    store = build_sqlite(path, n)
    built = time.perf_counter() - t
    reader = LogReader(store, SIGNER.verifier)
    rnd = random.Random(2)
    lat = {
        "root": p50_us(lambda: reader.root(rnd.randrange(1, n + 1)), runs),
        "inclusion": p50_us(lambda: reader.inclusion_proof(rnd.randrange(n), n), runs),
        "consistency": p50_us(lambda: reader.consistency_proof(rnd.randrange(1, n), n), runs),
    }
    print(f"SQLite store {n:,} (built in {built:.1f}s): p50 root {lat['root']:.1f} us, "
          f"inclusion {lat['inclusion']:.1f} us, "
          f"consistency {lat['consistency']:.1f} us")  # fmt: skip
    store.close()
    per_entry, tables = storage_per_entry(path, n)
    detail = ", ".join(f"{k} {v:.1f}" for k, v in sorted(tables.items()))
    print(f"SQLite storage beyond the {ENTRY}-byte entries: {per_entry:.1f} bytes/entry"
          + (f" ({detail})" if detail else ""))  # fmt: skip
    path.unlink()


if __name__ == "__main__":
    main()
