"""Issue #16 item 4: the capacity figures of docs/scaling.md, measured in one run.

    .venv/bin/python benchmarks/bench_capacity.py [--seconds 3] [--loads 4,16,48]
        [--replicas 3] [--records 100000] [--leaves 1000000] [--plot docs/images/capacity.png]

Starts its own servers (ports 7200-7202 a 3-master Redis Cluster, 7210 a single Redis,
API replicas on 9900-9909), all stopped at the end, and measures:

1. **HTTP per added API replica** on the cluster: 1, 2, ... ``--replicas`` ``identity
   serve --workers 1`` processes (one core each at most) sharing the cluster, driven by
   one wrk per replica at each total load of ``--loads`` connections; issuance
   (``POST /credentials/issue``) and verification (``POST /credentials/verify``, every
   check). Throughput (2xx/s) and p50/p99 latency per point, and the PNG plot.
2. **Backends side by side**, same run, interleaved: SQLite (one replica: one file),
   single Redis and the cluster (one and two replicas), issue and verify at the middle
   load, the ratio to SQLite beside each.
3. **Log append rate** through the sequencer (the service's path) on the cluster and on
   the single Redis, and memory per **integrated log leaf** at ``--leaves`` entries of
   credential.issued size (tiles, entry bundles, leaf index), on the log's master.
4. **Memory per credential record** (record, digest and subject indexes, bucket id set;
   spread over every master) at ``--records``, summed over the masters.

The machine has 2 cores shared by every process here (wrk, the replicas, the Redis
nodes) and by other engineers' runs: absolute figures swing, ratios and the shape of the
curve are what it can show.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_credentials import permit
from benchmarks.bench_log import durable
from benchmarks.cluster_memory import record
from benchmarks.harness import accredited_agency, redis_server, server, wrk_each
from identity.keys import Ed25519PrivateKey
from identity.log.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
from identity.log.tree import EMPTY_FRONTIER, extend, leaf_hashes
from identity.storage.redis import RedisStore
from identity.storage.redis_cluster import key_prefix
from identity.storage.redis_durable_log import DurableRedisLogStore
from identity.storage.redis_log import RedisLogStore
from tests.cluster.servers import LocalCluster

CLUSTER_PORT, SINGLE_PORT, API_PORT = 7200, 7210, 9900
SECRET = "cd" * 32
ADMIN = "bench-admin-token-" + "x" * 32


def _env(storage_url: str | None, prefix: str) -> dict[str, str]:
    env = {
        "IDENTITY_MASTER_SECRET": SECRET,
        "IDENTITY_ADMIN_TOKEN": ADMIN,
        "IDENTITY_REDIS_PREFIX": prefix,
        "IDENTITY_PUBLIC_URL": "https://identity.example",
        "IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "100000000",
    }
    if storage_url:
        env["IDENTITY_STORAGE_URL"] = storage_url
    return env


@contextlib.contextmanager
def replicas(storage_url: str | None, prefix: str, count: int) -> Iterator[list[str]]:
    """``count`` API replicas (``identity serve --workers 1``) on one store."""
    with contextlib.ExitStack() as stack:
        urls = [
            stack.enter_context(server(workers=1, env=_env(storage_url, prefix), port=API_PORT + i))
            for i in range(count)
        ]
        yield urls


def bodies(url: str) -> dict[str, tuple[str, str, dict[str, str]]]:
    """The issue and verify requests (path, body, headers) against the service at ``url``."""
    agency = accredited_agency(url, admin_token=ADMIN)
    issue = json.dumps(
        {"credential": permit(agency["did"]), "options": {"cryptosuite": "eddsa-jcs-2022"}}
    )
    headers = {"Authorization": f"Bearer {agency['apiKey']}", "Content-Type": "application/json"}
    issued = httpx.post(url + "/credentials/issue", content=issue, headers=headers, timeout=30)
    issued.raise_for_status()
    verify = json.dumps({"verifiableCredential": issued.json()["verifiableCredential"]})
    return {
        "issue": ("/credentials/issue", issue, headers),
        "verify": ("/credentials/verify", verify, {"Content-Type": "application/json"}),
    }


def drive(
    urls: list[str], request: tuple[str, str, dict[str, str]], load: int, seconds: int
) -> dict[str, float]:
    """One wrk per replica at once, ``load`` connections in all: total 2xx/s, the median
    p50 and the worst p99 of the replicas."""
    path, body, headers = request
    per = max(1, load // len(urls))
    results = wrk_each(urls, path, body=body, headers=headers, connections=per, seconds=seconds)
    for out in results:
        out["rps"] = max(out["rps"] - out["errors"] / seconds, 0.0)
    return {
        "rps": sum(r["rps"] for r in results),
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
        "errors": sum(r["errors"] for r in results),
    }


def scaling_curve(cluster: LocalCluster, args: argparse.Namespace) -> dict[str, Any]:
    """Part 1: throughput and latency per added replica at each load. ``--replicas``
    replicas run throughout; a point drives the first 1, 2, ... of them (an idle replica
    costs no CPU), the replica counts interleaved (ascending, then descending) for
    ``--rounds`` rounds, the median of the rounds per point."""
    curve: dict[str, Any] = {"issue": {}, "verify": {}}
    samples: dict[tuple[str, int, int], list[dict[str, float]]] = {}
    counts = list(range(1, args.replicas + 1))
    with replicas(cluster.url, "curve:", args.replicas) as urls:
        requests = bodies(urls[0])
        for kind in ("verify", "issue"):
            drive(urls, requests[kind], args.loads[-1], 1)  # warm caches and pools
        for r in range(args.rounds):
            for count in counts if r % 2 == 0 else reversed(counts):
                for kind in ("verify", "issue"):
                    for load in args.loads:
                        point = drive(urls[:count], requests[kind], load, args.seconds)
                        samples.setdefault((kind, count, load), []).append(point)
    for (kind, count, load), points in sorted(samples.items()):
        point = {k: statistics.median(p[k] for p in points) for k in points[0]}
        curve[kind].setdefault(count, []).append((load, point))
        print(f"  {kind:6} replicas={count} load={load:3}  {point['rps']:7.0f}/s  "
              f"p50 {point['p50_ms']:6.1f} ms  p99 {point['p99_ms']:6.1f} ms  "
              f"errors {point['errors']:.0f}")  # fmt: skip
    return curve


def backends(cluster: LocalCluster, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Part 2: issue and verify on SQLite, single Redis and the cluster, interleaved."""
    load = args.loads[len(args.loads) // 2]
    setups = [
        ("sqlite, 1 replica", None, 1),
        ("redis, 1 replica", f"redis://127.0.0.1:{SINGLE_PORT}/0", 1),
        ("cluster, 1 replica", cluster.url, 1),
        ("redis, 2 replicas", f"redis://127.0.0.1:{SINGLE_PORT}/0", 2),
        ("cluster, 2 replicas", cluster.url, 2),
    ]
    rounds: dict[str, dict[str, list[float]]] = {}
    for r in range(args.rounds):
        for name, url, count in setups if r % 2 == 0 else reversed(setups):
            with replicas(url, f"cmp{r}{count}:", count) as urls:
                requests = bodies(urls[0])
                for kind in ("verify", "issue"):
                    drive(urls, requests[kind], load, 1)
                    point = drive(urls, requests[kind], load, args.seconds)
                    rounds.setdefault(name, {}).setdefault(kind, []).append(point["rps"])
    out = {n: {k: statistics.median(v) for k, v in kinds.items()} for n, kinds in rounds.items()}
    base = out["sqlite, 1 replica"]
    print(f"\n2. backends, {load} connections, median of {args.rounds} interleaved rounds")
    for name, kinds in out.items():
        issue, verify = kinds["issue"], kinds["verify"]
        print(f"  {name:20} issue {issue:7.0f}/s ({issue / base['issue']:.2f}x sqlite)"
              f"  verify {verify:7.0f}/s ({verify / base['verify']:.2f}x sqlite)")  # fmt: skip
    return out


SIGNER = NoteSigner("bench.example/log", Ed25519PrivateKey(bytes(range(32))))


def log_figures(cluster: LocalCluster, args: argparse.Namespace) -> dict[str, float]:
    """Part 3: appends/s through the sequencer (cluster vs single), memory per leaf."""
    figures: dict[str, float] = {}
    client = cluster.client()
    single = redis.Redis(port=SINGLE_PORT)
    rates: dict[str, list[float]] = {"cluster": [], "single": []}
    for r in range(args.rounds):
        for name in ("cluster", "single") if r % 2 == 0 else ("single", "cluster"):
            store = (
                DurableRedisLogStore(client, f"append{r}:")
                if name == "cluster"
                else RedisLogStore(single, f"append{r}:")
            )
            rates[name].append(asyncio.run(durable(store, 256, args.seconds, 4096)))
    figures["append_cluster"] = statistics.median(rates["cluster"])
    figures["append_single"] = statistics.median(rates["single"])
    prefix = "leaves:"
    master = redis.Redis(port=cluster.master_of(key_prefix(client, prefix) + "log:size"))
    before = int(master.info("memory")["used_memory"])
    store = RedisLogStore(client, prefix)  # type: ignore[arg-type]
    store.open(SIGNER.name, SIGNER.verifier.public_key.raw)
    frontier, previous = EMPTY_FRONTIER, None
    for start in range(0, args.leaves, 16_384):
        batch = [record(n)[1].entry for n in range(start, min(args.leaves, start + 16_384))]
        store.append_entries(batch)
        frontier, runs = extend(frontier, leaf_hashes(batch))
        note = sign_checkpoint(Checkpoint(SIGNER.name, frontier.size, frontier.root()), SIGNER)
        store.integrate(previous, note.note, runs)
        previous = note.note
    figures["entry_bytes"] = float(len(record(0)[1].entry))
    figures["bytes_per_leaf"] = (int(master.info("memory")["used_memory"]) - before) / args.leaves
    print(f"\n3. log: {figures['append_cluster']:.0f} appends/s on the cluster, "
          f"{figures['append_single']:.0f} on a single Redis "
          f"({figures['append_cluster'] / figures['append_single']:.2f}x); "
          f"{figures['bytes_per_leaf']:.0f} bytes per integrated leaf at {args.leaves} leaves "
          f"(entries of {figures['entry_bytes']:.0f} bytes)")  # fmt: skip
    client.close()
    return figures


def record_memory(cluster: LocalCluster, args: argparse.Namespace) -> dict[str, Any]:
    """Part 4: bytes per credential record over every master, and the spread."""
    client = cluster.client()
    masters = [redis.Redis(port=p) for p in cluster.ports]
    before = [int(m.info("memory")["used_memory"]) for m in masters]
    keys_before = [m.dbsize() for m in masters]
    store = RedisStore(client, "records:")
    began = time.perf_counter()
    for at in range(0, args.records, 100):
        made = [record(n) for n in range(at, min(args.records, at + 100))]
        store.put_credentials([r for r, _ in made], [None] * len(made))
    rate = args.records / (time.perf_counter() - began)
    grown = [int(m.info("memory")["used_memory"]) - b for m, b in zip(masters, before, strict=True)]
    keys = [m.dbsize() - k for m, k in zip(masters, keys_before, strict=True)]
    each = sum(grown) / args.records
    print(f"\n4. {args.records} credential records: {each:.0f} bytes each over the masters; "
          f"keys per master {keys}; {rate:.0f} records/s (batches of 100)")  # fmt: skip
    client.close()
    return {"bytes_per_record": sum(grown) / args.records, "keys": keys, "write_rate": rate}


def plot(curve: dict[str, Any], path: Path) -> None:
    """Throughput and p99 against load, one line per replica count, issue and verify."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    for col, kind in enumerate(("verify", "issue")):
        for count, points in sorted(curve[kind].items()):
            loads = [p[0] for p in points]
            axes[0][col].plot(
                loads, [p[1]["rps"] for p in points], "o-", label=f"{count} replica(s)"
            )
            axes[1][col].plot(
                loads, [p[1]["p99_ms"] for p in points], "o-", label=f"{count} replica(s)"
            )
        axes[0][col].set_title(f"{kind}: throughput (2xx/s) on the 3-master cluster")
        axes[1][col].set_title(f"{kind}: p99 latency (ms)")
        for row in (0, 1):
            axes[row][col].set_xlabel("concurrent connections (all replicas)")
            axes[row][col].grid(alpha=0.3)
            axes[row][col].legend()
    fig.suptitle(f"API replicas on one machine ({os.cpu_count()} cores shared by wrk, the "
                 "replicas, 3 Redis masters, other runs); medians, interleaved")  # fmt: skip
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    print(f"\nplot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--loads", type=lambda s: [int(x) for x in s.split(",")], default=[4, 16, 48]
    )
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--plot", type=Path, default=Path("docs/images/capacity.png"))
    parser.add_argument("--json", type=Path, default=Path(tempfile.gettempdir()) / "capacity.json")
    parser.add_argument("--skip", default="", help="parts to skip: curve,backends,log,records")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    cluster = LocalCluster(CLUSTER_PORT).start()
    results: dict[str, Any] = {"load_average_start": os.getloadavg()}
    try:
        with redis_server(
            Path(tempfile.mkdtemp(prefix="capacity-redis-")), SINGLE_PORT, "everysec"
        ):
            if "curve" not in skip:
                print("1. per added API replica (cluster)")
                results["curve"] = curve = scaling_curve(cluster, args)
                plot(curve, args.plot)
            if "backends" not in skip:
                results["backends"] = backends(cluster, args)
            if "log" not in skip:
                results["log"] = log_figures(cluster, args)
            if "records" not in skip:
                results["records"] = record_memory(cluster, args)
    finally:
        cluster.stop()
    results["load_average_end"] = os.getloadavg()
    args.json.write_text(json.dumps(results, indent=1, default=str))
    print(
        f"load average {results['load_average_start']} -> {results['load_average_end']}; "
        f"figures in {args.json}"
    )


if __name__ == "__main__":
    main()
