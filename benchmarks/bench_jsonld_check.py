"""What the JSON-LD check costs eddsa-jcs-2022 verification (issue #11 target: >= 85 %).

    .venv/bin/python benchmarks/bench_jsonld_check.py [--rounds 15] [--seconds 0.3]

In one process, interleaved round by round (the order alternating), medians over rounds:

- verify, check on: ``Verifier.verify`` of the service's credential shape (bundled type,
  its context, status entry, schema, relatedResource) signed with eddsa-jcs-2022, with the
  suite's JSON-LD check (fast path: precomputed term tables);
- verify, check off: the same verifier and credential, the suite built without the check;
- verify, full processing: the check forced onto pyld's expansion + toRdf (what the check
  would cost without term tables), for comparison;
- floor: raw PyNaCl (libsodium) Ed25519 verify of a 64-byte message, same run.

Prints each rate, "on" as a share of "off" (the target), and each beside the floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.bindings as sodium

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import rate, table
from identity.canonical.rdf import check_json_ld
from identity.canonical.terms import JsonLdChecker
from identity.clock import SystemClock
from identity.credentials.verifier import Verifier
from identity.dids.key import DidKeyResolver
from identity.jsonld import ContextLoader
from identity.proofs import SuiteRegistry, add_proof
from identity.proofs.eddsa_jcs import EddsaJcs2022
from tests.proofs.support import did_key_signer, service_credential


class FullOnly(JsonLdChecker):
    """The checker with its fast path switched off: every document goes to pyld."""

    def check(self, document: dict[str, Any]) -> None:
        self.full += 1
        check_json_ld(document, self.loader)


def setup() -> tuple[dict[str, Callable[[], object]], JsonLdChecker]:
    key, did, options = did_key_signer(b"\x07" * 32)
    document = {**service_credential(), "issuer": did}
    loader = ContextLoader()
    checker = JsonLdChecker(loader)
    vc = add_proof(EddsaJcs2022(checker), document, options, key)  # refuses invalid JSON-LD

    def verifier(suite: EddsaJcs2022) -> Callable[[], object]:
        v = Verifier(SuiteRegistry([suite]), DidKeyResolver(), SystemClock())
        v.verify(vc)  # warm: tables built, caches filled
        return lambda: v.verify(vc)

    msg = b"\x01" * 64
    signed = key.sign(msg) + msg
    raw_pk = key.public_key().raw
    operations = {
        "verify, check on": verifier(EddsaJcs2022(checker)),
        "verify, check off": verifier(EddsaJcs2022()),
        "verify, full processing": verifier(EddsaJcs2022(FullOnly(loader))),
        "floor: PyNaCl verify": lambda: sodium.crypto_sign_open(signed, raw_pk),
    }
    return operations, checker


def measure(rounds: int, seconds: float) -> tuple[dict[str, float], JsonLdChecker]:
    operations, checker = setup()
    samples: dict[str, list[float]] = {name: [] for name in operations}
    names = list(operations)
    for n in range(rounds):
        for name in names if n % 2 == 0 else reversed(names):
            samples[name].append(rate(operations[name], seconds))
    return {name: statistics.median(values) for name, values in samples.items()}, checker


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=0.3)
    args = parser.parse_args()
    medians, checker = measure(args.rounds, args.seconds)
    floor = medians["floor: PyNaCl verify"]
    off = medians["verify, check off"]
    table(
        [
            (name, f"{value:,.0f}/s", f"{value / floor:.2f} x floor, {value / off:.0%} of off")
            for name, value in medians.items()
        ]
    )
    share = medians["verify, check on"] / off
    print(
        f"\neddsa-jcs-2022 verify with the JSON-LD check on: {share:.1%} of the same verify "
        f"with it off (target >= 85 %); medians of {args.rounds} interleaved rounds; "
        f"fast path taken {checker.fast} times, full processing {checker.full} times"
    )
    return 0 if checker.full == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
