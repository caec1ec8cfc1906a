"""Issue #15: verification at the hardware's pace, each figure beside its baseline.

    .venv/bin/python benchmarks/bench_perf.py [--quick] [--rounds 3] [--seconds 5]
        [--connections 64] [--pool 1000] [--agencies 40] [--memory 20000] [--no-acapy]

One command, one run; every measure is interleaved with its baseline (A, B, A, B, ...
for ``--rounds`` rounds) and reported as the median of the rounds, with the load
average (other engineers share this machine: the ratios are what count):

- in process (one core): eddsa-jcs-2022 verify *from bytes* (strict parse + every
  proof step, the service's suite with its JSON-LD check) against raw PyNaCl
  ``crypto_sign_open``; in-process sign (Add Proof) against raw PyNaCl sign;
- HTTP verify eddsa-jcs-2022 (``identity serve --workers 2``, every check: proof,
  issuer, validity, status, trust, anchor) against a bare FastAPI endpoint doing only
  the same proof check with the same libraries (benchmarks/bare_verify.py, 2 workers),
  wrk at ``--connections``: one credential, then a pool of ``--pool`` distinct
  credentials from ``--agencies`` agencies; p99 beside the bare endpoint's;
- batch verification (``POST /credentials/verify/batch``, ``--pool`` credentials per
  request, two clients so both workers are busy) against raw PyNaCl verify on both
  cores (two processes);
- eddsa-rdfc-2022 HTTP verify over a pool of distinct credentials, per core;
- memory: RSS of each worker after verifying ``--memory`` distinct credentials
  (``--memory 1000000`` for the issue's 10^6; minutes);
- ACA-Py's ``/vc/di/verify`` side by side when it is installed (``.venv/acapy`` from
  scripts/ensure-acapy, or ``IDENTITY_ACAPY``); the line says so when it is skipped.

Ends with one line per target: met / not met. Needs wrk and the Redis-free default
(SQLite) store. Ports: ``--port-base`` and the next few (default 9100).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import multiprocessing
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import nacl.bindings as sodium

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import harness
from benchmarks.harness import ADMIN, rate, server, table
from identity.canonical import parse_json
from identity.clock import SystemClock
from identity.credentials.verifier import Verifier
from identity.dids.key import DidKeyResolver
from identity.jsonld import ContextLoader
from identity.keys import Ed25519PrivateKey
from identity.proofs import add_proof
from identity.proofs.suites import default_registry
from tests.proofs.support import did_key_signer

REPO = Path(__file__).resolve().parents[1]
CITY = "https://identity-service.example/contexts/city/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
MSG = b"\x01" * 64
TARGETS: list[tuple[str, bool | None, str]] = []


def target(name: str, met: bool | None, detail: str) -> None:
    TARGETS.append((name, met, detail))


def median(values: list[float]) -> float:
    return statistics.median(values)


def interleave(ops: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Run each op once per round, the order alternating; medians per op."""
    out: dict[str, list[float]] = {name: [] for name in ops}
    names = list(ops)
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            out[name].append(ops[name]())
    return {name: median(v) for name, v in out.items()}


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- credentials ----------------------------------------------------------------------


def permit(did: str, n: int) -> dict[str, Any]:
    return {
        "@context": [V2, CITY],
        "type": ["VerifiableCredential", "ResidencePermitCredential"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"did:example:citizen-{n}",
            "fullName": f"Citizen {n}",
            "dateOfBirth": "1990-02-03",
            "residenceAddress": "1 Hengshan Road, Xuhui",
            "permitNumber": f"SH{n:09d}",
        },
    }


# -- in process -----------------------------------------------------------------------


def in_process(seconds: float, rounds: int, agencies: int, pool: int) -> None:
    registry = default_registry(ContextLoader())
    suite = registry.named("DataIntegrityProof", "eddsa-jcs-2022")
    signers = [did_key_signer(i + 1) for i in range(agencies)]
    bodies = []
    for n in range(pool):
        key, did, options = signers[n % agencies]
        bodies.append(json.dumps(add_proof(suite, permit(did, n), options, key)).encode())
    verifier = Verifier(registry, DidKeyResolver(), SystemClock())
    key, did, options = signers[0]
    raw_pk = key.public_key().raw
    signed = key.sign(MSG) + MSG
    cursor = iter(range(10**12))

    def verify_from_bytes() -> object:
        return verifier.verify(parse_json(bodies[next(cursor) % pool]))

    document = permit(did, 0)
    r = interleave(
        {
            "raw verify": lambda: rate(lambda: sodium.crypto_sign_open(signed, raw_pk), seconds),
            "verify": lambda: rate(verify_from_bytes, seconds),
            "raw sign": lambda: rate(lambda: key.sign(MSG), seconds),
            "sign": lambda: rate(lambda: add_proof(suite, document, options, key), seconds),
        },
        rounds,
    )
    print(f"\nIn process, one core, eddsa-jcs-2022, {pool} distinct credentials ({load()})")
    v, s = r["verify"] / r["raw verify"], r["sign"] / r["raw sign"]
    table(
        [
            ("raw PyNaCl verify (baseline)", f"{r['raw verify']:,.0f}/s", "crypto_sign_open"),
            ("verify from bytes", f"{r['verify']:,.0f}/s", f"{v:.0%} of raw verify"),
            ("raw PyNaCl sign (baseline)", f"{r['raw sign']:,.0f}/s", "crypto_sign"),
            ("sign (Add Proof)", f"{r['sign']:,.0f}/s", f"{s:.0%} of raw sign"),
        ]
    )
    target("in-process verify from bytes >= 60% of raw verify", v >= 0.6, f"{v:.0%}")
    target("in-process sign >= 50% of raw sign", s >= 0.5, f"{s:.0%}")


def _raw_verify_rate(seconds: float) -> float:
    key = Ed25519PrivateKey(b"\x07" * 32)
    signed, pk = key.sign(MSG) + MSG, key.public_key().raw
    return rate(lambda: sodium.crypto_sign_open(signed, pk), seconds)


def raw_verify_both_cores(seconds: float) -> float:
    """Raw PyNaCl verify/s of two processes at once (both cores)."""
    with multiprocessing.get_context("spawn").Pool(2) as workers:
        return float(sum(workers.map(_raw_verify_rate, [seconds, seconds])))


# -- servers --------------------------------------------------------------------------


@contextlib.contextmanager
def bare_server(port: int, app: str = "app") -> Iterator[str]:
    exe = Path(sys.executable).with_name("uvicorn")
    proc = subprocess.Popen(
        [
            str(exe),
            f"benchmarks.bare_verify:{app}",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=REPO,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/health")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def _wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=0.5).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def setup_project(url: str, agencies: int, pool: int, rdfc_pool: int) -> dict[str, Any]:
    """Agencies (accredited), a verifier key, and pools of issued credentials."""
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=url, timeout=60) as http:
        keys = []
        for i in range(agencies):
            agency = http.post("/issuers", json={"name": f"Agency {i}"}, headers=admin).json()
            http.post(
                "/accreditations",
                headers=admin,
                json={
                    "issuer": agency["id"],
                    "types": ["ResidencePermitCredential"],
                    "validUntil": "2099-01-01T00:00:00Z",
                },
            ).raise_for_status()
            keys.append(agency)
        verifier = http.post("/verifiers", json={"name": "Bench"}, headers=admin).json()

        def issue(n: int, suite: str) -> dict[str, Any]:
            agency = keys[n % agencies]
            response = http.post(
                "/credentials/issue",
                json={"credential": permit(agency["did"], n), "options": {"cryptosuite": suite}},
                headers={"Authorization": f"Bearer {agency['apiKey']}"},
            )
            response.raise_for_status()
            vc: dict[str, Any] = response.json()["verifiableCredential"]
            return vc

        jcs = [issue(n, "eddsa-jcs-2022") for n in range(pool)]
        rdfc = [issue(n, "eddsa-rdfc-2022") for n in range(rdfc_pool)]
    return {"verifier": verifier["apiKey"], "jcs": jcs, "rdfc": rdfc}


POOL_LUA = """
local bodies = {{{bodies}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "{path}", {{["Content-Type"] = "application/json"{auth}}},
                    bodies[(i % #bodies) + 1])
end
"""


def wrk_pool(
    url: str, path: str, bodies: list[str], headers: dict[str, str], connections: int, seconds: int
) -> dict[str, float]:
    """wrk POSTing ``bodies`` in turn (each connection its own cursor)."""
    auth = "".join(f', ["{k}"] = {json.dumps(v)}' for k, v in headers.items())
    lua = POOL_LUA.format(
        bodies=",".join("[==[" + b + "]==]" for b in bodies), path=path, auth=auth
    )

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua + harness.DONE_LUA)
        script = fh.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "-s",
                script,
                "--latency",
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    return harness.parse_wrk(out)


def interleave_http(
    ops: dict[str, Callable[[], dict[str, float]]], rounds: int
) -> dict[str, dict[str, float]]:
    """Run each op once a round, the order rotated every round (A B C, B C A, C A B, ...):
    no op runs twice in a row and each takes every place in turn (with two ops: A B, B A).
    Medians of each figure over the rounds."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in ops}
    names = list(ops)
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            runs[name].append(ops[name]())
    return {name: {k: median([run[k] for run in v]) for k in v[0]} for name, v in runs.items()}


def batch_rate(url: str, body: bytes, items: int, headers: dict[str, str], seconds: float) -> float:
    """Credentials/s through the batch endpoint with two clients (both workers busy).

    Each batch on a new connection (``Connection: close``): uvicorn's workers share one
    listening socket, and two kept-alive connections accepted by the same worker would
    leave the other idle for the whole run (a batch's second of work dwarfs a connect)."""
    done = [0, 0]
    deadline = time.monotonic() + seconds

    def client(slot: int) -> None:
        with httpx.Client(timeout=120) as http:
            while time.monotonic() < deadline:
                response = http.post(
                    url + "/credentials/verify/batch",
                    content=body,
                    headers={**headers, "Content-Type": "application/json", "Connection": "close"},
                )
                response.raise_for_status()
                done[slot] += items

    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - start)


def worker_rss(port: int) -> list[float]:
    """RSS (MiB) of the uvicorn workers of the server listening on ``port``."""
    found: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if f"PORT={port}".encode() not in env:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        found[int(entry.name)] = (
            int(fields["PPid"]),
            int(fields.get("VmRSS", "0 kB").split()[0]) / 1024,
        )
    # workers: processes whose parent is also the server's (not the top, not helpers)
    return [rss for pid, (ppid, rss) in found.items() if ppid in found and rss > 20]


def memory(url: str, port: int, count: int, headers: dict[str, str], agencies: int) -> None:
    registry = default_registry(ContextLoader())
    suite = registry.named("DataIntegrityProof", "eddsa-jcs-2022")
    signers = [did_key_signer(1000 + i) for i in range(agencies)]
    before = worker_rss(port)
    sent = 0
    with httpx.Client(timeout=300) as http:
        while sent < count:
            chunk = min(1000, count - sent)
            items = []
            for n in range(sent, sent + chunk):
                key, did, options = signers[n % agencies]
                vc = add_proof(suite, permit(did, 10**7 + n), options, key)
                items.append({"verifiableCredential": vc})
            response = http.post(url + "/credentials/verify/batch", json=items, headers=headers)
            response.raise_for_status()
            sent += chunk
    after = worker_rss(port)
    print(f"\nMemory after verifying {count:,} distinct credentials ({load()})")
    table(
        [
            ("RSS per worker before", ", ".join(f"{m:.0f} MiB" for m in before), ""),
            ("RSS per worker after", ", ".join(f"{m:.0f} MiB" for m in after), ""),
        ]
    )
    worst = max(after) if after else float("nan")
    note = "" if count >= 10**6 else f" (quick: {count:,}, not 10^6; --memory 1000000)"
    target("RSS per worker <= 150 MiB", worst <= 150, f"{worst:.0f} MiB{note}")


# -- ACA-Py ---------------------------------------------------------------------------


def acapy_executable() -> Path | None:
    named = os.environ.get("IDENTITY_ACAPY")
    if named:
        return Path(named)
    default = REPO / ".venv" / "acapy" / "bin" / "aca-py"
    return default if default.exists() else None


@contextlib.contextmanager
def acapy(port: int) -> Iterator[tuple[str, str]]:
    executable = acapy_executable()
    assert executable is not None
    home = Path(tempfile.mkdtemp(prefix="acapy-bench-"))
    api_key = secrets.token_urlsafe(24)
    command = harness.acapy_command(executable, port, api_key, "warning")
    log = (home / "acapy.log").open("w")
    proc = subprocess.Popen(
        command,
        env={**os.environ, "HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                ready = httpx.get(url + "/status/ready", headers={"X-API-Key": api_key})
                if ready.json().get("ready") is True:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("ACA-Py did not start: " + (home / "acapy.log").read_text())
            time.sleep(0.25)
        yield url, api_key
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


# -- main -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short rounds, small pools")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="per HTTP measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--pool", type=int, default=1000)
    parser.add_argument("--agencies", type=int, default=40)
    parser.add_argument("--rdfc-pool", type=int, default=300)
    parser.add_argument("--memory", type=int, default=20_000)
    parser.add_argument("--no-acapy", action="store_true")
    parser.add_argument("--port-base", type=int, default=9100)
    parser.add_argument(
        "--http-only", action="store_true", help="only HTTP verify against the bare endpoint"
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.pool, args.memory = 3, 2, 200, 5_000
        args.rdfc_pool = 60
    print(f"bench_perf: {args.rounds} rounds, interleaved, medians; {load()}")
    if not args.http_only:
        in_process(0.5 if args.quick else 1.0, args.rounds, args.agencies, args.pool)

    env = {"IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "100000000"}
    with (
        server(workers=2, env=env, port=args.port_base) as url,
        bare_server(args.port_base + 1) as bare,
    ):
        rdfc_pool = 0 if args.http_only else args.rdfc_pool
        project = setup_project(url, args.agencies, args.pool, rdfc_pool)
        auth = {"Authorization": f"Bearer {project['verifier']}"}
        one = json.dumps({"verifiableCredential": project["jcs"][0]})
        pool = [json.dumps({"verifiableCredential": vc}) for vc in project["jcs"]]
        rdfc = [json.dumps({"verifiableCredential": vc}) for vc in project["rdfc"]]
        c, s = args.connections, args.seconds
        path = "/credentials/verify"
        h = interleave_http(
            {
                "bare one": lambda: wrk_pool(bare, path, [one], {}, c, s),
                "project one": lambda: wrk_pool(url, path, [one], auth, c, s),
                "bare pool": lambda: wrk_pool(bare, path, pool, {}, c, s),
                "project pool": lambda: wrk_pool(url, path, pool, auth, c, s),
            },
            args.rounds,
        )
        print(f"\nHTTP verify eddsa-jcs-2022, 2 workers each, wrk {c} connections ({load()})")
        rows = []
        for kind, label in (("one", "one credential"), ("pool", f"{args.pool} credentials")):
            b, p = h[f"bare {kind}"], h[f"project {kind}"]
            ratio = p["rps"] / b["rps"]
            rows.append(
                (
                    f"bare endpoint, {label} (baseline)",
                    f"{b['rps']:,.0f}/s",
                    f"p50 {b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms",
                )
            )
            rows.append(
                (
                    f"service, every check, {label}",
                    f"{p['rps']:,.0f}/s",
                    f"{ratio:.2f}x bare; p50 {p['p50_ms']:.1f} ms, p99 "
                    f"{p['p99_ms']:.1f} ms; non-2xx {p['errors']:.0f}",
                )
            )
            target(f"HTTP verify ({label}) >= 1.0x bare", ratio >= 1.0, f"{ratio:.2f}x")
            p99 = p["p99_ms"] / b["p99_ms"]
            target(f"HTTP verify ({label}) p99 <= 2x bare's", p99 <= 2.0, f"{p99:.2f}x")
        table(rows)
        if args.http_only:
            report_targets()
            return

        batch_body = json.dumps([{"verifiableCredential": vc} for vc in project["jcs"]]).encode()
        b = interleave(
            {
                "raw": lambda: raw_verify_both_cores(s / 2),
                "batch": lambda: batch_rate(url, batch_body, len(project["jcs"]), auth, s),
            },
            args.rounds,
        )
        share = b["batch"] / b["raw"]
        print(f"\nBatch verification, {args.pool} credentials a request, two clients ({load()})")
        table(
            [
                ("raw PyNaCl verify, 2 processes", f"{b['raw']:,.0f}/s", "(baseline)"),
                (
                    "POST /credentials/verify/batch",
                    f"{b['batch']:,.0f}/s",
                    f"{share:.0%} of raw on both cores",
                ),
            ]
        )
        target("batch >= 50% of raw PyNaCl verify on both cores", share >= 0.5, f"{share:.0%}")

        r = interleave_http(
            {
                "bare": lambda: wrk_pool(bare, path, [one], {}, c, s),
                "rdfc": lambda: wrk_pool(url, path, rdfc, auth, c, s),
            },
            args.rounds,
        )
        per_core = r["rdfc"]["rps"] / 2
        print(f"\nHTTP verify eddsa-rdfc-2022, {args.rdfc_pool} distinct credentials ({load()})")
        table(
            [
                ("bare jcs endpoint (reference)", f"{r['bare']['rps']:,.0f}/s", ""),
                (
                    "service, rdfc, both workers",
                    f"{r['rdfc']['rps']:,.0f}/s",
                    f"{per_core:,.0f}/s per core; non-2xx {r['rdfc']['errors']:.0f}",
                ),
            ]
        )
        target("rdfc HTTP verify >= 2,000/s per core", per_core >= 2000, f"{per_core:,.0f}/s")

        memory(url, args.port_base, args.memory, auth, args.agencies)

        if args.no_acapy or acapy_executable() is None:
            why = "--no-acapy" if args.no_acapy else "ACA-Py not installed (scripts/ensure-acapy)"
            print(f"\nACA-Py: skipped: {why}")
            target(">= 20x ACA-Py HTTP verify", None, f"skipped: {why}")
        else:
            acapy_side_by_side(args, lambda: wrk_pool(url, path, [one], auth, c, s))

    with bare_server(args.port_base + 1) as bare, bare_server(args.port_base + 3, "asgi") as raw:
        f = interleave_http(
            {
                "fastapi": lambda: wrk_pool(bare, path, [one], {}, c, s),
                "asgi": lambda: wrk_pool(raw, path, [one], {}, c, s),
            },
            args.rounds,
        )
    share = f["fastapi"]["rps"] / f["asgi"]["rps"]
    print(f"\nFramework: the same proof check, bare FastAPI against bare ASGI ({load()})")
    table(
        [
            ("bare ASGI callable (baseline)", f"{f['asgi']['rps']:,.0f}/s", ""),
            ("bare FastAPI endpoint", f"{f['fastapi']['rps']:,.0f}/s",
             f"{share:.0%} of bare ASGI: FastAPI/Starlette cost {1 - share:.0%}"),
        ]
    )  # fmt: skip

    report_targets()


def report_targets() -> None:
    """One line per target measured: met, NOT MET or skipped."""
    print("\nTargets")
    for name, met, detail in TARGETS:
        mark = "skipped" if met is None else "met" if met else "NOT MET"
        print(f"  [{mark:>7}] {name}: {detail}")


def acapy_side_by_side(args: argparse.Namespace, project: Callable[[], dict[str, float]]) -> None:
    """ACA-Py's /vc/di/verify (eddsa-jcs-2022, did:key; a minimal credential, as ACA-Py
    has no city context) interleaved with the service's verify under the same wrk load."""
    key, did, options = did_key_signer(77)
    registry = default_registry(ContextLoader())
    suite = registry.named("DataIntegrityProof", "eddsa-jcs-2022")
    document = copy.deepcopy(permit(did, 1))
    document["@context"] = [V2]
    document["type"] = ["VerifiableCredential"]
    document["credentialSubject"] = {"id": "did:example:citizen-1"}
    secured = add_proof(suite, document, options, key)
    with acapy(args.port_base + 2) as (url, api_key):
        body = json.dumps({"securedDocument": secured})
        check = httpx.post(
            url + "/vc/di/verify",
            content=body,
            headers={"X-API-Key": api_key, "Content-Type": "application/json"},
        )
        r = interleave_http(
            {
                "service": project,
                "acapy": lambda: wrk_pool(
                    url, "/vc/di/verify", [body], {"X-API-Key": api_key},
                    args.connections, args.seconds,
                ),
            },
            args.rounds,
        )  # fmt: skip
    aca, single = r["acapy"]["rps"], r["service"]["rps"]
    ratio = single / aca if aca else float("inf")
    print(f"\nACA-Py /vc/di/verify (its answer: {check.status_code}) ({load()})")
    table(
        [
            ("ACA-Py 1.7 /vc/di/verify (baseline)", f"{aca:,.0f}/s", ""),
            ("service, every check, one credential", f"{single:,.0f}/s", f"{ratio:.1f}x ACA-Py"),
        ]
    )
    target(">= 20x ACA-Py HTTP verify", ratio >= 20, f"{ratio:.1f}x")


if __name__ == "__main__":
    main()
