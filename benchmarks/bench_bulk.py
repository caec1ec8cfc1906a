"""Bulk issuance (``identity bulk issue``) against the HTTP issue rate of the same run.

Both issue the same registered type (schema, accreditation, status list, log anchor) into
the same SQLite store: HTTP is ``identity serve --workers 1`` under wrk (32 connections),
bulk is the CLI in one process with 64 rows in flight. Rounds alternate (HTTP, bulk,
HTTP, bulk, ...); the medians are compared.

    .venv/bin/python benchmarks/bench_bulk.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_credentials import permit
from benchmarks.harness import ADMIN, table, wrk

EXE = Path(sys.executable).with_name("identity")


def env_for(data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "IDENTITY_DATA_DIR": str(data),
        "IDENTITY_ADMIN_TOKEN": ADMIN,
        "IDENTITY_MASTER_SECRET": "ab" * 32,
    }


def cli(data: Path, *args: str) -> str:
    return subprocess.run(
        [str(EXE), *args], env=env_for(data), capture_output=True, text=True, check=True
    ).stdout


def http_round(data: Path, seconds: int) -> float:
    """Credentials issued per second over HTTP (wrk against a real ``identity serve``)."""
    from benchmarks.harness import free_port

    port = free_port()
    proc = subprocess.Popen(
        [str(EXE), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env_for(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/health", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("identity serve exited")
            time.sleep(0.05)
        key = httpx.post(
            url + "/issuers/bench/keys",
            json={"scopes": ["issue"]},
            headers={"Authorization": f"Bearer {ADMIN}"},
        ).json()["apiKey"]
        did = httpx.get(url + "/issuers/bench").json()["did"]
        body = json.dumps({"credential": permit(did)})
        result = wrk(
            url + "/credentials/issue",
            method="POST",
            body=body,
            headers={"Authorization": f"Bearer {key}"},
            connections=32,
            seconds=seconds,
        )
        if result["errors"]:
            raise RuntimeError(f"{result['errors']:.0f} HTTP issue requests failed")
        return result["rps"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def bulk_round(data: Path, rows: int, start: int) -> float:
    """Credentials issued per second by ``identity bulk issue`` (its own summary's rate)."""
    did = json.loads(cli(data, "agency", "show", "bench", "--json"))["did"]
    source = data.parent / f"rows-{start}.jsonl"
    with source.open("w") as fh:
        for i in range(start, start + rows):
            credential = permit(did) | {"id": f"urn:uuid:00000000-0000-4000-8000-{i:012d}"}
            fh.write(json.dumps(credential) + "\n")
    out = cli(data, "bulk", "issue", str(source), "--agency", "bench")
    match = re.search(r"issued (\d+),.* in ([\d.]+) s", out)
    assert match is not None and int(match.group(1)) == rows, out
    return rows / float(match.group(2))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows, seconds, rounds = (1_000, 3, 2) if args.quick else (4_000, 6, args.rounds)
    root = Path(tempfile.mkdtemp(prefix="identity-bench-bulk-"))
    data = root / "data"
    try:
        cli(data, "agency", "create", "Bench Bureau", "--id", "bench")
        cli(
            data, "accreditation", "grant", "bench", "--type", "ResidencePermitCredential",
            "--from", "2026-01-01T00:00:00Z", "--until", "2099-01-01T00:00:00Z",
        )  # fmt: skip
        http, bulk = [], []
        for n in range(rounds):
            http.append(http_round(data, seconds))
            bulk.append(bulk_round(data, rows, n * rows))
        h, b = statistics.median(http), statistics.median(bulk)
        print(f"bulk issuance vs HTTP issue, same store, median of {rounds} interleaved rounds")
        table(
            [
                (
                    "HTTP POST /credentials/issue",
                    f"{h:,.0f}/s",
                    "identity serve --workers 1, wrk 32 connections (baseline)",
                ),
                (
                    "identity bulk issue",
                    f"{b:,.0f}/s",
                    f"{b / h:.2f}x the HTTP rate; {rows:,} rows per round, 64 in flight",
                ),
            ]
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
