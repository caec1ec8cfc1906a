"""Issue 6 targets: status checking cost, mass revocation, serving a list.

    .venv/bin/python benchmarks/bench_status.py

Baseline in the same run: the same credential verified without a status entry. Target:
verification with status checking within 20 % of verification without it.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import rate, table
from identity.clock import FixedClock
from identity.credentials.verifier import Verifier
from schemas.api import CreateIssuerRequest
from service.container import Services
from service.routers.issuers import create_agency
from service.settings import Settings


def credential(did: str, n: int) -> dict[str, object]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"did:example:citizen-{n}"},
    }


async def main() -> None:
    from datetime import UTC, datetime

    data = tempfile.mkdtemp(prefix="bench-status-")
    settings = Settings(data_dir=Path(data), admin_token="a" * 40, master_secret="ab" * 32)
    svc = Services.build(settings, clock=FixedClock(datetime(2026, 6, 1, tzinfo=UTC)))
    await svc.start()
    agency = await create_agency(svc, CreateIssuerRequest(name="Bench"))
    issuer = svc.store.get_issuer(agency.id)
    key = svc.issuance.keys.signing_key(issuer)

    async def issue(n: int, with_status: bool) -> tuple[dict[str, object], str]:
        signed, _, record = await svc.issuance.issuer.issue(
            credential(agency.did, n),
            issuer=issuer,
            key=key,
            verification_method=agency.verificationMethod,
            suite=svc.verification.suite_for({}),
            assign_status=(lambda s: svc.issuance.status.assign(issuer, s))
            if with_status
            else None,
        )
        return signed.json, record.id

    with_status, _ = await issue(1, True)
    without_check = Verifier(
        svc.verification.registry,
        svc.verification.resolver,
        svc.clock,
        extra_checks=[c for c in svc.verification.verifier.extra_checks if c[0] != "status"],
    )
    no_status_rate = rate(lambda: without_check.verify(with_status), 2)
    status_rate = rate(lambda: svc.verification.verifier.verify(with_status), 2)
    if "--profile" in sys.argv:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        for _ in range(3000):
            svc.verification.verifier.verify(with_status)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)

    ids = [(await issue(n, True))[1] for n in range(2, 10_002)]
    records = [svc.store.get_credential(i) for i in ids]
    start = time.perf_counter()
    for record in records:
        assert record.status_group and record.status_index is not None
        svc.store.set_status(record.status_group, "revocation", record.status_index, True)
    revoke_s = time.perf_counter() - start
    groups = sorted({r.status_group for r in records if r.status_group})
    start = time.perf_counter()
    document, _ = svc.issuance.status.signed_list(groups[0], "revocation")
    resign_ms = (time.perf_counter() - start) * 1000
    serve = rate(lambda: svc.issuance.status.signed_list(groups[0], "revocation"), 1)
    await svc.aclose()

    print("Bitstring Status List (in process, 1 core)")
    table(
        [
            (
                "verify, status not checked (baseline)",
                f"{no_status_rate:,.0f}/s",
                "same credential",
            ),
            (
                "verify with status check",
                f"{status_rate:,.0f}/s",
                f"{status_rate / no_status_rate:.0%} of baseline (target >= 80 %)",
            ),
            (
                "revoke 10,000 credentials",
                f"{10_000 / revoke_s:,.0f}/s",
                f"{revoke_s:.2f} s, one durable write each; lists: {len(groups)}",
            ),
            ("re-sign a changed list", f"{resign_ms:.1f} ms", f"{len(str(document)):,} bytes JSON"),
            ("serve the signed list (cached)", f"{serve:,.0f}/s", "signed once per version"),
        ]
    )


if __name__ == "__main__":
    asyncio.run(main())
