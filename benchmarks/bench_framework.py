"""What the framework costs on ``POST /credentials/verify``, in process (issue #15).

One app (memory store), one issued credential, a verifier key; no sockets, no server:
each request is an ASGI call of the whole app (middleware, routing across every route,
dependency solving, the endpoint), interleaved (A, B, A, B) with the same endpoint work
called directly (the route's function body: identify, parse, every check, the JSON
response) -- the difference is what FastAPI/Starlette and the middleware cost per
request. Medians of ``--rounds``.

    .venv/bin/python benchmarks/bench_framework.py [--rounds 5] [--seconds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import ADMIN
from identity.clock import SystemClock
from identity.storage.memory import MemoryStore
from service.app import create_app
from service.settings import Settings


def _scope(path: str, headers: list[tuple[bytes, bytes]], method: str = "POST") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }


async def call(
    app: Any, method: str, path: str, body: bytes, auth: str | None
) -> tuple[int, bytes]:
    """One ASGI request to ``app``: its status and body."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if auth:
        headers.append((b"authorization", f"Bearer {auth}".encode()))
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    out: dict[str, Any] = {"body": b""}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await app(_scope(path, headers, method), receive, send)
    return int(out["status"]), bytes(out["body"])


async def rate(fn: Callable[[], Awaitable[object]], seconds: float) -> float:
    """Awaited calls of ``fn`` per second over about ``seconds``."""
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            await fn()
        n += 50
        now = time.perf_counter()
        if now - start >= seconds:
            return n / (now - start)


async def main_async(rounds: int, seconds: float) -> None:
    data = Path(tempfile.mkdtemp(prefix="identity-bench-fw-"))
    settings = Settings(
        data_dir=data, admin_token=ADMIN, master_secret="ab" * 32, public_verify_per_minute=10**9
    )
    app = create_app(settings, clock=SystemClock(), store=MemoryStore())
    async with app.router.lifespan_context(app):
        issuer = json.loads((await call(app, "POST", "/issuers", b'{"name": "Bench"}', ADMIN))[1])
        acc = {"issuer": issuer["id"], "types": ["ResidencePermitCredential"],
               "validUntil": "2099-01-01T00:00:00Z"}  # fmt: skip
        await call(app, "POST", "/accreditations", json.dumps(acc).encode(), ADMIN)
        verifier = json.loads((await call(app, "POST", "/verifiers", b'{"name": "V"}', ADMIN))[1])
        from benchmarks.bench_perf import permit

        issued = await call(
            app, "POST", "/credentials/issue",
            json.dumps({"credential": permit(issuer["did"], 1)}).encode(), issuer["apiKey"],
        )  # fmt: skip
        vc = json.loads(issued[1])["verifiableCredential"]
        body = json.dumps({"verifiableCredential": vc}).encode()
        key = verifier["apiKey"]
        status, answer = await call(app, "POST", "/credentials/verify", body, key)
        assert status == 200, answer

        from starlette.requests import Request

        from service.routers.credentials import verify

        headers = [
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {key}".encode()),
        ]

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def whole_app() -> None:
            await call(app, "POST", "/credentials/verify", body, key)

        async def endpoint_only() -> None:
            await verify(Request({**_scope("/credentials/verify", headers), "app": app}, receive))

        results: dict[str, list[float]] = {"app": [], "endpoint": []}
        for _ in range(rounds):
            results["endpoint"].append(await rate(endpoint_only, seconds))
            results["app"].append(await rate(whole_app, seconds))
    med = {k: statistics.median(v) for k, v in results.items()}
    per_app, per_endpoint = 1e6 / med["app"], 1e6 / med["endpoint"]
    print(f"bench_framework: {rounds} rounds of {seconds}s, interleaved, medians")
    print(f"  endpoint body alone (baseline): {med['endpoint']:,.0f}/s ({per_endpoint:.0f} us)")
    print(f"  whole app (ASGI call):          {med['app']:,.0f}/s ({per_app:.0f} us)")
    print(
        f"  framework + middleware: {per_app - per_endpoint:.0f} us a request, "
        f"{1 - med['app'] / med['endpoint']:.0%} of the app's time"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    asyncio.run(main_async(args.rounds, args.seconds))


if __name__ == "__main__":
    main()
