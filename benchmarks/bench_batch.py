"""Issue #15, batch part: ``POST /credentials/verify/batch`` against raw PyNaCl verify.

    .venv/bin/python benchmarks/bench_batch.py [--rounds 3] [--seconds 6] [--pool 1000]
        [--agencies 40] [--memory 0] [--port-base 9300] [--before-src /tmp/before]
        [--redis redis://127.0.0.1:6379/N]

One command, one run. The service (``identity serve --workers 2``, SQLite store -- or
Redis with ``--redis`` --, every check: proof, issuer, validity, status, trust, anchor)
verifies batches of ``--pool``
eddsa-jcs-2022 credentials from ``--agencies`` accredited agencies, two clients at
once so both workers are busy -- two client *processes* (the figure the target is
judged on) and, for comparison, two threads of this process (the earlier client, which
the GIL could make the bottleneck); interleaved with it (A, B, A, B, ... for ``--rounds``
rounds), raw PyNaCl ``crypto_sign_open`` in two processes (both cores) -- the baseline
issue #15 names. Medians of the rounds, the load average beside each figure (other
engineers share this 2-core machine: the ratio is what counts), one client's rate as
well (what a single caller gets), then the target line: batch >= 50 % of raw on both
cores, met or not met.

``--before-src TREE`` serves that source tree too (``PYTHONPATH``; e.g. ``git archive
main``), its own project, interleaved with this checkout in the same rounds.

``--memory N`` then sends N *distinct* credentials (signed here by did:key agencies, in
batches of 1,000) and prints each worker's RSS before and after (issue #15's target:
<= 150 MiB per worker after 10^6; ``--memory 1000000`` takes a long time on a shared
machine).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import secrets
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_perf import (
    TARGETS,
    batch_rate,
    interleave,
    load,
    memory,
    raw_verify_both_cores,
    setup_project,
    target,
)
from benchmarks.harness import server, table


def _client_process(args: tuple[str, bytes, dict[str, str], float]) -> tuple[int, float]:
    """One client process: batches until the deadline (the last one finishes); returns
    (batches, the moment the last answer arrived)."""
    url, body, headers, deadline = args
    done = 0
    with httpx.Client(timeout=120) as http:
        while time.time() < deadline:
            response = http.post(
                url + "/credentials/verify/batch",
                content=body,
                headers={**headers, "Content-Type": "application/json", "Connection": "close"},
            )
            response.raise_for_status()
            done += 1
    return done, time.time()


def process_clients_rate(
    url: str, body: bytes, items: int, headers: dict[str, str], seconds: float, clients: int = 2
) -> float:
    """Credentials/s with ``clients`` client *processes* (each batch on a new connection,
    so both workers get one): the client is not the bottleneck as one process's threads
    under the GIL were. Every batch started is counted, the time up to the last answer."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        pool.map(abs, range(clients))  # the processes are up before the clock starts
        start = time.time()
        got = pool.map(_client_process, [(url, body, headers, start + seconds)] * clients)
    batches = sum(n for n, _ in got)
    return batches * items / (max(end for _, end in got) - start)


def check_answers(url: str, body: bytes, items: int, headers: dict[str, str]) -> None:
    """Every credential of the benchmark batch verifies (a fast wrong answer is no figure)."""
    response = httpx.post(
        url + "/credentials/verify/batch",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=120,
    )
    response.raise_for_status()
    answer = orjson.loads(response.content)
    if answer["verifiedCount"] != items:
        failed = next(r for r in answer["results"] if not r["verified"])
        raise SystemExit(f"the benchmark batch does not verify: {failed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--pool", type=int, default=1000)
    parser.add_argument("--agencies", type=int, default=40)
    parser.add_argument("--memory", type=int, default=0, help="distinct credentials; 0: skip")
    parser.add_argument("--port-base", type=int, default=9300)
    parser.add_argument(
        "--before-src", type=Path, help="also serve this source tree (PYTHONPATH), same run"
    )
    parser.add_argument(
        "--redis", metavar="URL", help="the services on this Redis (own random prefixes)"
    )
    args = parser.parse_args()
    print(f"bench_batch: {args.rounds} rounds, interleaved, medians; {load()}")
    env = {"IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "100000000"}
    stores: dict[str, dict[str, str]] = {"after": {}, "before": {}}
    if args.redis:  # keys under batch-<tag>-a: / -b:, left for the operator to drop
        tag = secrets.token_hex(4)
        for tree, end in (("after", "a"), ("before", "b")):
            prefix = f"batch-{tag}-{end}:"
            stores[tree] = {"IDENTITY_STORAGE_URL": args.redis, "IDENTITY_REDIS_PREFIX": prefix}
    with contextlib.ExitStack() as stack:
        after_env = {**env, **stores["after"]}
        urls = {"after": stack.enter_context(server(workers=2, env=after_env, port=args.port_base))}
        if args.before_src:
            before_env = {**env, **stores["before"], "PYTHONPATH": str(args.before_src.resolve())}
            urls["before"] = stack.enter_context(
                server(workers=2, env=before_env, port=args.port_base + 1)
            )
        bodies: dict[str, tuple[bytes, dict[str, str]]] = {}
        cold: dict[str, float] = {}
        for tree, url in urls.items():
            project = setup_project(url, args.agencies, args.pool, 0)
            auth = {"Authorization": f"Bearer {project['verifier']}"}
            body = orjson.dumps([{"verifiableCredential": vc} for vc in project["jcs"]])
            bodies[tree] = (body, auth)
            started = time.monotonic()
            check_answers(url, body, args.pool, auth)
            cold[tree] = args.pool / (time.monotonic() - started)
            # Warm both workers (anchor leaves, inclusion paths, term tables) the way a
            # running service is warm; the cold figure is one worker's first batch.
            process_clients_rate(url, body, args.pool, auth, 2 * args.seconds)
        s, n = args.seconds, args.pool
        ops: dict[str, Callable[[], float]] = {"raw": lambda: raw_verify_both_cores(s)}
        for tree, url in urls.items():
            body, auth = bodies[tree]
            ops[f"{tree} two"] = functools.partial(process_clients_rate, url, body, n, auth, s)
            ops[f"{tree} threads"] = functools.partial(batch_rate, url, body, n, auth, s)
            ops[f"{tree} one"] = functools.partial(process_clients_rate, url, body, n, auth, s, 1)
        r = interleave(ops, args.rounds)
        print(
            f"\nBatch verification, {n} eddsa-jcs-2022 credentials from {args.agencies} "
            f"agencies a request, 2 workers ({load()})"
        )
        rows = [("raw PyNaCl verify, 2 processes (baseline)", f"{r['raw']:,.0f}/s", "")]
        for tree in urls:
            label = "" if len(urls) == 1 else f"{tree}: "
            rows += [
                (f"{label}first batch (cold, one worker)", f"{cold[tree]:,.0f}/s", "alone"),
                (f"{label}two client processes", f"{r[tree + ' two']:,.0f}/s",
                 f"{r[tree + ' two'] / r['raw']:.0%} of raw on both cores"),
                (f"{label}two client threads, one process", f"{r[tree + ' threads']:,.0f}/s",
                 f"{r[tree + ' threads'] / r['raw']:.0%} of raw on both cores"),
                (f"{label}one client process", f"{r[tree + ' one']:,.0f}/s",
                 f"{r[tree + ' one'] / r['raw']:.0%} of raw on both cores"),
            ]  # fmt: skip
        table(rows)
        share = r["after two"] / r["raw"]
        target("batch >= 50% of raw PyNaCl verify on both cores", share >= 0.5, f"{share:.0%}")
        if args.memory:
            memory(urls["after"], args.port_base, args.memory, bodies["after"][1], args.agencies)
    print("\nTargets")
    for name, met, detail in TARGETS:
        mark = "skipped" if met is None else "met" if met else "NOT MET"
        print(f"  [{mark:>7}] {name}: {detail}")


if __name__ == "__main__":
    threading.excepthook = lambda hook: print(f"client thread failed: {hook.exc_value}")
    main()
