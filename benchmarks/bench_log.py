"""The transparency log's figures (issue #12), each beside its floor from the same run.

    .venv/bin/python -m benchmarks.bench_log [--quick] [--fixtures DIR] [--rebuild]
                                             [--rounds N] [--no-redis] [--no-http]
                                             [--loop auto|asyncio|uvloop]

* **Floors**: raw SQLite (``executemany`` of 4,096 entries per ``synchronous=FULL``
  commit), raw Redis (``APPEND`` of 4,096 entries per script call on a private
  ``redis-server`` with ``appendfsync always``), one SQLite ``SELECT`` of a stored chunk,
  and hashlib SHA-256.
* **Durable appends/s** (and the process's CPU µs per append, all threads: the figure
  the machine's load moves least) through the sequencer (4,096 submitters, group commit, the
  integrator running beside it) into a log that already holds 10⁴, 10⁶ and 10⁷ entries
  on SQLite (10⁴ and 10⁶ on Redis); the same through ``append_many`` (512 callers of
  8 entries each: one await per call instead of per entry); and **anchored acts/s**
  (credential records and their entries in one transaction, 512 per commit), each
  interleaved with its raw floor.
* **Proof p50/p99 through the service's read path**: :class:`LogReader`, which
  ``GET /log/proofs/*`` calls and which verifies every proof against the signed root
  before serving it -- inclusion at a given tree size (as the route calls it:
  ``inclusion_proof`` then ``root``), inclusion at the latest size (one more read of the
  stored checkpoint) and consistency -- sampled in turn with the ``SELECT`` floor.
* **Issue throughput over HTTP** (``identity serve``, 2 workers, SQLite, atomic
  anchoring, ``wrk``) beside ``GET /health/live`` on the same server, in turns.
* Reference: the in-memory tree, pymerkle (if installed), SQLite bytes per entry.

The sequencer runs on the event loop the service runs on: ``--loop auto`` (default) is
uvloop when installed -- what ``uvicorn[standard]`` picks for ``identity serve`` -- else
asyncio's own; ``--loop asyncio`` measures the pure-Python loop (about twice the cost of
waking an appender).

The logs are bulk-built once (65,536 entries per transaction; the 10⁷ one takes a few
minutes) and kept in ``--fixtures`` (default ``/tmp/identity-bench-log``, never the
repository); ``--rebuild`` builds them again. Appends go to a copy, so a kept log stays at
its size. ``--quick`` stops at 10⁵ (about two minutes). Other engineers load the machine:
read the ratios, which are taken in turns (A, B, A, B …; medians).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script too

from benchmarks.harness import accredited_agency, redis_server, server, wrk
from identity.keys import Ed25519PrivateKey
from identity.log.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
from identity.log.reader import LogReader
from identity.log.sequencer import TransparencyLog
from identity.log.store import LogStore
from identity.log.tree import EMPTY_FRONTIER, MerkleTree, extend, leaf_hashes
from identity.storage.redis_log import RedisLogStore
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_log import SQLiteLogStore
from identity.stores import Anchor, CredentialRecord

SIGNER = NoteSigner("bench.example/log", Ed25519PrivateKey(bytes(range(32))))
ENTRY = 64  # bytes per benchmark entry (a JCS leaf of digests is ~150-250 bytes)
BATCH = 4096
SUBMITTERS = 4096
MANY_CALLERS, MANY = 512, 8  # append_many: callers x entries per call
FIXTURE_VERSION = 2  # bump when the SQLite layout changes (v2: slot-row leaf index)
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def entry(i: int) -> bytes:
    return i.to_bytes(8, "big") * (ENTRY // 8)


def percentiles(samples: list[int]) -> tuple[float, float]:
    """p50 and p99 in microseconds of nanosecond samples."""
    ordered = sorted(samples)
    return statistics.median(ordered) / 1000, ordered[int(len(ordered) * 0.99)] / 1000


def timed(fn: Callable[[], object]) -> int:
    t = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - t


# -- fixtures -------------------------------------------------------------------------


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


def fixture(folder: Path, n: int, rebuild: bool) -> Path:
    """The kept SQLite log of ``n`` entries, built (once) if absent."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"log-v{FIXTURE_VERSION}-{n}.sqlite3"
    if path.exists() and not rebuild:
        return path
    partial = path.with_suffix(".partial")
    for stale in (path, partial):
        stale.unlink(missing_ok=True)
    t = time.perf_counter()
    build_sqlite(partial, n).close()
    partial.rename(path)
    print(f"  (built the {n:,}-entry log in {time.perf_counter() - t:.0f} s: {path})", flush=True)
    return path


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


# -- floors ---------------------------------------------------------------------------


def raw_sqlite_floor(path: Path, seconds: float) -> float:
    path.unlink(missing_ok=True)
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
    path.unlink()
    return n / (time.perf_counter() - start)


def raw_redis_floor(client: redis.Redis, seconds: float) -> float:
    script = client.register_script(
        "for i = 1, #ARGV do redis.call('APPEND', KEYS[1], ARGV[i]) end return 1"
    )
    tag = uuid.uuid4().hex[:8]
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        script(keys=[f"floor:{tag}:{n // BATCH}"], args=[entry(n + i) for i in range(BATCH)])
        n += BATCH
    return n / (time.perf_counter() - start)


def run_on(loop: str, coro: Coroutine[Any, Any, float]) -> float:
    """Run ``coro`` on the event loop named ``loop`` (``uvloop`` or ``asyncio``)."""
    if loop == "uvloop":
        import uvloop

        return uvloop.run(coro)
    return asyncio.run(coro)


def default_loop() -> str:
    """uvloop when installed (uvicorn's ``loop="auto"`` choice for the service), else asyncio."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def hash_floor(n: int) -> float:
    data = [b"\x00" + entry(i) for i in range(n)]
    sha = hashlib.sha256
    t = time.perf_counter()
    for d in data:
        sha(d).digest()
    return n / (time.perf_counter() - t)


# -- the log's own figures --------------------------------------------------------------


async def durable(
    store: LogStore, submitters: int, seconds: float, max_batch: int, per_call: int = 1
) -> float:
    """Durable appends/s through the sequencer into ``store`` (closed afterwards):
    ``submitters`` callers of ``append`` (``per_call`` 1) or of ``append_many`` with
    ``per_call`` entries."""
    log = TransparencyLog(store, SIGNER, max_batch=max_batch, max_delay_ms=0.5)
    await log.start()
    count = 0
    stop_at = time.perf_counter() + seconds

    async def submit(w: int) -> None:
        nonlocal count
        i = 0
        while time.perf_counter() < stop_at:
            if per_call == 1:
                await log.append(entry(w << 32 | i))
            else:
                await log.append_many([entry(w << 32 | i + k) for k in range(per_call)])
            i += per_call
            count += per_call

    t, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(submit(w) for w in range(submitters)))
    elapsed = time.perf_counter() - t
    await log.stop()  # the rest integrated: its CPU counts too
    CPU_PER_APPEND.setdefault((id(store.__class__), submitters, per_call), []).append(
        (time.process_time() - cpu) / max(count, 1) * 1e6
    )
    store.close()
    return count / elapsed


CPU_PER_APPEND: dict[tuple[int, int, int], list[float]] = {}
"""Process CPU time (all threads, µs) per durable append of each :func:`durable` run, by
store class, submitters and entries per call: what the machine's load moves least."""


def cpu_us(store_class: type, submitters: int, per_call: int) -> str:
    """The median CPU µs per append of the runs so far with these parameters."""
    runs = CPU_PER_APPEND.pop((id(store_class), submitters, per_call), [])
    return f"{statistics.median(runs):.2f} us CPU/append" if runs else "n/a"


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


def proof_latencies(path: Path, runs: int, rounds: int) -> dict[str, tuple[float, float]]:
    """p50/p99 (us) through the service's read path, sampled in turn with the floor."""
    store = SQLiteLogStore(path)
    reader = LogReader(store, SIGNER.verifier)
    n = reader.checkpoint().checkpoint.size
    rnd = random.Random(3)
    for _ in range(min(4 * runs, 4 * n)):  # the upper levels cached, as a running service has
        reader.inclusion_proof(rnd.randrange(n), n)
    db = sqlite3.connect(path)
    chunks = max(1, n // 256)

    def select() -> None:
        db.execute("SELECT hashes FROM log_tiles WHERE id = ?", (rnd.randrange(chunks),)).fetchone()

    def inclusion() -> None:  # GET /log/proofs/inclusion?index=…&tree_size=…
        proof = reader.inclusion_proof(rnd.randrange(n), n)
        reader.root(proof.tree_size)

    def latest() -> None:  # GET /log/proofs/inclusion?index=… (the latest checkpoint)
        proof = reader.inclusion_proof(rnd.randrange(n))
        reader.root(proof.tree_size)

    def consistency() -> None:
        reader.consistency_proof(rnd.randrange(1, n), n)

    cases = {
        "one SQLite SELECT (floor)": select,
        "inclusion at a tree size": inclusion,
        "inclusion at the latest size": latest,
        "consistency": consistency,
    }
    samples: dict[str, list[int]] = {name: [] for name in cases}
    for _ in range(rounds * runs):
        for name, fn in cases.items():
            samples[name].append(timed(fn))
    db.close()
    store.close()
    return {name: percentiles(s) for name, s in samples.items()}


def in_turns(a: Callable[[], float], b: Callable[[], float], rounds: int) -> tuple[float, float]:
    """Medians of ``a`` and ``b`` run in turns (A, B, A, B …)."""
    xs, ys = [], []
    for _ in range(rounds):
        xs.append(a())
        ys.append(b())
    return statistics.median(xs), statistics.median(ys)


def sqlite_size(args: argparse.Namespace, tmp: Path, n: int, seconds: float, runs: int) -> None:
    kept = fixture(args.fixtures, n, args.rebuild)
    work = tmp / f"work-{n}.sqlite3"
    shutil.copy(kept, work)
    floor, got = in_turns(
        lambda: raw_sqlite_floor(tmp / "floor.sqlite3", seconds),
        lambda: run_on(args.loop, durable(SQLiteLogStore(work), SUBMITTERS, seconds, BATCH)),
        args.rounds,
    )
    floor_many, many = in_turns(
        lambda: raw_sqlite_floor(tmp / "floor.sqlite3", seconds),
        lambda: run_on(
            args.loop, durable(SQLiteLogStore(work), MANY_CALLERS, seconds, BATCH, MANY)
        ),
        args.rounds,
    )
    _, acts = in_turns(lambda: 0.0, lambda: anchored_acts(work, seconds), 1)
    work.unlink()
    lat = proof_latencies(kept, runs, args.rounds)
    print(f"SQLite log of {n:,} entries:")
    print(f"  raw SQLite floor (executemany {BATCH}/commit, FULL): {floor:,.0f} rows/s")
    print(f"  durable appends (sequencer, {SUBMITTERS} submitters, {args.loop}): {got:,.0f}/s "
          f"= {got / floor:.2f} x floor, {cpu_us(SQLiteLogStore, SUBMITTERS, 1)}")  # fmt: skip
    print(f"  durable appends (append_many, {MANY_CALLERS} x {MANY}, {args.loop}): {many:,.0f}/s "
          f"= {many / floor_many:.2f} x its floor of {floor_many:,.0f}, "
          f"{cpu_us(SQLiteLogStore, MANY_CALLERS, MANY)}")  # fmt: skip
    print(f"  anchored acts (record + entry, 512/commit):  {acts:,.0f}/s "
          f"= {acts / floor:.2f} x floor")  # fmt: skip
    select = lat["one SQLite SELECT (floor)"][0]
    for name, (p50, p99) in lat.items():
        ratio = "" if name.endswith("(floor)") else f"   p50 = {p50 / select:.1f} x SELECT"
        print(f"  {name:<30} p50 {p50:7.1f} us   p99 {p99:7.1f} us{ratio}")
    print(flush=True)


def redis_part(args: argparse.Namespace, sizes: list[int], seconds: float) -> None:
    directory = args.redis_dir / uuid.uuid4().hex[:8]
    with redis_server(directory, port=args.redis_port, appendfsync="always") as port:
        client = redis.Redis(port=port)
        for n in sizes:
            prefix = f"bench{n}:"
            fill_redis(RedisLogStore(client, prefix), n)
            floor, got = in_turns(
                lambda: raw_redis_floor(client, seconds),
                lambda p=prefix: run_on(  # type: ignore[misc]
                    args.loop, durable(RedisLogStore(client, p), SUBMITTERS, seconds, BATCH)
                ),
                args.rounds,
            )
            floor_many, many = in_turns(
                lambda: raw_redis_floor(client, seconds),
                lambda p=prefix: run_on(  # type: ignore[misc]
                    args.loop,
                    durable(RedisLogStore(client, p), MANY_CALLERS, seconds, BATCH, MANY),
                ),
                args.rounds,
            )
            print(f"Redis log of {n:,} entries (appendfsync always):")
            print(f"  raw Redis floor (APPEND, {BATCH}/script): {floor:,.0f}/s")
            print(f"  durable appends (sequencer, {SUBMITTERS} submitters, {args.loop}): "
                  f"{got:,.0f}/s = {got / floor:.2f} x floor, "
                  f"{cpu_us(RedisLogStore, SUBMITTERS, 1)}")  # fmt: skip
            print(f"  durable appends (append_many, {MANY_CALLERS} x {MANY}, {args.loop}): "
                  f"{many:,.0f}/s = {many / floor_many:.2f} x its floor of {floor_many:,.0f}, "
                  f"{cpu_us(RedisLogStore, MANY_CALLERS, MANY)}", flush=True)  # fmt: skip
        client.close()
    shutil.rmtree(directory, ignore_errors=True)


def http_issue(seconds: int, rounds: int, port: int | None) -> None:
    with server(workers=2, port=port) as url:
        agency = accredited_agency(url, "Bench")
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
        bare: list[dict[str, float]] = []
        issued: list[dict[str, float]] = []
        for _ in range(rounds):
            bare.append(wrk(url + "/health/live", **common))
            issued.append(
                wrk(url + "/credentials/issue", method="POST", body=body, headers=auth, **common)
            )
    for name, results in (("GET /health/live (floor)", bare), ("issue, atomic anchoring", issued)):
        rps = statistics.median(r["rps"] for r in results)
        p50 = statistics.median(r["p50_ms"] for r in results)
        p99 = statistics.median(r["p99_ms"] for r in results)
        errors = sum(r["errors"] for r in results)
        print(f"HTTP {name:<26} {rps:8,.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
              f"non-2xx {errors:.0f}")  # fmt: skip
    ratio = statistics.median(r["rps"] for r in issued) / statistics.median(r["rps"] for r in bare)
    print(f"  issue = {ratio:.2f} x /health/live", flush=True)


def reference(n: int, runs: int, largest: Path | None) -> None:
    floor = hash_floor(min(n, 1_000_000))
    tree = MerkleTree()
    t = time.perf_counter()
    for i in range(n):
        tree.append(entry(i))
    appends = n / (time.perf_counter() - t)
    rnd = random.Random(4)
    mem = percentiles(
        [timed(lambda: tree.inclusion_proof(rnd.randrange(n), n)) for _ in range(runs)]
    )
    print(f"Reference: hashlib SHA-256 {floor:,.0f}/s; in-memory tree of {n:,}: appends "
          f"{appends:,.0f}/s ({appends / floor:.2f} x SHA-256), inclusion p50 {mem[0]:.1f} us, "
          f"p99 {mem[1]:.1f} us (no verification)")  # fmt: skip
    try:
        from pymerkle import InmemoryTree
    except ImportError:
        print("  pymerkle not installed (pip install -e '.[bench]'): no comparison")
    else:
        small = 20_000
        pm = InmemoryTree(algorithm="sha256")
        t = time.perf_counter()
        for i in range(small):
            pm.append_entry(entry(i))
        pm_rate = small / (time.perf_counter() - t)
        pm_inc = percentiles(
            [
                timed(lambda: pm.prove_inclusion(rnd.randrange(1, small + 1), small))
                for _ in range(500)
            ]
        )
        print(f"  pymerkle InmemoryTree ({small:,}): appends {pm_rate:,.0f}/s, inclusion p50 "
              f"{pm_inc[0]:.1f} us; ours append {appends / pm_rate:.1f}x faster")  # fmt: skip
    if largest is not None:
        db = sqlite3.connect(largest)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        page = db.execute("PRAGMA page_size").fetchone()[0]
        size = int(largest.stem.rsplit("-", 1)[1])
        db.close()
        print(f"  SQLite file beyond the {ENTRY}-byte entries at {size:,}: "
              f"{(pages * page - size * ENTRY) / size:.1f} bytes/entry")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 only (~2 min)")
    parser.add_argument("--fixtures", type=Path, default=Path("/tmp/identity-bench-log"))
    parser.add_argument("--rebuild", action="store_true", help="build the kept logs again")
    parser.add_argument("--rounds", type=int, default=None, help="turns per A/B figure")
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--redis-port", type=int, default=None)
    parser.add_argument(
        "--redis-dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-redis"
    )
    parser.add_argument("--http-port", type=int, default=None)
    parser.add_argument(
        "--loop", choices=["auto", "asyncio", "uvloop"], default="auto",
        help="the sequencer's event loop (auto: uvloop if installed, as the service)",
    )  # fmt: skip
    args = parser.parse_args()
    quick = args.quick
    sizes = [10_000, 100_000] if quick else [10_000, 1_000_000, 10_000_000]
    redis_sizes = [10_000, 100_000] if quick else [10_000, 1_000_000]
    seconds, runs = (2.0, 1000) if quick else (4.0, 2000)
    args.rounds = args.rounds or (2 if quick else 3)
    if args.loop == "auto":
        args.loop = default_loop()
    with tempfile.TemporaryDirectory(dir=args.fixtures.parent) as tmp_name:
        tmp = Path(tmp_name)
        for n in sizes:
            sqlite_size(args, tmp, n, seconds, runs)
    if not args.no_redis:
        redis_part(args, redis_sizes, seconds)
    if not args.no_http:
        http_issue(5 if quick else 10, args.rounds, args.http_port)
    largest = args.fixtures / f"log-v{FIXTURE_VERSION}-{sizes[-1]}.sqlite3"
    reference(100_000 if quick else 1_000_000, runs, largest if largest.exists() else None)


if __name__ == "__main__":
    main()
