"""Run every benchmark, one after the other, each printing ratios to its in-run floor.

    .venv/bin/python benchmarks/run.py [--quick]

Needs ``wrk`` (HTTP load) and a Redis at 127.0.0.1:6379 (``scripts/ensure-redis``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

SUITES = [
    (
        "credentials: eddsa-jcs-2022 / eddsa-rdfc-2022, in process and over HTTP",
        "bench_credentials.py",
        [],
    ),
    ("eddsa-rdfc-2022: fast path, reference path, raw PyNaCl (issue #15)", "bench_rdfc.py", []),
    (
        "JSON-LD check on eddsa-jcs-2022 verify: on / off, beside PyNaCl",
        "bench_jsonld_check.py",
        ["--rounds", "7"],
    ),
    (
        "transparency log (issue #12: appends, proofs, HTTP issue at 10^4..10^7)",
        "bench_log.py",
        ["--quick"],
    ),
    ("status lists", "bench_status.py", []),
    ("Redis deployment", "bench_redis.py", []),
    ("directory chain: DID resolution, access history", "bench_directory.py", ["--quick"]),
    (
        "operations: HTTP verify with metrics + JSON logs on, against both off",
        "bench_observability.py",
        ["--rounds", "3"],
    ),
    ("bulk issuance against HTTP issuance", "bench_bulk.py", ["--quick"]),
    (
        "HTTP issue with durable anchoring: bare sign-only endpoint, ACA-Py (issue #15)",
        "bench_issue.py",
        ["--rounds", "1", "--seconds", "3"],
    ),
    (
        "SD-JWT VC issue/verify beside Ed25519 and eddsa-jcs-2022",
        "bench_sdjwt.py",
        ["--rounds", "3"],
    ),
    ("VC-JOSE-COSE envelopes beside eddsa-jcs-2022 and raw Ed25519", "bench_envelopes.py", []),
]


def main() -> int:
    quick = "--quick" in sys.argv
    failed = 0
    for title, script, quick_args in SUITES:
        print(f"\n=== {title} ({script})", flush=True)
        args = quick_args if quick else []
        failed += subprocess.call([sys.executable, str(HERE / script), *args]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
