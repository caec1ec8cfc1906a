"""Issue #12's figures, each beside its floor from the same run.

* raw floors: SQLite ``executemany`` of 4,096 entries per ``synchronous=FULL`` commit, and
  Redis ``APPEND``s of 4,096 entries per script call on a private ``redis-server`` with
  ``appendfsync always``;
* durable appends/s through the sequencer (4,096 submitters) into a log that already
  holds 10⁴, 10⁶ and 10⁷ entries (SQLite), 10⁴ and 10⁶ (Redis);
* anchored acts/s: credential records and their log entries in one transaction
  (``put_credentials`` with anchors, 512 per group commit) at the same sizes (SQLite);
* inclusion and consistency proof p50/p99 through :class:`LogReader` -- the code path of
  ``GET /log/proofs/*``, which verifies every proof before serving it -- beside one
  SQLite ``SELECT`` of a stored chunk and the in-memory tree;
* issue throughput over HTTP (``identity serve``, 2 workers, SQLite, wrk) with atomic
  anchoring, beside the bare ``/health/live`` floor.

Fixtures are bulk-built (:func:`benchmarks.bench_log.build_sqlite`, 65,536 entries per
transaction). ``--quick`` stops at 10⁵.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script too

from benchmarks.bench_log import SIGNER, build_sqlite, durable, entry
from benchmarks.harness import ADMIN, free_port, server, wrk
from identity.log.checkpoint import Checkpoint, sign_checkpoint
from identity.log.reader import LogReader
from identity.log.tree import EMPTY_FRONTIER, MerkleTree, extend, leaf_hashes
from identity.storage.redis_log import RedisLogStore
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_log import SQLiteLogStore
from identity.stores import Anchor, CredentialRecord

BATCH = 4096
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def percentiles(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t)
    samples.sort()
    return statistics.median(samples) / 1000, samples[int(len(samples) * 0.99)] / 1000


def raw_sqlite_floor(path: Path, seconds: float) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE e(idx INTEGER PRIMARY KEY, data BLOB)")
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO e VALUES (?, ?)", ((n + i, entry(n + i)) for i in range(BATCH)))
        db.execute("COMMIT")
        n += BATCH
    db.close()
    return n / (time.perf_counter() - start)


def raw_redis_floor(client: redis.Redis, seconds: float) -> float:
    script = client.register_script(
        "for i = 1, #ARGV do redis.call('APPEND', KEYS[1], ARGV[i]) end return 1"
    )
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        script(keys=[f"floor:{n // BATCH}"], args=[entry(n + i) for i in range(BATCH)])
        n += BATCH
    return n / (time.perf_counter() - start)


def fill_redis(store: RedisLogStore, n: int) -> None:
    store.open(SIGNER.name, SIGNER.verifier.public_key.raw)
    frontier, previous = EMPTY_FRONTIER, None
    for start in range(0, n, 16_384):
        batch = [entry(i) for i in range(start, min(n, start + 16_384))]
        store.append_entries(batch)
        frontier, runs = extend(frontier, leaf_hashes(batch))
        note = sign_checkpoint(Checkpoint(SIGNER.name, frontier.size, frontier.root()), SIGNER)
        store.integrate(previous, note.note, runs)
        previous = note.note


def anchored_acts(path: Path, seconds: float) -> float:
    """Credential records + their entries, 512 per transaction, into the log's file."""
    store = SqliteStore(path)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        records, anchors = [], []
        for _ in range(512):
            cid = f"urn:uuid:{uuid.uuid4()}"
            records.append(CredentialRecord(cid, bytes(32), "a", "did:key:za", "T", None, T0))
            anchors.append(Anchor(entry(n)))
            n += 1
        store.put_credentials(records, anchors)
    store.close()
    return n / (time.perf_counter() - start)


def proofs_at(store: SQLiteLogStore, path: Path, runs: int) -> dict[str, tuple[float, float]]:
    """p50/p99 through the read path at the signed tree size."""
    reader = LogReader(store, SIGNER.verifier)
    n = reader.checkpoint().checkpoint.size
    rnd = random.Random(3)
    for _ in range(4 * runs):  # warm the upper levels' cache, as a running service has it
        reader.inclusion_proof(rnd.randrange(n), n)
    db = sqlite3.connect(path)
    chunk_ids = [rnd.randrange(max(1, n // 256)) for _ in range(runs)]
    it = iter(chunk_ids * 2)
    select = percentiles(
        lambda: db.execute("SELECT hashes FROM log_tiles WHERE id = ?", (next(it),)).fetchone(),
        runs,
    )
    db.close()
    return {
        "one SQLite SELECT (floor)": select,
        "inclusion": percentiles(lambda: reader.inclusion_proof(rnd.randrange(n), n), runs),
        "consistency": percentiles(lambda: reader.consistency_proof(rnd.randrange(1, n), n), runs),
    }


def memory_inclusion(n: int, runs: int) -> tuple[float, float]:
    tree = MerkleTree()
    for i in range(n):
        tree.append(entry(i))
    rnd = random.Random(4)
    return percentiles(lambda: tree.inclusion_proof(rnd.randrange(n), n), runs)


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                self.client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)

    def close(self) -> None:
        self.client.close()
        self.proc.kill()
        self.proc.wait()


def http_issue(seconds: int) -> dict[str, dict[str, float]]:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with server(workers=2) as url:
        agency = httpx.post(url + "/issuers", json={"name": "Bench"}, headers=admin).json()
        httpx.post(
            url + "/accreditations",
            headers=admin,
            json={
                "issuer": agency["id"],
                "types": ["ResidencePermitCredential"],
                "validUntil": "2099-01-01T00:00:00Z",
            },
        ).raise_for_status()
        body = json.dumps(
            {
                "credential": {
                    "@context": ["https://www.w3.org/ns/credentials/v2"],
                    "type": ["VerifiableCredential", "ResidencePermitCredential"],
                    "issuer": agency["did"],
                    "validFrom": "2026-01-01T00:00:00Z",
                    "credentialSubject": {
                        "id": "did:example:c",
                        "fullName": "Li Lei",
                        "dateOfBirth": "1990-02-03",
                        "residenceAddress": "Xuhui",
                        "permitNumber": "SH2026001",
                    },
                }
            }
        )
        auth = {"Authorization": f"Bearer {agency['apiKey']}"}
        common = {"connections": 32, "seconds": seconds}
        bare = wrk(url + "/health/live", **common)
        issued = wrk(url + "/credentials/issue", method="POST", body=body, headers=auth, **common)
        return {"bare /health/live": bare, "issue (atomic anchoring)": issued}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    sqlite_sizes = [10_000, 100_000] if args.quick else [10_000, 1_000_000, 10_000_000]
    redis_sizes = [10_000, 100_000] if args.quick else [10_000, 1_000_000]
    seconds, runs = (2.0, 2000) if args.quick else (4.0, 5000)
    with tempfile.TemporaryDirectory(dir=Path.home()) as tmp_name:
        tmp = Path(tmp_name)
        floor = raw_sqlite_floor(tmp / "floor.db", seconds)
        print(f"raw SQLite floor (executemany {BATCH}/commit, FULL): {floor:,.0f} rows/s")
        for n in sqlite_sizes:
            path = tmp / f"log{n}.sqlite3"
            t = time.perf_counter()
            build_sqlite(path, n).close()
            built = time.perf_counter() - t
            got = asyncio.run(durable(SQLiteLogStore(path), 4096, seconds, BATCH))
            acts = anchored_acts(path, seconds)
            store = SQLiteLogStore(path)
            lat = proofs_at(store, path, runs)
            store.close()
            print(f"SQLite log at {n:,} entries (built in {built:.0f}s):")
            print(
                f"  durable appends (sequencer, 4096 submitters): {got:,.0f}/s "
                f"= {got / floor:.2f} x raw floor"
            )
            print(
                f"  anchored acts (record + entry, 512/commit):  {acts:,.0f}/s "
                f"= {acts / floor:.2f} x raw floor"
            )
            for name, (p50, p99) in lat.items():
                print(f"  {name:<28} p50 {p50:7.1f} us   p99 {p99:7.1f} us")
            path.unlink()
        mem = memory_inclusion(100_000 if args.quick else 1_000_000, runs)
        print(f"in-memory tree inclusion (reference): p50 {mem[0]:.1f} us, p99 {mem[1]:.1f} us")
        if shutil.which("redis-server"):
            private = PrivateRedis(tmp)
            try:
                rfloor = raw_redis_floor(private.client, seconds)
                print(f"raw Redis floor (appendfsync always, {BATCH}/script): {rfloor:,.0f}/s")
                for n in redis_sizes:
                    prefix = f"bench{n}:"
                    fill_redis(RedisLogStore(private.client, prefix), n)
                    got = asyncio.run(
                        durable(RedisLogStore(private.client, prefix), 4096, seconds, BATCH)
                    )
                    print(
                        f"Redis log at {n:,}: durable appends {got:,.0f}/s "
                        f"= {got / rfloor:.2f} x raw floor"
                    )
            finally:
                private.close()
        if not args.no_http:
            for name, r in http_issue(5 if args.quick else 10).items():
                print(
                    f"HTTP {name}: {r['rps']:,.0f} req/s, p50 {r['p50_ms']:.1f} ms, "
                    f"p99 {r['p99_ms']:.1f} ms, non-2xx {r['errors']:.0f}"
                )


if __name__ == "__main__":
    main()
