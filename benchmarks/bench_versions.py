"""The version reads of one verification: one ``read_versions`` against the single reads.

    .venv/bin/python benchmarks/bench_versions.py --redis redis://127.0.0.1:6379/5

What ``POST /credentials/verify`` reads from the store on every request, warm caches
(issue #15): the trust version and the versions of the credential's two status lists
(revocation, suspension). Before: ``trust_version()`` and two ``status_list_version``
calls, three round trips; now one ``read_versions`` call. Both are timed on the same
store (SQLite; Redis with ``--redis``, under a random prefix deleted afterwards),
interleaved (A, B, B, A, ...), medians of ``--rounds``: wall time (what the event loop
waits, the calls being synchronous) and CPU time per request, and their ratio.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_perf import load
from identity.storage.redis import RedisStore
from identity.storage.redis_cluster import connect
from identity.storage.sqlite import SqliteStore
from identity.stores import ApiKeyRecord, IssuerRecord, Store

AGENCIES = 40
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def populate(store: Store) -> list[str]:
    """40 agencies with one status-list group each (four lists: two purposes, two planes)."""
    groups = []
    for n in range(AGENCIES):
        issuer = IssuerRecord(f"agency-{n}", f"Agency {n}", f"did:example:{n}", b"k", T0)
        key = ApiKeyRecord(f"key-{n}", b"h", issuer.id, frozenset({"issue"}), T0)
        store.create_issuer(issuer, key)
        purposes = ["revocation", "suspension", "plane-0", "plane-1"]
        [(group, _)] = store.reserve_status_indices(issuer.id, 1, secrets.randbelow, 8192, purposes)
        groups.append(group)
    return groups


def ways(store: Store, groups: list[str]) -> dict[str, Callable[[int], object]]:
    def single(i: int) -> object:
        group = groups[i % len(groups)]
        return (
            store.trust_version(),
            store.status_list_version(group, "revocation"),
            store.status_list_version(group, "suspension"),
        )

    def combined(i: int) -> object:
        group = groups[i % len(groups)]
        return store.read_versions([(group, "revocation"), (group, "suspension")])

    return {"single reads (before)": single, "read_versions (after)": combined}


def measure(fns: dict[str, Callable[[int], object]], rounds: int, calls: int) -> dict[str, Any]:
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    order = list(fns)
    for r in range(rounds):
        for name in order if r % 2 == 0 else reversed(order):
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(calls):
                fns[name](i)
            samples[name].append(
                (
                    (time.perf_counter() - wall) / calls * 1e6,
                    (time.process_time() - cpu) / calls * 1e6,
                )
            )
    return {
        name: (statistics.median(s[0] for s in got), statistics.median(s[1] for s in got))
        for name, got in samples.items()
    }


def report(title: str, store: Store, rounds: int, calls: int) -> None:
    results = measure(ways(store, populate(store)), rounds, calls)
    (base_wall, base_cpu), (wall, cpu) = results.values()
    print(f"\n{title} ({load()})")
    for name, (w, c) in results.items():
        print(f"  {name:24s} wall {w:7.1f} us  cpu {c:7.1f} us")
    print(f"  after / before: wall {wall / base_wall:.2f}x, cpu {cpu / base_cpu:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", metavar="URL", help="also on this Redis (random prefix)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    print(f"bench_versions: {args.rounds} rounds of {args.calls} requests, interleaved, medians")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = SqliteStore(Path(tmp) / "store.sqlite3")
        report("SQLite", sqlite, args.rounds, args.calls)
        sqlite.close()
    if args.redis:
        client = connect(args.redis)
        prefix = f"bench-versions-{secrets.token_hex(4)}:"
        try:
            report("Redis", RedisStore(client, prefix), args.rounds, args.calls)
        finally:
            for key in client.scan_iter(match=prefix + "*", count=1000):
                client.delete(key)
            client.close()


if __name__ == "__main__":
    main()
