"""Issue 18 part 2: OpenID4VP presentation verifications per second over HTTP (create
request -> fetch the signed request object -> direct_post the SD-JWT VC presentation),
beside plain ``POST /credentials/sd-jwt/verify`` (the same presentation work: a KB-JWT
signed per call) on the same server, interleaved rounds, medians.

    .venv/bin/python benchmarks/bench_oid4vp.py [--rounds N] [--seconds S] [--threads T]

The server is ``identity serve`` (2 workers) on port 9820 unless ``--port``; the wallet
side is the reference wallet's logic (identity/wallet_client/presentation.py) in client
threads, so both figures include the same client-side cost of building a presentation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import ADMIN, accredited_agency, server, table
from identity.jose.jws import parse_compact
from identity.jose.keys import SigningKey
from identity.sdjwt.format import split
from identity.sdjwt.holder import KeyBinding, present
from identity.wallet_client.presentation import (
    HeldCredential,
    build_response,
    verify_request_object,
)

SUBJECT = {
    "id": "did:example:citizen-1",
    "fullName": "Li Lei",
    "dateOfBirth": "1990-02-03",
    "residenceAddress": "1 Hengshan Road, Xuhui",
    "district": "Xuhui",
    "permitNumber": "SH2026001",
}


def throughput(fn: Callable[[httpx.Client], None], threads: int, seconds: float) -> float:
    """Completed calls of ``fn`` per second across ``threads`` client threads."""
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def work(i: int) -> None:
        with httpx.Client(timeout=30) as http:
            while time.perf_counter() < stop:
                fn(http)
                done[i] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / (time.perf_counter() - start)


def cases(url: str) -> dict[str, Callable[[httpx.Client], None]]:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    agency = accredited_agency(url)
    verifier = httpx.post(url + "/verifiers", json={"name": "Bench"}, headers=admin).json()
    vauth = {"Authorization": f"Bearer {verifier['apiKey']}"}
    holder = SigningKey.generate_p256()
    issued = httpx.post(
        url + "/credentials/sd-jwt/issue",
        json={
            "credential": {"type": "ResidencePermitCredential", "credentialSubject": SUBJECT},
            "options": {"cnf": {"jwk": holder.public_jwk.to_dict()}},
        },
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    issued.raise_for_status()
    credential = issued.json()["credential"]
    vct = parse_compact(split(credential).issuer_jwt).claims()["vct"]
    held = [HeldCredential("permit", "dc+sd-jwt", credential)]
    query = {
        "credentials": [
            {
                "id": "permit",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [vct]},
                "claims": [{"path": ["dateOfBirth"]}],
            }
        ]
    }

    def local(address: str) -> str:
        parts = urlsplit(address)
        return url + parts.path

    def oid4vp(http: httpx.Client) -> None:
        created = http.post(url + "/oid4vp/requests", json={"dcql_query": query}, headers=vauth)
        created.raise_for_status()
        body = created.json()
        params = dict(parse_qsl(urlsplit(body["authorizationRequest"]).query))
        fetched = http.get(local(params["request_uri"]))
        fetched.raise_for_status()
        now = int(time.time())
        request = verify_request_object(fetched.text, params["client_id"], now=now)
        form = build_response(request, held, holder, now=now)
        posted = http.post(local(request["response_uri"]), data=form)
        posted.raise_for_status()
        result = http.get(local(body["result"]), headers=vauth).json()
        assert result["verified"] is True, result

    def plain(http: httpx.Client) -> None:
        shown = present(
            credential,
            ["dateOfBirth"],
            holder_key=holder,
            binding=KeyBinding("bench-nonce", "https://counter.example", int(time.time())),
        )
        options = {"keyBinding": {"nonce": "bench-nonce", "audience": "https://counter.example"}}
        response = http.post(
            url + "/credentials/sd-jwt/verify",
            json={"credential": shown, "options": options},
            headers=vauth,
        )
        response.raise_for_status()

    return {"POST /credentials/sd-jwt/verify (baseline)": plain, "OpenID4VP flow": oid4vp}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=9820)
    args = parser.parse_args()
    with server(workers=2, port=args.port) as url:
        flows = cases(url)
        out: dict[str, list[float]] = {name: [] for name in flows}
        for _ in range(args.rounds):
            for name, fn in flows.items():
                out[name].append(throughput(fn, args.threads, args.seconds))
    med = {k: statistics.median(v) for k, v in out.items()}
    base = med["POST /credentials/sd-jwt/verify (baseline)"]
    print(
        f"over HTTP (identity serve, 2 workers, {args.threads} client threads), "
        f"median of {args.rounds} interleaved rounds"
    )
    table([(k, f"{v:,.1f}/s", f"{v / base:.3f} of plain verify") for k, v in med.items()])
    print(json.dumps({k: [round(x, 1) for x in v] for k, v in out.items()}))


if __name__ == "__main__":
    main()
