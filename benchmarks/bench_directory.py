"""Issue 7 figures: resolving a DID with 100 updates, and a citizen's access history
with 1,000 events -- latency p50/p99.

    .venv/bin/python benchmarks/bench_directory.py [--quick]

Baselines measured in the same run: for a replay, raw PyNaCl verification of the same
number of signatures plus one store read (the floor of re-verifying a history); over
HTTP, ``GET /health/live`` on the same server (the floor of any request).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nacl.signing

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import ADMIN, server, table
from identity.canonical import jcs
from identity.clock import xsd_datetime
from identity.credentials.presentations import sign_presentation
from identity.dids.cityid import (
    apply,
    create_operation,
    did_of,
    key_body,
    sign_operation,
)
from identity.dids.cityid_resolver import CityDidResolver
from identity.directory_store import DidOperationRecord
from identity.keys import Ed25519PrivateKey
from identity.proofs import add_proof
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.storage.sqlite_directory import SqliteDirectoryStore

UPDATES = 100
EVENTS = 1000
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def key(n: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey(n.to_bytes(32, "big"))


def timings(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """p50 and p99 of ``fn`` in milliseconds over ``n`` calls (after 3 warm-ups)."""
    for _ in range(3):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def fmt(p: tuple[float, float]) -> str:
    return f"{p[0]:.2f} / {p[1]:.2f}"


def in_process(n: int) -> None:
    path = Path(tempfile.mkdtemp(prefix="bench-dir-")) / "directory.sqlite3"
    store = SqliteDirectoryStore(path)
    op = create_operation(key(1))
    did = did_of(op)
    state = apply(None, op, T0, 0)
    store.append_did_operation(DidOperationRecord(did, 0, jcs(op).decode(), T0, 0))
    method = did + "#key-1"
    for i in range(1, UPDATES + 1):
        fragment = f"#k{i}"
        body = key_body(key(i + 1).public_key(), fragment)
        update = {"type": "update", "did": did, "previous": state.last_digest, "document": body}
        signed = sign_operation(update, key(i), method)
        moment = T0 + timedelta(minutes=i)
        state = apply(state, signed, moment, i)
        store.append_did_operation(DidOperationRecord(did, i, jcs(signed).decode(), moment, i))
        method = did + fragment
    warm = CityDidResolver(store)
    warm.resolve(did)
    signing = nacl.signing.SigningKey(b"\x01" * 32)
    message = b"x" * 64
    signature = signing.sign(message).signature
    verify_key = signing.verify_key

    def floor() -> None:
        store.did_operations(did)
        for _ in range(UPDATES + 1):
            verify_key.verify(message, signature)

    base = timings(floor, n)
    cold = timings(lambda: CityDidResolver(store).resolve(did), n)
    cached = timings(lambda: warm.resolve(did), n)
    as_of = timings(lambda: warm.resolve(did, version_time=T0 + timedelta(minutes=50)), n)
    print(f"In process, SQLite, one DID with {UPDATES} updates (p50 / p99 ms):")
    table(
        [
            ("floor: 1 store read + 101 raw verifies", fmt(base), "baseline"),
            ("resolve, cold (replay + re-verify)", fmt(cold), f"{cold[0] / base[0]:.2f}x floor"),
            ("resolve, cached replay", fmt(cached), f"{cached[0] / base[0]:.3f}x floor"),
            ("resolve as of versionTime", fmt(as_of), f"{as_of[0] / base[0]:.3f}x floor"),
        ]
    )
    store.close()


class Setup:
    """Everything the HTTP benchmark needs, made over the API like real clients."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.admin = {"Authorization": f"Bearer {ADMIN}"}

    def agency(self, name: str) -> dict[str, Any]:
        made = self.http.post("/issuers", json={"name": name}, headers=self.admin).json()
        accredit = {
            "issuer": made["id"],
            "types": ["ResidencePermitCredential"],
            "validUntil": "2099-01-01T00:00:00Z",
        }
        assert self.http.post("/accreditations", json=accredit, headers=self.admin).is_success
        made["headers"] = {"Authorization": f"Bearer {made['apiKey']}"}
        return made

    def did_with_updates(self, first: int) -> tuple[str, Ed25519PrivateKey, str]:
        signer = key(first)
        response = self.http.post("/dids", json=create_operation(signer))
        did, method = response.json()["did"], response.json()["did"] + "#key-1"
        for i in range(1, UPDATES + 1):
            meta = self.http.get(f"/dids/{did}").json()["didDocumentMetadata"]
            nxt = key(first + i)
            body = key_body(nxt.public_key(), f"#k{i}")
            update = {
                "type": "update",
                "did": did,
                "previous": meta["operationDigest"],
                "document": body,
            }
            answer = self.http.post(
                f"/dids/{did}/operations", json=sign_operation(update, signer, method)
            )
            assert answer.status_code == 200, answer.text
            signer, method = nxt, f"{did}#k{i}"
        return did, signer, method

    def login(self, did: str, signer: Ed25519PrivateKey, method: str) -> dict[str, str]:
        challenge = self.http.post("/auth/challenge").json()
        vp = sign_presentation(
            [],
            holder_key=signer,
            holder_did=did,
            verification_method=method,
            challenge=challenge["challenge"],
            domain=challenge["domain"],
            suite=EddsaJcs2022(),
            created=datetime.now(UTC),
        )
        token = self.http.post("/auth/token", json={"verifiablePresentation": vp}).json()
        return {"Authorization": f"Bearer {token['access_token']}"}

    def history(
        self, citizen: dict[str, str], did: str, signer: Ed25519PrivateKey, method: str
    ) -> None:
        holder, requester = self.agency("Holder"), self.agency("Requester")
        entry = {
            "id": "bench.register",
            "title": "Register",
            "fields": [{"name": "fullName"}],
            "legalBasis": "Benchmark",
            "requesters": ["*"],
        }
        assert self.http.post("/catalog", json=entry, headers=holder["headers"]).status_code == 201
        asked = self.http.post(
            "/sharing/requests",
            json={"resource": "bench.register", "subject": did, "purpose": "bench"},
            headers=requester["headers"],
        ).json()
        rid = asked["id"]
        template = self.http.get(
            f"/sharing/requests/{rid}/consent-template", headers=citizen
        ).json()
        options = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": xsd_datetime(datetime.now(UTC)),
            "verificationMethod": method,
            "proofPurpose": "assertionMethod",
        }
        signed = add_proof(EddsaJcs2022(), template, options, signer)
        assert self.http.post(
            f"/sharing/requests/{rid}/consent", json=signed, headers=citizen
        ).is_success
        assert self.http.post(
            f"/sharing/requests/{rid}/approve", headers=holder["headers"]
        ).is_success
        for _ in range(EVENTS - 3):
            served = self.http.post(
                f"/sharing/requests/{rid}/accesses", json={}, headers=holder["headers"]
            )
            assert served.status_code == 201, served.text


def over_http(n: int) -> None:
    with server(workers=1) as url:
        setup = Setup(url)
        did, signer, method = setup.did_with_updates(10)
        citizen = setup.login(did, signer, method)
        setup.history(citizen, did, signer, method)
        time.sleep(1.0)  # let the log integrate everything under one checkpoint
        http = setup.http
        history = http.get("/wallet/access-history", headers=citizen).json()
        events = sum(len(r["history"]) for r in history["requests"])
        assert events == EVENTS, events
        assert all(e["integrated"] for r in history["requests"] for e in r["history"])
        base = timings(lambda: http.get("/health/live"), n)
        latest = timings(lambda: http.get(f"/dids/{did}"), n)
        old = timings(lambda: http.get(f"/dids/{did}", params={"versionId": "50"}), n)
        trace = timings(
            lambda: http.get("/wallet/access-history", headers=citizen), max(20, n // 5)
        )
        print("\nOver HTTP (identity serve, 1 worker, SQLite; p50 / p99 ms):")
        table(
            [
                ("GET /health/live", fmt(base), "baseline"),
                (
                    f"GET /dids/<did with {UPDATES} updates>",
                    fmt(latest),
                    f"{latest[0] / base[0]:.1f}x baseline",
                ),
                ("  … ?versionId=50", fmt(old), f"{old[0] / base[0]:.1f}x baseline"),
                (
                    f"GET /wallet/access-history ({EVENTS} events + proofs)",
                    fmt(trace),
                    f"{trace[0] / base[0]:.1f}x baseline",
                ),
            ]
        )


def main() -> None:
    n = 50 if "--quick" in sys.argv else 300
    in_process(n)
    over_http(n)


if __name__ == "__main__":
    main()
