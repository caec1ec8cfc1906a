"""A bare FastAPI endpoint doing only the eddsa-rdfc-2022 proof check, for
benchmarks/bench_rdfc.py: ``identity.proofs.verify_proofs`` with did:key resolution and
nothing else (no issuer, status, trust or anchor check, no middleware, one route).

    BENCH_RDFC_PATH=fast|reference uvicorn benchmarks.bare_rdfc:app --workers 1

``fast`` canonicalizes through the RDFC-1.0 fast path (identity.canonical.quads),
``reference`` through pyld alone: the same bytes, so the difference is the fast path.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from identity.dids.key import DidKeyResolver
from identity.errors import IdentityError
from identity.jsonld import ContextLoader
from identity.proofs import SuiteRegistry, verify_proofs
from identity.proofs.suites import default_registry

app = FastAPI()


@functools.cache
def _registry() -> tuple[SuiteRegistry, DidKeyResolver]:
    fast = os.environ.get("BENCH_RDFC_PATH", "fast") == "fast"
    return default_registry(ContextLoader(), rdfc_fast_path=fast), DidKeyResolver()


@app.post("/credentials/verify")
async def verify(request: Request) -> JSONResponse:
    body: dict[str, Any] = json.loads(await request.body())
    registry, resolver = _registry()
    try:
        verify_proofs(body["verifiableCredential"], registry, resolver, purpose="assertionMethod")
    except IdentityError:
        return JSONResponse({"verified": False}, status_code=422)
    return JSONResponse({"verified": True})
