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

import nacl.bindings as sodium

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import rate
from identity.clock import SystemClock
from identity.credentials.verifier import Verifier
from identity.dids.key import DidKeyResolver
from identity.jose.envelope import VC_COSE, VC_JWT
from identity.jose.vcjose import EnvelopingVerifier, secure
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


def cases() -> dict[str, Callable[[], object]]:
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
    base = Verifier(SuiteRegistry([suite]), DidKeyResolver(), SystemClock())
    enveloping = EnvelopingVerifier(base, anchor=lambda _: None)
    di = add_proof(suite, credential(did), options, key)
    jwt = secure(credential(did), VC_JWT, key=key, kid=kid)
    cbor = secure(credential(did), VC_COSE, key=key, kid=kid)
    for document in (di, jwt, cbor):  # every case verifies before it is timed
        enveloping.verify(document)
    msg = b"\x01" * 64
    signed = key.sign(msg) + msg
    raw_pk = key.public_key().raw
    return {
        "raw Ed25519 sign": lambda: key.sign(msg),
        "raw Ed25519 verify": lambda: sodium.crypto_sign_open(signed, raw_pk),
        "eddsa-jcs-2022 sign": lambda: add_proof(suite, credential(did), options, key),
        "eddsa-jcs-2022 verify": lambda: base.verify(di),
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
