"""Issue 17: SD-JWT VC issue and verify (with key binding), in process and over HTTP,
beside raw Ed25519 sign/verify and eddsa-jcs-2022 of the same run.

    .venv/bin/python benchmarks/bench_sdjwt.py [--rounds N] [--seconds S] [--no-http]

In process, the measurements are interleaved (A, B, C, … then again, ``--rounds`` times)
and each figure is the median of its rounds; ratios are against raw Ed25519 (PyNaCl) and
eddsa-jcs-2022 measured in the same rounds. Over HTTP (``identity serve``, 2 workers,
wrk), SD-JWT issue/verify alternate with eddsa-jcs-2022 issue/verify on the same server.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_credentials import JcsBaseline, permit
from benchmarks.harness import ADMIN, accredited_agency, rate, server, table, wrk
from identity.jose.keys import SigningKey
from identity.sdjwt.holder import KeyBinding, present
from identity.sdjwt.issuance import SdJwtVcClaims, issue_sd_jwt_vc
from identity.sdjwt.verifier import KeyBindingRequirement, verify_sd_jwt_vc

CLAIMS = {
    "fullName": "Li Lei",
    "dateOfBirth": "1990-02-03",
    "residenceAddress": "1 Hengshan Road, Xuhui",
    "district": "Xuhui",
    "permitNumber": "SH2026001",
}
DISCLOSABLE = ("dateOfBirth", "residenceAddress", "district", "permitNumber")
AUD, NONCE = "https://counter.example", "bench-nonce"


def in_process(rounds: int, seconds: float) -> dict[str, list[float]]:
    base = JcsBaseline.make()
    agency = SigningKey.from_ed25519(base.key)
    holder = SigningKey.generate_p256()
    now = int(time.time())
    envelope = SdJwtVcClaims(
        "https://id.example",
        "https://id.example/vct/X",
        now,
        holder.public_jwk,
        now,
        now + 86_400,
        {"status_list": {"idx": 1, "uri": "https://id.example/s"}},
    )

    def sd_issue() -> str:
        return issue_sd_jwt_vc(
            CLAIMS, envelope, agency, kid="k", disclosable=DISCLOSABLE, random=os.urandom
        ).sd_jwt

    issued = sd_issue()

    def sd_present() -> str:
        return present(
            issued,
            ["dateOfBirth"],
            holder_key=holder,
            binding=KeyBinding(NONCE, AUD, int(time.time())),
        )

    presentation = sd_present()
    requirement = KeyBindingRequirement(NONCE, AUD)

    def sd_verify() -> object:
        return verify_sd_jwt_vc(
            presentation,
            issuer_key=lambda h, p: agency.public_jwk,
            now=int(time.time()),
            key_binding=requirement,
        )

    cases = {
        **base.cases(),
        "SD-JWT VC issue (EdDSA, 4 SD claims, decoys)": sd_issue,
        "SD-JWT VC present + KB-JWT (ES256)": sd_present,
        "SD-JWT VC verify with KB-JWT": sd_verify,
    }
    out: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            out[name].append(rate(fn, seconds))
    return out


def over_http(seconds: int, connections: int, rounds: int) -> dict[str, list[dict[str, float]]]:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    holder = SigningKey.generate_p256()
    with server(workers=2) as url:
        agency = accredited_agency(url, "Bench Bureau")
        verifier = httpx.post(url + "/verifiers", json={"name": "Bench"}, headers=admin).json()
        auth = {"Authorization": f"Bearer {agency['apiKey']}"}
        verifier_auth = {"Authorization": f"Bearer {verifier['apiKey']}"}
        subject = {"id": "did:example:citizen-1", **CLAIMS}
        sd_body = json.dumps(
            {
                "credential": {"type": "ResidencePermitCredential", "credentialSubject": subject},
                "options": {"cnf": {"jwk": holder.public_jwk.to_dict()}},
            }
        )
        issued = httpx.post(
            url + "/credentials/sd-jwt/issue",
            content=sd_body,
            headers={**auth, "Content-Type": "application/json"},
        )
        issued.raise_for_status()
        shown = present(
            issued.json()["credential"],
            ["dateOfBirth"],
            holder_key=holder,
            binding=KeyBinding(NONCE, AUD, int(time.time())),
        )
        sd_verify = json.dumps(
            {
                "credential": shown,
                "options": {"keyBinding": {"nonce": NONCE, "audience": AUD, "maxAge": 3600}},
            }
        )
        jcs_body = json.dumps(
            {"credential": permit(agency["did"]), "options": {"cryptosuite": "eddsa-jcs-2022"}}
        )
        jcs = httpx.post(
            url + "/credentials/issue",
            content=jcs_body,
            headers={**auth, "Content-Type": "application/json"},
        )
        jcs.raise_for_status()
        jcs_verify = json.dumps({"verifiableCredential": jcs.json()["verifiableCredential"]})
        common = {"connections": connections, "seconds": seconds}
        cases = {
            "bare GET /health/live": dict(url=url + "/health/live"),
            "eddsa-jcs-2022 verify": dict(
                url=url + "/credentials/verify",
                method="POST",
                body=jcs_verify,
                headers=verifier_auth,
            ),
            "SD-JWT VC verify + KB": dict(
                url=url + "/credentials/sd-jwt/verify",
                method="POST",
                body=sd_verify,
                headers=verifier_auth,
            ),
            "eddsa-jcs-2022 issue": dict(
                url=url + "/credentials/issue", method="POST", body=jcs_body, headers=auth
            ),
            "SD-JWT VC issue": dict(
                url=url + "/credentials/sd-jwt/issue", method="POST", body=sd_body, headers=auth
            ),
        }
        out: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, kwargs in cases.items():
                out[name].append(wrk(**kwargs, **common))  # type: ignore[arg-type]
        return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--http-seconds", type=int, default=3)
    parser.add_argument("--http-rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    r = {k: statistics.median(v) for k, v in in_process(args.rounds, args.seconds).items()}
    raw_sign, raw_verify = r["raw Ed25519 sign"], r["raw Ed25519 verify"]
    jcs_sign, jcs_verify = r["eddsa-jcs-2022 sign"], r["eddsa-jcs-2022 verify"]
    print(f"in process, 1 core, median of {args.rounds} interleaved rounds")
    rows = []
    for name, value in r.items():
        base = raw_sign if "sign" in name or "issue" in name or "present" in name else raw_verify
        jcs = jcs_sign if base is raw_sign else jcs_verify
        rows.append((name, f"{value:,.0f}/s", f"{value / base:.3f} of raw, {value / jcs:.2f}x jcs"))
    table(rows)
    if args.no_http:
        return
    h = over_http(args.http_seconds, args.connections, args.http_rounds)
    med = {k: statistics.median(x["rps"] for x in v) for k, v in h.items()}
    print(
        f"\nover HTTP (identity serve, 2 workers, wrk -c{args.connections}), "
        f"median of {args.http_rounds} interleaved rounds"
    )
    rows = []
    for name, value in med.items():
        if name.startswith("SD-JWT"):
            jcs_name = "eddsa-jcs-2022 " + ("verify" if "verify" in name else "issue")
            bare = value / med["bare GET /health/live"]
            note = f"{value / med[jcs_name]:.2f}x {jcs_name}, {bare:.3f} of bare"
        else:
            note = f"{value / med['bare GET /health/live']:.3f} of bare"
        non2xx = max(x.get("errors", 0.0) for x in h[name])
        rows.append(
            (name, f"{value:,.0f}/s", note + (f" ({non2xx:.0f} non-2xx!)" if non2xx else ""))
        )
    table(rows)


if __name__ == "__main__":
    main()
