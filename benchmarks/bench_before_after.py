"""HTTP verify of this checkout against an earlier one, in one run, beside the bare endpoint.

    git archive main | tar -x -C /tmp/before
    .venv/bin/python benchmarks/bench_before_after.py --before-src /tmp/before

Starts the service twice (2 workers each, the default SQLite store): once from this
checkout and once with ``PYTHONPATH`` set to ``--before-src`` (a source tree of the same
project, e.g. the main branch before a change; the same virtual environment), plus the
bare same-work endpoint (benchmarks/bare_verify.py). The same agencies, verifier key and
credential pool are made on both; then wrk (64 connections) POSTs the pool to each of the
three, interleaved (A, B, C, C, B, A, ...), medians of ``--rounds``. Prints each rate
beside the bare endpoint's and the after/before ratio.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_perf import bare_server, interleave_http, load, setup_project, wrk_pool
from benchmarks.harness import delete_prefix, server, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before-src", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--pool", type=int, default=200)
    parser.add_argument("--agencies", type=int, default=40)
    parser.add_argument("--port-base", type=int, default=9100)
    parser.add_argument(
        "--redis", metavar="URL", help="both services on this Redis (own random prefixes)"
    )
    args = parser.parse_args()
    env = {"IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "100000000"}
    before_env = {**env, "PYTHONPATH": str(args.before_src.resolve())}
    tag = secrets.token_hex(4)
    if args.redis:
        env |= {"IDENTITY_STORAGE_URL": args.redis, "IDENTITY_REDIS_PREFIX": f"ba-{tag}-a:"}
        before_env |= {"IDENTITY_STORAGE_URL": args.redis, "IDENTITY_REDIS_PREFIX": f"ba-{tag}-b:"}
    print(f"bench_before_after: {args.rounds} rounds, interleaved, medians; {load()}")
    try:
        measure(args, env, before_env)
    finally:
        if args.redis:  # the two services' keys, not left behind
            for side in ("a", "b"):
                delete_prefix(args.redis, f"ba-{tag}-{side}:")


def measure(args: argparse.Namespace, env: dict[str, str], before_env: dict[str, str]) -> None:
    """Start the three servers, make the same pool on both services, run wrk in turns and
    print the rates beside the bare endpoint's."""
    with (
        server(workers=2, env=env, port=args.port_base) as after,
        server(workers=2, env=before_env, port=args.port_base + 2) as before,
        bare_server(args.port_base + 1) as bare,
    ):
        bodies: dict[str, list[str]] = {}
        auths: dict[str, dict[str, str]] = {}
        for name, url in (("after", after), ("before", before)):
            project = setup_project(url, args.agencies, args.pool, 0)
            auths[name] = {"Authorization": f"Bearer {project['verifier']}"}
            bodies[name] = [json.dumps({"verifiableCredential": vc}) for vc in project["jcs"]]
        c, s, path = args.connections, args.seconds, "/credentials/verify"
        h = interleave_http(
            {
                "bare": lambda: wrk_pool(bare, path, bodies["after"], {}, c, s),
                "before": lambda: wrk_pool(before, path, bodies["before"], auths["before"], c, s),
                "after": lambda: wrk_pool(after, path, bodies["after"], auths["after"], c, s),
            },
            args.rounds,
        )
    b = h["bare"]
    print(f"\nHTTP verify, {args.pool} credentials from {args.agencies} agencies ({load()})")
    rows = [("bare endpoint (baseline)", f"{b['rps']:,.0f}/s", f"p99 {b['p99_ms']:.1f} ms")]
    for name in ("before", "after"):
        p = h[name]
        rows.append(
            (
                f"service, {name}",
                f"{p['rps']:,.0f}/s",
                f"{p['rps'] / b['rps']:.2f}x bare; p99 {p['p99_ms']:.1f} ms "
                f"({p['p99_ms'] / b['p99_ms']:.2f}x bare's); non-2xx {p['errors']:.0f}",
            )
        )
    table(rows)
    print(f"\nafter / before: {h['after']['rps'] / h['before']['rps']:.2f}x")
    a = h["after"]
    for name, met in (
        ("HTTP verify >= 1.0x the bare same-work endpoint", a["rps"] >= b["rps"]),
        ("p99 <= 2x the bare endpoint's", a["p99_ms"] <= 2 * b["p99_ms"]),
    ):
        print(f"target {name}: {'met' if met else 'NOT MET'} (after)")


if __name__ == "__main__":
    main()
