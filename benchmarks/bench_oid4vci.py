"""Issue 18: full OpenID4VCI issuance flows per second over HTTP (offer -> token ->
nonce -> credential, an SD-JWT VC) beside plain ``POST /credentials/sd-jwt/issue`` on the
same server, interleaved.

    .venv/bin/python benchmarks/bench_oid4vci.py [--rounds N] [--seconds S] [--port P]

One ``identity serve`` (2 workers) on port ``--port`` (default 9802); one client
connection. Each round measures the flow, then the plain issuance, for ``--seconds``
each; a figure is the median of its rounds and the ratio is flow/plain of the same
rounds. A flow is four requests and two signatures (the holder's proof, the issuer's
credential) against one request and one signature, so the ratio is the protocol's cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import accredited_agency, server, table
from identity.jose.keys import SigningKey
from identity.wallet_client.issuance import credential_request, key_proof, parse_offer, token_form

CLAIMS = {
    "fullName": "Li Lei",
    "dateOfBirth": "1990-02-03",
    "residenceAddress": "1 Hengshan Road, Xuhui",
    "permitNumber": "SH2026001",
}
CONFIG = "ResidencePermitCredential_dc_sd_jwt"


def per_second(fn: Any, seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=9802)
    args = parser.parse_args()
    holder = SigningKey.generate_p256()
    with server(port=args.port) as url, httpx.Client(base_url=url, timeout=30) as http:
        agency = accredited_agency(url)
        key = {"Authorization": f"Bearer {agency['apiKey']}"}

        def flow() -> None:
            made = http.post(
                "/oid4vci/offers",
                json={"type": "ResidencePermitCredential", "claims": CLAIMS},
                headers=key,
            ).json()
            offer = parse_offer(made["credential_offer"])
            token = http.post("/oid4vci/token", data=token_form(offer, made["txCode"])).json()
            nonce = http.post("/oid4vci/nonce").json()["c_nonce"]
            proof = key_proof(
                holder, audience=offer.credential_issuer, nonce=nonce, issued_at=int(time.time())
            )
            answer = http.post(
                "/oid4vci/credential",
                json=credential_request(CONFIG, proof),
                headers={"Authorization": f"Bearer {token['access_token']}"},
            )
            assert answer.status_code == 200, answer.text

        def plain() -> None:
            answer = http.post(
                "/credentials/sd-jwt/issue",
                json={
                    "credential": {
                        "type": "ResidencePermitCredential",
                        "credentialSubject": {"id": "did:example:citizen", **CLAIMS},
                    },
                    "options": {"cnf": {"jwk": holder.public_jwk.to_dict()}},
                },
                headers=key,
            )
            assert answer.status_code == 201, answer.text

        flow(), plain()  # warm up
        flows, plains = [], []
        for _ in range(args.rounds):
            flows.append(per_second(flow, args.seconds))
            plains.append(per_second(plain, args.seconds))
        f, p = statistics.median(flows), statistics.median(plains)
        ratios = statistics.median(a / b for a, b in zip(flows, plains, strict=True))
        print(f"OpenID4VCI over HTTP ({args.rounds} interleaved rounds of {args.seconds}s)")
        table(
            [
                ("oid4vci full flow", f"{f:,.1f}/s", "offer+token+nonce+credential"),
                ("sd-jwt/issue (baseline)", f"{p:,.1f}/s", "one request"),
                ("flow / baseline", f"{ratios:.3f}", "median of per-round ratios"),
            ]
        )


if __name__ == "__main__":
    main()
