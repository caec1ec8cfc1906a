"""The baseline of benchmarks/bench_perf.py: a bare FastAPI endpoint doing only the
eddsa-jcs-2022 proof check, with the same libraries the service uses (``json``,
``rfc8785``, ``hashlib``, PyNaCl, ``base58``) and nothing else: no issuer, status,
trust or anchor check, no middleware, one route.

    uvicorn benchmarks.bare_verify:app --workers 2
"""

from __future__ import annotations

import hashlib
import json

import base58
import nacl.bindings as sodium
import rfc8785
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


def proof_check(credential: dict) -> bool:  # type: ignore[type-arg]
    """eddsa-jcs-2022 §3.3: JCS of the unsecured document and of the proof options,
    SHA-256 of each, Ed25519 over config-hash || document-hash; did:key keys only."""
    proof = credential["proof"]
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    data = (
        hashlib.sha256(rfc8785.dumps(options)).digest()
        + hashlib.sha256(rfc8785.dumps(unsecured)).digest()
    )
    did = proof["verificationMethod"].partition("#")[0]
    public_key = base58.b58decode(did.removeprefix("did:key:z"))[2:]
    signature = base58.b58decode(proof["proofValue"][1:])
    try:
        sodium.crypto_sign_open(signature + data, public_key)
    except Exception:
        return False
    return True


@app.post("/credentials/verify")
async def verify(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    ok = proof_check(body["verifiableCredential"])
    return JSONResponse({"verified": ok}, status_code=200 if ok else 422)


async def asgi(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def,type-arg]
    """The same proof check as a bare ASGI callable (no framework at all): what
    FastAPI/Starlette routing and request handling cost is the difference.

    uvicorn benchmarks.bare_verify:asgi --workers 2
    """
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    if scope["path"] != "/credentials/verify":
        status, payload = 404, b'{"detail":"not found"}'
    else:
        ok = proof_check(json.loads(b"".join(chunks))["verifiableCredential"])
        status, payload = (200, b'{"verified":true}') if ok else (422, b'{"verified":false}')
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload})
