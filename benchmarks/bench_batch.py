"""Issue #15, batch part: ``POST /credentials/verify/batch`` against raw PyNaCl verify.

    .venv/bin/python benchmarks/bench_batch.py [--rounds 3] [--seconds 6] [--pool 1000]
        [--agencies 40] [--memory 0] [--port-base 9300]

One command, one run. The service (``identity serve --workers 2``, SQLite store, every
check: proof, issuer, validity, status, trust, anchor) verifies batches of ``--pool``
eddsa-jcs-2022 credentials from ``--agencies`` accredited agencies, two clients at
once so both workers are busy; interleaved with it (A, B, A, B, ... for ``--rounds``
rounds), raw PyNaCl ``crypto_sign_open`` in two processes (both cores) -- the baseline
issue #15 names. Medians of the rounds, the load average beside each figure (other
engineers share this 2-core machine: the ratio is what counts), one client's rate as
well (what a single caller gets), then the target line: batch >= 50 % of raw on both
cores, met or not met.

``--memory N`` then sends N *distinct* credentials (signed here by did:key agencies, in
batches of 1,000) and prints each worker's RSS before and after (issue #15's target:
<= 150 MiB per worker after 10^6; ``--memory 1000000`` takes a long time on a shared
machine).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
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


def one_client_rate(
    url: str, body: bytes, items: int, headers: dict[str, str], seconds: float
) -> float:
    """Credentials/s through the batch endpoint with one client (one batch at a time)."""
    done = 0
    start = time.monotonic()
    with httpx.Client(timeout=120) as http:
        while time.monotonic() - start < seconds:
            response = http.post(
                url + "/credentials/verify/batch",
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
            response.raise_for_status()
            done += items
    return done / (time.monotonic() - start)


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
    args = parser.parse_args()
    print(f"bench_batch: {args.rounds} rounds, interleaved, medians; {load()}")
    env = {"IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "100000000"}
    with server(workers=2, env=env, port=args.port_base) as url:
        project = setup_project(url, args.agencies, args.pool, 0)
        auth = {"Authorization": f"Bearer {project['verifier']}"}
        items = [{"verifiableCredential": vc} for vc in project["jcs"]]
        body = orjson.dumps(items)
        started = time.monotonic()
        check_answers(url, body, len(items), auth)
        cold = len(items) / (time.monotonic() - started)
        # Warm both workers (their anchor leaves, inclusion paths, term tables) the way a
        # running service is warm; the cold figure above is one worker's first batch.
        batch_rate(url, body, len(items), auth, 2 * args.seconds)
        s = args.seconds
        r = interleave(
            {
                "raw": lambda: raw_verify_both_cores(s),
                "batch": lambda: batch_rate(url, body, len(items), auth, s),
                "one client": lambda: one_client_rate(url, body, len(items), auth, s),
            },
            args.rounds,
        )
        share, one = r["batch"] / r["raw"], r["one client"] / r["raw"]
        both = f"{share:.0%} of raw on both cores"
        alone = f"{one:.0%} of raw on both cores"
        print(
            f"\nBatch verification, {len(items)} eddsa-jcs-2022 credentials from "
            f"{args.agencies} agencies a request, 2 workers ({load()})"
        )
        table(
            [
                ("raw PyNaCl verify, 2 processes (baseline)", f"{r['raw']:,.0f}/s", ""),
                ("batch, first (cold caches, one worker)", f"{cold:,.0f}/s", "not interleaved"),
                ("batch, two clients", f"{r['batch']:,.0f}/s", both),
                ("batch, one client", f"{r['one client']:,.0f}/s", alone),
            ]
        )  # fmt: skip
        target("batch >= 50% of raw PyNaCl verify on both cores", share >= 0.5, f"{share:.0%}")
        if args.memory:
            memory(url, args.port_base, args.memory, auth, args.agencies)
    print("\nTargets")
    for name, met, detail in TARGETS:
        mark = "skipped" if met is None else "met" if met else "NOT MET"
        print(f"  [{mark:>7}] {name}: {detail}")


if __name__ == "__main__":
    threading.excepthook = lambda hook: print(f"client thread failed: {hook.exc_value}")
    main()
