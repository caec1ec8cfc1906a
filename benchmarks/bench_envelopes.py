"""VC-JOSE-COSE envelopes (docs/jose-cose.md) in process, beside their floors in one run.

    .venv/bin/python benchmarks/bench_envelopes.py [--rounds N] [--seconds S]

Cases, each measured once per round in the same order (A, B, C, ... interleaved) and
reported as the median over the rounds: raw Ed25519 sign/verify (PyNaCl, the floor),
eddsa-jcs-2022 add-proof/verify (the Data Integrity baseline), and the envelopes
``application/vc+jwt`` and ``application/vc+cose`` secure/verify. Verification is the
cryptographic part plus well-formedness, issuer and validity (no status, trust or anchor
stores, no JSON-LD check: the same for every case). Ratios, not absolute numbers, are
what to compare: other processes share this machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_credentials import JcsBaseline, credential
from benchmarks.harness import rate
from identity.jose.envelope import VC_COSE, VC_JWT
from identity.jose.vcjose import EnvelopingVerifier, secure


def cases() -> dict[str, Callable[[], object]]:
    base = JcsBaseline.make()
    key, did, kid = base.key, base.did, base.kid
    enveloping = EnvelopingVerifier(base.verifier, anchor=lambda _: None)
    jwt = secure(credential(did), VC_JWT, key=key, kid=kid)
    cbor = secure(credential(did), VC_COSE, key=key, kid=kid)
    for document in (base.vc, jwt, cbor):  # every case verifies before it is timed
        enveloping.verify(document)
    return {
        **base.cases(),
        "vc+jwt secure": lambda: secure(credential(did), VC_JWT, key=key, kid=kid),
        "vc+jwt verify": lambda: enveloping.verify(jwt),
        "vc+cose secure": lambda: secure(credential(did), VC_COSE, key=key, kid=kid),
        "vc+cose verify": lambda: enveloping.verify(cbor),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.4)
    args = parser.parse_args()
    measured = cases()
    samples: dict[str, list[float]] = {name: [] for name in measured}
    for _ in range(args.rounds):
        for name, fn in measured.items():
            samples[name].append(rate(fn, args.seconds))
    median = {name: statistics.median(values) for name, values in samples.items()}
    print("| case | ops/s (median) | vs raw Ed25519 | vs eddsa-jcs-2022 |")
    print("|---|---|---|---|")
    for name, value in median.items():
        kind = "sign" if name.endswith(("sign", "secure")) else "verify"
        raw = median[f"raw Ed25519 {kind}"]
        jcs = median[f"eddsa-jcs-2022 {kind}"]
        print(f"| {name} | {value:,.0f} | {value / raw:.3f} | {value / jcs:.2f} |")


if __name__ == "__main__":
    main()
