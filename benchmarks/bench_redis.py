"""Issue 5 targets: the Redis deployment against the SQLite default, in one run.

    .venv/bin/python benchmarks/bench_redis.py [--seconds N]

Floor: ``redis-benchmark`` PING round trips on the same Redis. Then issue requests/s
(wrk, 32 connections per replica) with the SQLite default (one replica, 2 workers), and
on Redis with 1 and 2 replicas (each ``identity serve --workers 1``; a replica is a
process; the two are loaded at once and their rates added). Target: Redis loses less
than 30 % of the SQLite default's issue throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import uuid
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_credentials import permit
from benchmarks.harness import accredited_agency, server, table, wrk_each

REDIS_URL = "redis://127.0.0.1:6379/14"


def redis_floor() -> float:
    out = subprocess.run(
        [
            "redis-benchmark",
            "-h",
            "127.0.0.1",
            "-p",
            "6379",
            "-t",
            "ping",
            "-n",
            "100000",
            "-c",
            "32",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"PING_MBULK: ([\d.]+) requests per second", out) or re.search(
        r"([\d.]+) requests per second", out
    )
    return float(match.group(1)) if match else 0.0


def prepare(url: str, name: str) -> tuple[str, dict[str, str]]:
    agency = accredited_agency(url, name)
    body = json.dumps({"credential": permit(agency["did"])})
    return body, {"Authorization": f"Bearer {agency['apiKey']}"}


def load(urls: list[str], seconds: int) -> dict[str, float]:
    """wrk every replica at once; add the rates."""
    body, auth = prepare(urls[0], f"Bench {uuid.uuid4().hex[:6]}")
    results = wrk_each(
        urls, "/credentials/issue", body=body, headers=auth, connections=32, seconds=seconds
    )
    return {
        "rps": sum(r["rps"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
    }


async def log_appends(submitters: int, seconds: float, prefix: str) -> float:
    """Durable appends/s through the sequencer into Redis (group commit, one Lua call per batch)."""
    from benchmarks.bench_log import durable
    from identity.storage.redis_log import RedisLogStore

    store = RedisLogStore.from_url(REDIS_URL, prefix + f"log{submitters}:")
    return await durable(store, submitters, seconds, 4096)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    floor = redis_floor()
    import redis as redis_client

    config = redis_client.Redis.from_url(REDIS_URL).config_get("append*")
    aof = f"appendonly={config.get('appendonly')} appendfsync={config.get('appendfsync')}"
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    appends = {n: asyncio.run(log_appends(n, 3.0, prefix)) for n in (1, 16, 256, 4096)}
    with server(workers=2) as url:
        sqlite = load([url], args.seconds)
    env = {
        "IDENTITY_STORAGE_URL": REDIS_URL,
        "IDENTITY_REDIS_PREFIX": prefix,
        "IDENTITY_MASTER_SECRET": "ab" * 32,
    }
    with server(workers=1, env=env) as url:
        one = load([url], args.seconds)
    with ExitStack() as stack:
        urls = [stack.enter_context(server(workers=1, env=env)) for _ in range(2)]
        two = load(urls, args.seconds)
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=prefix + "*", count=1000):
        client.delete(key)
    print("Redis deployment vs the SQLite default (issue, registered type, wrk)")
    table(
        [
            ("redis-benchmark PING (floor)", f"{floor:,.0f}/s", f"32 clients; {aof}"),
            (
                "SQLite default, 1 replica x 2 workers",
                f"{sqlite['rps']:,.0f}/s",
                f"p99 {sqlite['p99_ms']:.0f} ms, non-2xx {sqlite['errors']:.0f}",
            ),
            (
                "Redis, 1 replica x 1 worker",
                f"{one['rps']:,.0f}/s",
                f"{one['rps'] / sqlite['rps']:.0%} of SQLite; non-2xx {one['errors']:.0f}",
            ),
            (
                "Redis, 2 replicas x 1 worker",
                f"{two['rps']:,.0f}/s",
                f"{two['rps'] / sqlite['rps']:.0%} of SQLite (target >= 70 %); "
                f"non-2xx {two['errors']:.0f}",
            ),
            *[
                (
                    f"log appends via Redis, {n} submitters",
                    f"{r:,.0f}/s",
                    "durable as Redis' AOF is configured; target >= 50,000/s batched",
                )
                for n, r in appends.items()
            ],
        ]
    )


if __name__ == "__main__":
    main()
