"""Issue #15, issuance: HTTP issue eddsa-jcs-2022 with durable anchoring, against a bare
sign-only endpoint and ACA-Py, in one run.

    .venv/bin/python benchmarks/bench_issue.py [--rounds 3] [--seconds 5] [--no-redis]

Targets, each run as ``--workers 2`` under wrk with 64 connections:

* bare: benchmarks/bare_issue.py, FastAPI + uvicorn doing only the signing (same parser,
  same proof code, same credential bytes as the service signs);
* the service (``identity serve``), SQLite default store (``synchronous=FULL``): a
  registered type, so every request does the API key, accreditation, JSON Schema, status
  entry, proof, record and log entry in one transaction;
* the same with the Redis store (``redis://127.0.0.1:6379/$IDENTITY_BENCH_REDIS_DB``, a
  fresh key prefix deleted afterwards);
* ACA-Py 1.7 when ``scripts/ensure-acapy`` installed it in .venv/acapy (said when
  skipped), one process (it has no worker option): its VC-API issuer
  (``POST /vc/credentials/issue``, Ed25519Signature2020 -- the baseline issue #15 names)
  and its eddsa-jcs-2022 signer (``POST /vc/di/add-proof`` over the same credential the
  bare endpoint signs).

Rounds interleave the targets (A, B, C, D, A, B, ...); each figure is the median of the
rounds, printed with the load average (the machine is shared: absolute rates swing, the
ratios are what count) and a line per issue #15 target: met or not met.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_credentials import permit
from benchmarks.harness import (
    REPO,
    acapy_command,
    accredited_agency,
    delete_prefix,
    free_port,
    server,
    table,
    wrk,
)

ACAPY = REPO / ".venv" / "acapy" / "bin" / "aca-py"
TARGET_BARE = 0.6
TARGET_ACAPY = 8.0


def wait_until(ready: Callable[[], bool], what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.1)


def _get_ok(url: str, **kwargs: Any) -> bool:
    try:
        return httpx.get(url, timeout=0.5, **kwargs).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def bare_server(workers: int) -> Iterator[str]:
    """benchmarks/bare_issue.py under uvicorn, as ``identity serve`` runs the service."""
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("uvicorn")),
            "benchmarks.bare_issue:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _get_ok(url + "/openapi.json"), "the bare endpoint", proc)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


@contextlib.contextmanager
def acapy_server() -> Iterator[tuple[str, dict[str, str]] | None]:
    """ACA-Py with a throwaway wallet on loopback (as tests/interop starts it), or None."""
    if not ACAPY.exists():
        yield None
        return
    home = Path(tempfile.mkdtemp(prefix="acapy-bench-"))
    port = free_port()
    api_key = secrets.token_urlsafe(24)
    proc = subprocess.Popen(
        acapy_command(ACAPY, port, api_key, "error"),
        env={**os.environ, "HOME": str(home)},
        stdout=(home / "acapy.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": api_key}
    try:
        try:
            wait_until(lambda: _get_ok(url + "/status/ready", headers=headers), "ACA-Py", proc)
        except RuntimeError:
            print((home / "acapy.log").read_text(errors="replace")[-2000:])
            raise
        yield url, headers
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(home, ignore_errors=True)


class Target:
    """One endpoint under wrk: its URL, body and headers, and its rounds' results."""

    def __init__(self, name: str, url: str, body: str, headers: dict[str, str]) -> None:
        self.name, self.url, self.body, self.headers = name, url, body, headers
        self.rounds: list[dict[str, float]] = []

    def run(self, seconds: int, connections: int) -> None:
        """One wrk round; ``rps`` counts successful (2xx) answers only."""
        result = wrk(
            self.url,
            method="POST",
            body=self.body,
            headers=self.headers,
            connections=connections,
            seconds=seconds,
        )
        result["rps"] = max(result["rps"] - result["errors"] / seconds, 0.0)
        self.rounds.append(result)

    def median(self, key: str) -> float:
        return statistics.median(r[key] for r in self.rounds)


def service_target(name: str, url: str) -> tuple[Target, dict[str, Any]]:
    """An agency accredited for the registered permit type; the issue request as wrk
    sends it; and one credential the service issued from it (for the bare body)."""
    agency = accredited_agency(url, "Bench Bureau")
    body = json.dumps(
        {"credential": permit(agency["did"]), "options": {"cryptosuite": "eddsa-jcs-2022"}}
    )
    headers = {"Authorization": f"Bearer {agency['apiKey']}", "Content-Type": "application/json"}
    issued = httpx.post(url + "/credentials/issue", content=body, headers=headers)
    issued.raise_for_status()
    return Target(name, url + "/credentials/issue", body, headers), issued.json()


ACAPY_VC_API_CREDENTIAL = {  # contexts ACA-Py bundles (it fetches nothing here)
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:citizen-1", "name": "Li Lei"},
}


def acapy_targets(url: str, headers: dict[str, str], credential: dict[str, Any]) -> list[Target]:
    """ACA-Py's issuance (its VC-API ``/vc/credentials/issue``: Ed25519Signature2020,
    the route issue #15 measured) and its eddsa-jcs-2022 signer (``/vc/di/add-proof``,
    the same proof as ours over the same credential: sign-only, no issuance state)."""
    did = httpx.post(
        url + "/wallet/did/create",
        json={"method": "key", "options": {"key_type": "ed25519"}},
        headers=headers,
    ).json()["result"]["did"]
    headers = {**headers, "Content-Type": "application/json"}
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "proofPurpose": "assertionMethod",
        "verificationMethod": f"{did}#{did.removeprefix('did:key:')}",
    }
    issue = Target(
        "ACA-Py 1.7 POST /vc/credentials/issue",
        url + "/vc/credentials/issue",
        json.dumps({"credential": ACAPY_VC_API_CREDENTIAL | {"issuer": did}, "options": {}}),
        headers,
    )
    add_proof = Target(
        "ACA-Py 1.7 POST /vc/di/add-proof (jcs)",
        url + "/vc/di/add-proof",
        json.dumps({"document": credential | {"issuer": did}, "options": options}),
        headers,
    )
    for target in (issue, add_proof):
        check = httpx.post(target.url, content=target.body, headers=headers, timeout=30)
        if check.status_code != 201:
            raise RuntimeError(
                f"ACA-Py {target.url} answered {check.status_code}: {check.text[:200]}"
            )
    return [issue, add_proof]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--no-acapy", action="store_true")
    args = parser.parse_args()
    redis_url = f"redis://127.0.0.1:6379/{os.environ.get('IDENTITY_BENCH_REDIS_DB', '2')}"
    prefix = f"bench-issue-{secrets.token_hex(4)}:"
    with contextlib.ExitStack() as stack:
        sqlite_url = stack.enter_context(server(workers=args.workers))
        project, issued = service_target("identity serve, SQLite (FULL)", sqlite_url)
        targets = [project]
        if not args.no_redis:
            stack.callback(delete_prefix, redis_url, prefix)
            env = {"IDENTITY_STORAGE_URL": redis_url, "IDENTITY_REDIS_PREFIX": prefix}
            redis_served = stack.enter_context(server(workers=args.workers, env=env))
            targets.append(service_target("identity serve, Redis", redis_served)[0])
        signed = dict(issued["verifiableCredential"])
        signed.pop("proof")
        bare_url = stack.enter_context(bare_server(args.workers))
        bare = Target(
            "bare sign-only endpoint", bare_url + "/issue", json.dumps({"credential": signed}),
            {"Content-Type": "application/json"},
        )  # fmt: skip
        targets.insert(0, bare)
        acapy = None if args.no_acapy else stack.enter_context(acapy_server())
        acapy_note = "skipped: --no-acapy" if args.no_acapy else "skipped: not installed"
        peers = acapy_targets(*acapy, signed) if acapy is not None else []
        targets += peers
        for target in targets:  # warm: caches, connections, the first status batch
            wrk(target.url, method="POST", body=target.body, headers=target.headers,
                connections=args.connections, seconds=1)  # fmt: skip
        for _ in range(args.rounds):
            for target in targets:
                target.run(args.seconds, args.connections)
        load = os.getloadavg()
    ours = [t for t in targets if t is not bare and t not in peers]
    report(bare, ours, peers, acapy_note, load, args)
    return 0


def report(
    bare: Target,
    ours: list[Target],
    peers: list[Target],
    acapy_note: str,
    load: tuple[float, float, float],
    args: argparse.Namespace,
) -> None:
    """The table (medians, ratios) and one line per issue #15 target: met or not."""
    base = bare.median("rps")
    acapy_issue = max(peers[0].median("rps"), 1e-9) if peers else None
    print(
        f"HTTP issue eddsa-jcs-2022, {args.workers} workers (ACA-Py: one process), wrk "
        f"{args.connections} connections, {args.seconds} s x {args.rounds} interleaved rounds "
        f"(medians); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (shared machine)"
    )
    rows = []
    for target in [bare, *ours, *peers]:
        rps = target.median("rps")
        note = f"p50 {target.median('p50_ms'):.1f} ms, p99 {target.median('p99_ms'):.1f} ms"
        note += f", non-2xx {sum(r['errors'] for r in target.rounds):.0f} (not counted)"
        if target is not bare:
            note = f"{rps / base:.2f}x bare; {note}"
        if target in ours and peers:
            note = (
                " ".join(f"{rps / max(p.median('rps'), 1e-9):.1f}x {p.name[11:]}; " for p in peers)
                + note
            )
        rows.append((target.name, f"{rps:,.0f}/s", note))
    if not peers:
        rows.append(("ACA-Py 1.7", "-", acapy_note + " (scripts/ensure-acapy installs it)"))
    table(rows)
    for target in ours:
        ratio = target.median("rps") / base
        verdict = "met" if ratio >= TARGET_BARE else "NOT met"
        print(f"  target: {target.name} >= {TARGET_BARE}x bare: {ratio:.2f}x -- {verdict}")
        if acapy_issue:
            versus = target.median("rps") / acapy_issue
            verdict = "met" if versus >= TARGET_ACAPY else "NOT met"
            print(
                f"  target: {target.name} >= {TARGET_ACAPY:.0f}x ACA-Py issue: {versus:.1f}x"
                f" -- {verdict}"
            )
        else:
            print(
                f"  target: {target.name} >= {TARGET_ACAPY:.0f}x ACA-Py: "
                f"not measured ({acapy_note})"
            )


if __name__ == "__main__":
    sys.exit(main())
