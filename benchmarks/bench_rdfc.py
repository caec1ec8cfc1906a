"""eddsa-rdfc-2022 verify, fast path beside the reference path and raw PyNaCl verify.

    .venv/bin/python benchmarks/bench_rdfc.py [--rounds 3] [--seconds 2] [--pool 2000]
        [--http-pool 300] [--connections 32] [--port-base 9110] [--no-http]

One command, one run; each measure interleaved with its baselines (A, B, C, C, B, A, ...
for ``--rounds`` rounds), medians, the load average (the machine is shared: the ratios
are what count):

- in process (one core), over ``--pool`` distinct credentials from 40 did:key issuers
  (each proof with its own ``created``, so the proof configuration is canonicalized
  afresh too: the pool is larger than the suite's configuration cache): raw PyNaCl
  ``crypto_sign_open``; verify *from bytes* (``json.loads`` + ``verify_proofs``) with
  the RDFC-1.0 fast path (identity.canonical.quads); the same with the reference path
  (pyld expansion + toRdf + URDNA2015), which gives the same bytes;
- RDFC-1.0 of the two published vector documents: fast path, reference path and a
  plain ``pyld.jsonld.normalize`` (what a straightforward pyld integration costs);
- over HTTP, per core (one worker each, wrk at ``--connections``, a pool of
  ``--http-pool`` distinct credentials the service issued): the service's
  ``POST /credentials/verify`` with every check (``identity serve --workers 1``); a bare
  FastAPI endpoint doing only the proof check with the fast path
  (benchmarks/bare_rdfc.py); the same endpoint with the reference path.

Ends with the issue #15 target line (rdfc HTTP verify >= 2,000/s per core). Ports:
``--port-base`` .. +2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import nacl.bindings as sodium
from pyld import jsonld

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_perf import (  # noqa: E402
    did_key_signer,
    interleave,
    interleave_http,
    load,
    permit,
    setup_project,
    wrk_pool,
)
from benchmarks.harness import rate, server, table  # noqa: E402
from identity.canonical import rdfc  # noqa: E402
from identity.canonical.quads import Rdfc  # noqa: E402
from identity.dids.key import DidKeyResolver  # noqa: E402
from identity.jsonld import ContextLoader  # noqa: E402
from identity.keys import Ed25519PrivateKey  # noqa: E402
from identity.proofs import add_proof, verify_proofs  # noqa: E402
from identity.proofs.suites import default_registry  # noqa: E402

VECTORS = REPO / ".." / "shared" / "vectors"
DOCUMENTS = {
    "alumni (eddsa-common/unsigned.json)": "eddsa-common/unsigned.json",
    "employment (eddsa-common/employmentAuth.json)": "eddsa-common/employmentAuth.json",
}
MSG = b"\x01" * 64


def credential_pool(size: int, agencies: int) -> list[bytes]:
    """``size`` distinct eddsa-rdfc-2022 credentials (city permits with a status entry),
    from ``agencies`` did:key issuers, each proof with its own ``created``."""
    suite = default_registry(ContextLoader()).named("DataIntegrityProof", "eddsa-rdfc-2022")
    signers = [did_key_signer(i + 1) for i in range(agencies)]
    bodies = []
    for n in range(size):
        key, did, options = signers[n % agencies]
        created = f"2026-01-{1 + n // 86400 % 28:02d}T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:"
        options = {
            **options,
            "cryptosuite": "eddsa-rdfc-2022",
            "created": f"{created}{n % 60:02d}Z",
        }
        credential = permit(did, n)
        credential["credentialStatus"] = {
            "id": f"https://agency.example/status/1#{n}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(n),
            "statusListCredential": "https://agency.example/status/1",
        }
        bodies.append(json.dumps(add_proof(suite, credential, options, key)).encode())
    return bodies


def cycling(bodies: list[bytes], verify: Callable[[bytes], object]) -> Callable[[], object]:
    state = {"i": 0}

    def step() -> object:
        state["i"] = (state["i"] + 1) % len(bodies)
        return verify(bodies[state["i"]])

    return step


def in_process(args: argparse.Namespace) -> None:
    bodies = credential_pool(args.pool, 40)
    resolver = DidKeyResolver()
    fast = default_registry(ContextLoader())
    reference = default_registry(ContextLoader(), rdfc_fast_path=False)
    key = Ed25519PrivateKey(b"\x07" * 32)
    signed, public = key.sign(MSG) + MSG, key.public_key().raw

    def verifier(registry: Any) -> Callable[[bytes], object]:
        return lambda body: verify_proofs(
            json.loads(body), registry, resolver, purpose="assertionMethod"
        )

    r = interleave(
        {
            "raw": lambda: rate(lambda: sodium.crypto_sign_open(signed, public), args.seconds),
            "fast": lambda: rate(cycling(bodies, verifier(fast)), args.seconds),
            "reference": lambda: rate(cycling(bodies, verifier(reference)), args.seconds),
        },
        args.rounds,
    )
    suite = fast.named("DataIntegrityProof", "eddsa-rdfc-2022")
    answered = suite.rdfc  # type: ignore[attr-defined]
    print(f"\nIn process, one core, verify from bytes, {args.pool} distinct credentials ({load()})")
    table(
        [
            ("raw PyNaCl verify (baseline)", f"{r['raw']:,.0f}/s", "crypto_sign_open"),
            (
                "rdfc verify, reference path",
                f"{r['reference']:,.0f}/s",
                f"{r['reference'] / r['raw']:.1%} of raw",
            ),
            (
                "rdfc verify, fast path",
                f"{r['fast']:,.0f}/s",
                f"{r['fast'] / r['raw']:.1%} of raw; {r['fast'] / r['reference']:.2f}x reference"
                f" (fast path answered {answered.fast:,}, reference {answered.full:,})",
            ),
        ]
    )


def vector_documents(args: argparse.Namespace) -> None:
    loader = ContextLoader()
    fast = Rdfc(loader)

    def plain_loader(url: str, _options: Any = None) -> dict[str, Any]:
        return {"contextUrl": None, "documentUrl": url, "document": loader.load(url)}

    normalize = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": plain_loader,
    }
    for title, relative in DOCUMENTS.items():
        document = json.loads((VECTORS / relative).read_text())
        assert fast(document) == rdfc(document, loader)
        r = interleave(
            {
                "pyld": lambda d=document: rate(
                    lambda: jsonld.normalize(d, normalize), args.seconds
                ),
                "reference": lambda d=document: rate(lambda: rdfc(d, loader), args.seconds),
                "fast": lambda d=document: rate(lambda: fast(d), args.seconds),
            },
            args.rounds,
        )
        print(f"\nRDFC-1.0 of {title}")
        pyld, ref, quick = r["pyld"], r["reference"], r["fast"]
        table(
            [
                ("plain pyld normalize", f"{pyld:,.0f}/s", "1.00"),
                ("rdfc(), reference path", f"{ref:,.0f}/s", f"{ref / pyld:.2f}"),
                ("Rdfc, fast path", f"{quick:,.0f}/s", f"{quick / pyld:.2f}; {quick / ref:.2f}x"),
            ]
        )


@contextlib.contextmanager
def bare_rdfc(port: int, path: str) -> Iterator[str]:
    """benchmarks/bare_rdfc.py in one uvicorn worker, ``path`` = fast | reference."""
    exe = Path(sys.executable).with_name("uvicorn")
    proc = subprocess.Popen(
        [str(exe), "benchmarks.bare_rdfc:app", "--port", str(port), "--workers", "1",
         "--log-level", "warning", "--no-access-log"],
        cwd=REPO,
        env={**os.environ, "BENCH_RDFC_PATH": path},
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(url + "/", timeout=0.5)
                break
            time.sleep(0.1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def over_http(args: argparse.Namespace) -> None:
    env = {"IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "100000000"}
    c, s, path = args.connections, int(args.http_seconds), "/credentials/verify"
    with (
        server(workers=1, env=env, port=args.port_base) as url,
        bare_rdfc(args.port_base + 1, "fast") as fast,
        bare_rdfc(args.port_base + 2, "reference") as reference,
    ):
        project = setup_project(url, 40, 0, args.http_pool)
        auth = {"Authorization": f"Bearer {project['verifier']}"}
        bodies = [json.dumps({"verifiableCredential": vc}) for vc in project["rdfc"]]
        for bare in (fast, reference):  # the bare endpoints accept what the service issued
            assert httpx.post(bare + path, content=bodies[0]).status_code == 200
        r = interleave_http(
            {
                "service": lambda: wrk_pool(url, path, bodies, auth, c, s),
                "fast": lambda: wrk_pool(fast, path, bodies, {}, c, s),
                "reference": lambda: wrk_pool(reference, path, bodies, {}, c, s),
            },
            args.rounds,
        )
    service, bare, ref = r["service"], r["fast"], r["reference"]
    print(
        f"\nHTTP verify eddsa-rdfc-2022, one worker each (= per core), {args.http_pool} distinct"
        f" credentials, wrk {c} connections ({load()})"
    )

    def row(name: str, m: dict[str, float], note: str) -> tuple[str, str, str]:
        return (
            name,
            f"{m['rps']:,.0f}/s",
            f"{note}p99 {m['p99_ms']:.1f} ms; non-2xx {m['errors']:.0f}",
        )

    speedup = bare["rps"] / ref["rps"]
    service_note = (
        f"{service['rps'] / ref['rps']:.2f}x bare reference, "
        f"{service['rps'] / bare['rps']:.2f}x bare fast; "
    )
    table(
        [
            row("bare proof check, reference path", ref, "(baseline) "),
            row("bare proof check, fast path", bare, f"{speedup:.2f}x reference; "),
            row("service, every check, fast path", service, service_note),
        ]
    )
    met = service["rps"] >= 2000
    print(
        f"\ntarget: rdfc HTTP verify >= 2,000/s per core: {'met' if met else 'NOT MET'}"
        f" ({service['rps']:,.0f}/s per core)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="per in-process figure")
    parser.add_argument("--http-seconds", type=float, default=5.0, help="per HTTP figure")
    parser.add_argument("--pool", type=int, default=2000, help="in-process credentials")
    parser.add_argument("--http-pool", type=int, default=300, help="credentials over HTTP")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port-base", type=int, default=9110)
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    if not VECTORS.is_dir():
        sys.exit(f"vectors not found at {VECTORS.resolve()}")
    print(f"bench_rdfc: {args.rounds} rounds, interleaved, medians; {load()}")
    in_process(args)
    vector_documents(args)
    if not args.no_http:
        over_http(args)


if __name__ == "__main__":
    main()
