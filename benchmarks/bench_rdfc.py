"""eddsa-rdfc-2022 throughput beside the floor: pyld's own URDNA2015 normalize.

    .venv/bin/python benchmarks/bench_rdfc.py [--seconds 2] [--profile]

Reads the vector documents in place from ../shared/vectors. For each document it prints
operations per second, in one process and one run, for:

- floor: ``pyld.jsonld.normalize(doc, URDNA2015)`` with a plain in-memory loader (what a
  straightforward pyld integration costs for ONE canonicalization);
- floor, cached: the same with pyld's shared resolved-context cache kept warm;
- rdfc(doc): this service's canonicalization (safe mode, work limit, cached contexts);
- sign: add_proof with eddsa-rdfc-2022, a new ``created`` each time (so the proof
  configuration is canonicalized afresh, as in production);
- sign, same options: the proof configuration comes from the suite's cache;
- verify: verify_proofs of the signed document (did:key resolution included);

and each as a ratio of the plain floor. Signing needs two canonicalizations (document and
proof configuration) where the floor does one.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyld import ContextResolver, jsonld

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from identity.canonical import rdfc  # noqa: E402
from identity.dids.key import DidKeyResolver  # noqa: E402
from identity.encoding import multibase_decode  # noqa: E402
from identity.jsonld import ContextLoader  # noqa: E402
from identity.keys import Ed25519PrivateKey  # noqa: E402
from identity.proofs import add_proof, verify_proofs  # noqa: E402
from identity.proofs.suites import default_registry  # noqa: E402

VECTORS = REPO / ".." / "shared" / "vectors"
DOCUMENTS = {
    "alumni (eddsa-common/unsigned.json)": "eddsa-common/unsigned.json",
    "employment (eddsa-common/employmentAuth.json)": "eddsa-common/employmentAuth.json",
}


def rate(operation: Callable[[], Any], seconds: float) -> float:
    operation()  # warm up
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        operation()
        count += 1
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--profile", action="store_true", help="profile signing, print top 25")
    args = parser.parse_args()
    if not VECTORS.is_dir():
        sys.exit(f"vectors not found at {VECTORS.resolve()}")

    loader = ContextLoader()
    registry = default_registry(loader)
    suite = registry.named("DataIntegrityProof", "eddsa-rdfc-2022")
    resolver = DidKeyResolver()
    key_pair = json.loads((VECTORS / "eddsa-common/keyPair.json").read_text())
    key = Ed25519PrivateKey(multibase_decode(key_pair["privateKeyMultibase"])[2:])
    options = json.loads((VECTORS / "eddsa-rdfc-2022/proofConfigDataInt.json").read_text())
    options.pop("@context")

    def plain_loader(url: str, _options: Any = None) -> dict[str, Any]:
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": loader.load(url),
        }

    def static_loader(url: str, _options: Any = None) -> dict[str, Any]:
        return {**plain_loader(url), "tag": "static"}

    shared_cache: dict[str, Any] = {}
    ticks = itertools.count()

    def fresh_options() -> dict[str, Any]:
        n = next(ticks)
        created = f"2024-01-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"
        return {**options, "created": created}

    def measure(title: str, document: dict[str, Any]) -> None:
        signed = add_proof(suite, document, options, key)
        floor = rate(
            lambda: jsonld.normalize(
                document,
                {
                    "algorithm": "URDNA2015",
                    "format": "application/n-quads",
                    "documentLoader": plain_loader,
                },
            ),
            args.seconds,
        )
        figures = {
            "floor, cached contexts": rate(
                lambda: jsonld.normalize(
                    document,
                    {
                        "algorithm": "URDNA2015",
                        "format": "application/n-quads",
                        "documentLoader": static_loader,
                        "contextResolver": ContextResolver(shared_cache, static_loader),
                    },
                ),
                args.seconds,
            ),
            "rdfc(doc)": rate(lambda: rdfc(document, loader), args.seconds),
            "sign, new created": rate(
                lambda: add_proof(suite, document, fresh_options(), key), args.seconds
            ),
            "sign, same options": rate(
                lambda: add_proof(suite, document, options, key), args.seconds
            ),
            "verify": rate(
                lambda: verify_proofs(signed, registry, resolver, purpose="assertionMethod"),
                args.seconds,
            ),
        }
        print(title)
        print(f"  {'floor: pyld normalize':28s} {floor:8.0f}/s   1.00")
        for name, value in figures.items():
            print(f"  {name:28s} {value:8.0f}/s   {value / floor:.2f}")
        print()

    print(f"eddsa-rdfc-2022 benchmark, {args.seconds:g} s per figure, one process\n")
    for title, relative in DOCUMENTS.items():
        measure(title, json.loads((VECTORS / relative).read_text()))

    if args.profile:
        document = json.loads((VECTORS / "eddsa-common/unsigned.json").read_text())
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(500):
            add_proof(suite, document, fresh_options(), key)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
