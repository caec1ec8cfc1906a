"""Issue 16: Redis memory per credential record (with its anchored log entry) and the
anchored-write rate, on a local 3-master Redis Cluster against a single Redis, one run.

    .venv/bin/python benchmarks/cluster_memory.py [--records N] [--rounds R]

Both servers are private ``redis-server`` processes started here (AOF on, ``everysec``
so the disk does not dominate; cluster ports 7150-7152, single 7160), stopped at the end.
Each round writes ``N / R`` records in batches of 100 through ``RedisStore.put_credentials``
(each record with its log entry, as issuance does), alternating cluster and single
(interleaved), and the median records/s of the rounds is reported with the ratio
cluster/single. Memory: growth of ``used_memory`` summed over the cluster's masters (the
credentials spread over all of them, the log on one) and on the single server, divided by
the records written. ``benchmarks/bench_capacity.py`` has the figures of docs/scaling.md.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from identity.log.entries import LogEntry
from identity.storage.redis import RedisStore
from identity.stores import Anchor, CredentialRecord
from tests.cluster.servers import LocalCluster

PREFIX = "bench:"
BATCH = 100


def record(n: int) -> tuple[CredentialRecord, Anchor]:
    digest = hashlib.sha256(f"credential {n}".encode()).digest()
    rec = CredentialRecord(
        id=f"urn:uuid:{n:032x}",
        digest=digest,
        issuer_id="a1b2c3d4e5f6",
        issuer_did="did:key:z6MknBzDhirm1C99xTcZvQ3zYv8v189s4woagkunQxQqGVxG",
        type="ResidencePermitCredential",
        subject_id=f"did:example:{n}",
        issued_at=datetime(2026, 6, 1, tzinfo=UTC),
        status_index=n % 131072,
        status_group="a1b2c3d4e5f6-1",
    )
    fields = {
        "credential_digest": "sha256:" + digest.hex(),
        "issuer": rec.issuer_did,
        "type": rec.type,
        "credential_id": rec.id,
    }
    entry = LogEntry("credential.issued", datetime(2026, 6, 1, tzinfo=UTC), fields)
    return rec, Anchor(entry.to_bytes())


def write(store: RedisStore, start: int, count: int) -> float:
    began = time.perf_counter()
    for at in range(start, start + count, BATCH):
        made = [record(n) for n in range(at, min(at + BATCH, start + count))]
        store.put_credentials([r for r, _ in made], [a for _, a in made])
    return count / (time.perf_counter() - began)


def _used(servers: list[redis.Redis]) -> int:
    """``used_memory`` summed over ``servers``."""
    return sum(int(s.info("memory")["used_memory"]) for s in servers)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    cluster = LocalCluster(7150).start()
    folder = Path("/tmp/cluster-7160")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    single_proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            "7160",
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        client = cluster.client()
        single = redis.Redis(port=7160)
        single.ping()
        masters = [redis.Redis(port=p) for p in cluster.ports]
        stores = {"cluster": RedisStore(client, PREFIX), "single": RedisStore(single, PREFIX)}
        servers = {"cluster": masters, "single": [single]}
        before = {k: _used(s) for k, s in servers.items()}
        rates: dict[str, list[float]] = {"cluster": [], "single": []}
        per_round = args.records // args.rounds
        for r in range(args.rounds):
            for name in ("cluster", "single") if r % 2 == 0 else ("single", "cluster"):
                rates[name].append(write(stores[name], r * per_round, per_round))
        written = per_round * args.rounds
        print(f"{written} credential records with anchored entries, batches of {BATCH}")
        print("(other engineers load this 2-core machine: ratios count, not absolutes)")
        for name, server in servers.items():
            grown = _used(server) - before[name]
            print(
                f"{name:8} {statistics.median(rates[name]):9.0f} records/s (median of "
                f"{args.rounds})  {grown / written:7.1f} bytes per record + entry"
            )
        ratio = statistics.median(rates["cluster"]) / statistics.median(rates["single"])
        print(f"cluster/single write rate: {ratio:.2f}")
        client.close()
    finally:
        cluster.stop()
        single_proc.terminate()
        single_proc.wait(timeout=10)


if __name__ == "__main__":
    main()
