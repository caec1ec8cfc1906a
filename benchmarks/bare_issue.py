"""The bare sign-only endpoint that HTTP issuance is measured against (bench_issue.py).

``POST /issue`` parses the body with the same strict parser, adds an eddsa-jcs-2022
proof with the same code (identity.proofs, PyNaCl) and answers 201 with the signed
credential, in FastAPI under uvicorn like the service -- and nothing else: no API key,
no trust or schema check, no status entry, no record, no log entry.

    uvicorn benchmarks.bare_issue:app --workers 2 --port PORT
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from identity.canonical import parse_json
from identity.clock import SystemClock, xsd_datetime
from identity.keys import Ed25519PrivateKey
from identity.proofs import add_proof
from identity.proofs.eddsa_jcs import EddsaJcs2022

KEY = Ed25519PrivateKey(b"\x07" * 32)
DID = "did:key:" + KEY.public_key().multibase
SUITE = EddsaJcs2022()
CLOCK = SystemClock()

app = FastAPI()


@app.post("/issue", status_code=201)
async def issue(request: Request) -> JSONResponse:
    """Sign ``body.credential`` as :data:`DID` (its ``issuer`` is replaced by it)."""
    body: dict[str, Any] = parse_json(await request.body())
    document = dict(body["credential"], issuer=DID)
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": xsd_datetime(CLOCK.now()),
        "verificationMethod": f"{DID}#{DID.removeprefix('did:key:')}",
        "proofPurpose": "assertionMethod",
    }
    signed = add_proof(SUITE, document, options, KEY)
    return JSONResponse({"verifiableCredential": signed}, status_code=201)
