"""Issue 2 targets: eddsa-jcs-2022 in process and over HTTP, against in-run floors.

    .venv/bin/python benchmarks/bench_credentials.py [--seconds N]
    .venv/bin/python benchmarks/bench_credentials.py --before-src /tmp/before [--rounds 5]

``--before-src`` measures issue #15's in-process targets (verify from bytes >= 60 % of
raw PyNaCl verify, sign >= 50 % of raw sign) for this checkout and for another source
tree in one run: each round a fresh process per tree, with its own raw baseline.

Floors measured in the same run: raw libsodium Ed25519 verify/s (PyNaCl), and a bare
endpoint (``GET /health/live``) on the same server. Needs ``wrk`` for the HTTP part.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nacl.bindings as sodium

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if "IDENTITY_BENCH_SRC" in __import__("os").environ:  # --before-src: that tree's identity
    sys.path.insert(0, __import__("os").environ["IDENTITY_BENCH_SRC"])

from benchmarks.bench_perf import did_key_signer
from benchmarks.bench_perf import permit as city_permit
from benchmarks.harness import ADMIN, accredited_agency, rate, server, table, wrk
from identity.clock import SystemClock
from identity.credentials.verifier import Verifier
from identity.dids.key import DidKeyResolver
from identity.keys import Ed25519PrivateKey
from identity.proofs import SuiteRegistry, add_proof
from identity.proofs.eddsa_jcs import EddsaJcs2022


def credential(did: str) -> dict[str, object]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "ResidencePermit"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:citizen-1", "residence": "Xuhui District"},
    }


@dataclass
class JcsBaseline:
    """One did:key agency, an eddsa-jcs-2022 credential it signed and a verifier: the
    in-process baselines each format's benchmark puts beside its own figures."""

    key: Ed25519PrivateKey
    did: str
    kid: str
    options: dict[str, str]
    suite: EddsaJcs2022
    verifier: Verifier
    vc: dict[str, Any]

    @classmethod
    def make(cls) -> JcsBaseline:
        """The fixed key ``07…07`` and :func:`credential` signed with it."""
        key = Ed25519PrivateKey(b"\x07" * 32)
        did = "did:key:" + key.public_key().multibase
        kid = f"{did}#{did[8:]}"
        options = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": "2026-01-01T00:00:00Z",
            "verificationMethod": kid,
            "proofPurpose": "assertionMethod",
        }
        suite = EddsaJcs2022()
        verifier = Verifier(SuiteRegistry([suite]), DidKeyResolver(), SystemClock())
        vc = add_proof(suite, credential(did), options, key)
        return cls(key, did, kid, options, suite, verifier, vc)

    def cases(self) -> dict[str, Callable[[], object]]:
        """Raw Ed25519 sign and verify (libsodium) and eddsa-jcs-2022 sign and verify."""
        msg = b"\x01" * 64
        signed = self.key.sign(msg) + msg
        raw_pk = self.key.public_key().raw
        return {
            "raw Ed25519 sign": lambda: self.key.sign(msg),
            "raw Ed25519 verify": lambda: sodium.crypto_sign_open(signed, raw_pk),
            "eddsa-jcs-2022 sign": lambda: add_proof(
                self.suite, credential(self.did), self.options, self.key
            ),
            "eddsa-jcs-2022 verify": lambda: self.verifier.verify(self.vc),
        }


def in_process(seconds: float) -> dict[str, float]:
    case = JcsBaseline.make().cases()
    return {
        "raw_verify": rate(case["raw Ed25519 verify"], seconds),
        "raw_sign": rate(case["raw Ed25519 sign"], seconds),
        "verify": rate(case["eddsa-jcs-2022 verify"], seconds),
        "sign": rate(case["eddsa-jcs-2022 sign"], seconds),
    }


def permit(did: str) -> dict[str, object]:
    """A registered, schema-checked type: the full issuance path (trust, schema, status)."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "ResidencePermitCredential"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:citizen-1",
            "fullName": "Li Lei",
            "dateOfBirth": "1990-02-03",
            "residenceAddress": "1 Hengshan Road, Xuhui",
            "permitNumber": "SH2026001",
        },
    }


def over_http(seconds: int, connections: int) -> dict[str, dict[str, float]]:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with server(workers=2) as url:
        agency = accredited_agency(url, "Bench Bureau")
        verifier = httpx.post(url + "/verifiers", json={"name": "Bench"}, headers=admin).json()
        auth = {"Authorization": f"Bearer {agency['apiKey']}"}
        verifier_auth = {"Authorization": f"Bearer {verifier['apiKey']}"}
        common = {"connections": connections, "seconds": seconds}
        out = {"bare": wrk(url + "/health/live", **common)}
        for suite in ("eddsa-jcs-2022", "eddsa-rdfc-2022"):
            issue_body = json.dumps(
                {"credential": permit(agency["did"]), "options": {"cryptosuite": suite}}
            )
            issued = httpx.post(
                url + "/credentials/issue",
                content=issue_body,
                headers={**auth, "Content-Type": "application/json"},
            )
            issued.raise_for_status()
            verify_body = json.dumps(
                {"verifiableCredential": issued.json()["verifiableCredential"]}
            )
            out[f"verify {suite}"] = wrk(
                url + "/credentials/verify",
                method="POST",
                body=verify_body,
                headers=verifier_auth,
                **common,
            )
            out[f"issue {suite}"] = wrk(
                url + "/credentials/issue", method="POST", body=issue_body, headers=auth, **common
            )
        return out


def _child(seconds: float) -> None:
    """One round in this process (``--child``): the in-process measure of bench_perf.py
    -- verify *from bytes* (strict parse + every proof step, the service's suites with
    their JSON-LD check, 1,000 distinct credentials from 40 did:key issuers) and Add
    Proof -- each beside raw PyNaCl in the same process; prints the rates as JSON.
    ``gc.freeze()`` first, as the service does once it has started."""
    import gc

    from identity.canonical import parse_json
    from identity.jsonld import ContextLoader
    from identity.proofs.suites import default_registry

    registry = default_registry(ContextLoader())
    suite = registry.named("DataIntegrityProof", "eddsa-jcs-2022")
    signers = [did_key_signer(i + 1) for i in range(40)]
    bodies = []
    for n in range(1000):
        key, did, options = signers[n % 40]
        bodies.append(json.dumps(add_proof(suite, city_permit(did, n), options, key)).encode())
    verifier = Verifier(registry, DidKeyResolver(), SystemClock())
    key, did, options = signers[0]
    msg = b"\x01" * 64
    signed, raw_pk = key.sign(msg) + msg, key.public_key().raw
    cursor = iter(range(10**12))
    document = city_permit(did, 0)
    gc.collect()
    gc.freeze()
    print(
        json.dumps(
            {
                "raw verify": rate(lambda: sodium.crypto_sign_open(signed, raw_pk), seconds),
                "verify": rate(
                    lambda: verifier.verify(parse_json(bodies[next(cursor) % 1000])), seconds
                ),
                "raw sign": rate(lambda: key.sign(msg), seconds),
                "sign": rate(lambda: add_proof(suite, document, options, key), seconds),
            }
        )
    )


def before_after(before: Path, rounds: int, seconds: float) -> None:
    """In-process verify from bytes and sign of this checkout and of ``before`` (a source
    tree of the project, e.g. ``git archive main``), each round a fresh process per tree
    with its own raw PyNaCl baseline, the trees alternating (A, B, B, A, ...); medians
    of each tree's ratios to raw, with the load average."""
    import os
    import statistics
    import subprocess

    trees = {"before": before.resolve(), "after": Path(__file__).resolve().parents[1]}
    ratios: dict[str, dict[str, list[float]]] = {t: {"verify": [], "sign": []} for t in trees}
    rates: dict[str, dict[str, list[float]]] = {t: {} for t in trees}
    names = list(trees)
    for r in range(rounds):
        for tree in names if r % 2 == 0 else reversed(names):
            env = {**os.environ, "IDENTITY_BENCH_SRC": str(trees[tree])}
            out = subprocess.run(
                [sys.executable, __file__, "--child", "--seconds", str(seconds)],
                env=env, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            got = json.loads(out.strip().splitlines()[-1])
            for k, v in got.items():
                rates[tree].setdefault(k, []).append(v)
            ratios[tree]["verify"].append(got["verify"] / got["raw verify"])
            ratios[tree]["sign"].append(got["sign"] / got["raw sign"])
    print(f"In process, one core, eddsa-jcs-2022 ({rounds} rounds, medians; {_load()})")
    rows = []
    for tree in names:
        med = {k: statistics.median(v) for k, v in rates[tree].items()}
        v, s = (statistics.median(ratios[tree][k]) for k in ("verify", "sign"))
        rows.append(
            (
                f"{tree}: raw verify / verify from bytes",
                f"{med['raw verify']:,.0f}/s / {med['verify']:,.0f}/s",
                f"{v:.0%} of raw",
            )
        )
        rows.append((f"{tree}: raw sign / sign (Add Proof)",
                     f"{med['raw sign']:,.0f}/s / {med['sign']:,.0f}/s",
                     f"{s:.0%} of raw"))  # fmt: skip
    table(rows)
    v = statistics.median(ratios["after"]["verify"])
    s = statistics.median(ratios["after"]["sign"])
    print(f"  [{'met' if v >= 0.6 else 'NOT MET':>7}] verify from bytes >= 60% of raw: {v:.0%}")
    print(f"  [{'met' if s >= 0.5 else 'NOT MET':>7}] sign >= 50% of raw sign: {s:.0%}")


def _load() -> str:
    import os

    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before-src", type=Path, help="also measure this source tree, in one run")
    args = parser.parse_args()
    if args.child:
        _child(args.seconds)
        return
    if args.before_src:
        before_after(args.before_src, args.rounds, args.seconds)
        return
    r = in_process(args.seconds)
    print("eddsa-jcs-2022 in process (1 core)")
    table(
        [
            (
                "raw PyNaCl verify (floor)",
                f"{r['raw_verify']:,.0f}/s",
                "libsodium crypto_sign_open",
            ),
            (
                "eddsa-jcs-2022 verify",
                f"{r['verify']:,.0f}/s",
                f"{r['verify'] / r['raw_verify']:.0%} of raw verify (target >= 30 %)",
            ),
            ("raw PyNaCl sign", f"{r['raw_sign']:,.0f}/s", ""),
            (
                "eddsa-jcs-2022 sign",
                f"{r['sign']:,.0f}/s",
                f"{r['sign'] / r['raw_sign']:.0%} of raw sign",
            ),
        ]
    )
    if args.no_http:
        return
    h = over_http(int(max(args.seconds * 2, 3)), args.connections)
    print(
        f"HTTP, identity serve --workers 2, wrk {args.connections} connections "
        "(registered type: schema, accreditation, status list, issuer trust)"
    )
    bare = h["bare"]["rps"]
    targets = {
        "verify eddsa-jcs-2022": "6,000/s",
        "issue eddsa-jcs-2022": "2,500/s",
        "verify eddsa-rdfc-2022": "350/s",
        "issue eddsa-rdfc-2022": "450/s",
    }
    rows = [
        ("GET /health/live (bare floor)", f"{bare:,.0f}/s", f"p50 {h['bare']['p50_ms']:.1f} ms")
    ]
    for name, target in targets.items():
        r = h[name]
        rows.append(
            (
                f"POST /credentials/{name}",
                f"{r['rps']:,.0f}/s",
                f"{r['rps'] / bare:.0%} of bare; p50 {r['p50_ms']:.1f} ms, "
                f"p99 {r['p99_ms']:.1f} ms; "
                f"non-2xx {r['errors']:.0f} (target {target})",
            )
        )
    table(rows)


if __name__ == "__main__":
    main()
