"""What metrics and JSON logs cost: HTTP verify with both on, as a share of both off.

    .venv/bin/python benchmarks/bench_observability.py [--rounds N] [--seconds S]

Two ``identity serve --workers 2`` servers run side by side, identical but for
``IDENTITY_METRICS_ENABLED`` / ``IDENTITY_ACCESS_LOG`` / ``IDENTITY_LOG_FORMAT=json``
(the "on" server writes one JSON line per request to its log file and updates the
multiprocess metrics files). wrk drives ``POST /credentials/verify`` (eddsa-jcs-2022,
verifier key) against one server at a time, after a warm-up run on each, alternating
which goes first in each round;
the figure is the median "on" rate over the median "off" rate (target >= 95 %), with
the median of the per-round ratios beside it. Needs ``wrk``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_credentials import permit
from benchmarks.harness import ADMIN, server, table, wrk

ON = {"IDENTITY_METRICS_ENABLED": "true", "IDENTITY_ACCESS_LOG": "true",
      "IDENTITY_LOG_FORMAT": "json"}  # fmt: skip
OFF = {"IDENTITY_METRICS_ENABLED": "false", "IDENTITY_ACCESS_LOG": "false",
       "IDENTITY_LOG_FORMAT": "json"}  # fmt: skip


def prepare(url: str) -> tuple[str, dict[str, str]]:
    """An accredited agency, one issued credential, a verifier key: the verify body."""
    admin = {"Authorization": f"Bearer {ADMIN}"}
    agency = httpx.post(url + "/issuers", json={"name": "Bench Bureau"}, headers=admin).json()
    httpx.post(
        url + "/accreditations",
        headers=admin,
        json={
            "issuer": agency["id"],
            "types": ["ResidencePermitCredential"],
            "validUntil": "2099-01-01T00:00:00Z",
        },
    ).raise_for_status()
    verifier = httpx.post(url + "/verifiers", json={"name": "Bench"}, headers=admin).json()
    issued = httpx.post(
        url + "/credentials/issue",
        json={"credential": permit(agency["did"]), "options": {"cryptosuite": "eddsa-jcs-2022"}},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    issued.raise_for_status()
    body = json.dumps({"verifiableCredential": issued.json()["verifiableCredential"]})
    check = httpx.post(
        url + "/credentials/verify",
        content=body,
        headers={"Authorization": f"Bearer {verifier['apiKey']}",
                 "Content-Type": "application/json"},
    )  # fmt: skip
    check.raise_for_status()
    return body, {"Authorization": f"Bearer {verifier['apiKey']}"}


async def _asgi_rates(rounds: int, seconds: float) -> dict[str, list[float]]:
    """Both apps in this process, driven through ASGI directly (no sockets, no wrk)."""
    import tempfile

    from service.app import create_app
    from service.observability import logs
    from service.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="identity-bench-obs-"))
    common = {"admin_token": ADMIN, "master_secret": "ab" * 32, "log_format": "json"}
    apps = {
        "on": create_app(Settings(data_dir=data / "on", **common)),
        "off": create_app(
            Settings(data_dir=data / "off", metrics_enabled=False, access_log=False, **common)
        ),
    }
    sink = (data / "requests.log").open("w")
    logs.configure(Settings(data_dir=data, log_format="json"), stream=sink)
    rates: dict[str, list[float]] = {"on": [], "off": []}
    async with contextlib.AsyncExitStack() as stack:
        requests = {}
        for name, app in apps.items():
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://bench")
            )
            requests[name] = (app, await _verify_scope(client))
        for app, (scope, body) in requests.values():  # warm both (caches, first calls)
            await _drive(app, scope, body, seconds)
        for n in range(rounds):
            for name in ("on", "off") if n % 2 == 0 else ("off", "on"):
                app, (scope, body) = requests[name]
                rates[name].append(await _drive(app, scope, body, seconds))
    sink.close()
    return rates


async def _verify_scope(client: httpx.AsyncClient) -> tuple[dict[str, Any], bytes]:
    """Set up over ASGI as over HTTP; return one verify request as an ASGI scope + body."""
    admin = {"Authorization": f"Bearer {ADMIN}"}
    agency = (await client.post("/issuers", json={"name": "Bench"}, headers=admin)).json()
    (await client.post("/accreditations", headers=admin, json={
        "issuer": agency["id"], "types": ["ResidencePermitCredential"],
        "validUntil": "2099-01-01T00:00:00Z"})).raise_for_status()  # fmt: skip
    verifier = (await client.post("/verifiers", json={"name": "B"}, headers=admin)).json()
    issued = await client.post(
        "/credentials/issue",
        json={"credential": permit(agency["did"]), "options": {"cryptosuite": "eddsa-jcs-2022"}},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    issued.raise_for_status()
    body = json.dumps({"verifiableCredential": issued.json()["verifiableCredential"]}).encode()
    headers = [
        (b"host", b"bench"),
        (b"authorization", f"Bearer {verifier['apiKey']}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/credentials/verify",
             "raw_path": b"/credentials/verify", "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 5000),
             "server": ("bench", 80)}  # fmt: skip
    return scope, body


async def _drive(app: Any, scope: dict[str, Any], body: bytes, seconds: float) -> float:
    """Verify requests per second through ``app`` for about ``seconds``."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(20):
            await app({**scope, "state": {}}, receive, send)
        n += 20
    elapsed = time.perf_counter() - start
    assert set(statuses) == {200}, set(statuses)
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    asgi = asyncio.run(_asgi_rates(args.rounds, args.seconds / 2))
    on, off = statistics.median(asgi["on"]), statistics.median(asgi["off"])
    per_round = statistics.median(a / b for a, b in zip(asgi["on"], asgi["off"], strict=True))
    print(
        f"in process, ASGI (no sockets), 1 core, {args.rounds} interleaved rounds "
        f"of {args.seconds / 2:g} s: POST /credentials/verify eddsa-jcs-2022"
    )
    table(
        [
            ("metrics + JSON logs off (floor)", f"{off:,.0f}/s", ""),
            ("metrics + JSON logs on", f"{on:,.0f}/s",
             f"{(1 / on - 1 / off) * 1e6:+.1f} us per request"),
            ("on / off", f"{on / off:.1%}",
             f"median of per-round ratios {per_round:.1%} (target >= 95 %)"),
        ]
    )  # fmt: skip
    if args.no_http:
        return
    with ExitStack() as stack:
        urls = {
            "on": stack.enter_context(server(workers=2, env=ON)),
            "off": stack.enter_context(server(workers=2, env=OFF)),
        }
        bodies = {name: prepare(url) for name, url in urls.items()}
        scrape = {"Authorization": f"Bearer {ADMIN}"}
        on_metrics = httpx.get(urls["on"] + "/metrics", headers=scrape)
        off_metrics = httpx.get(urls["off"] + "/metrics", headers=scrape)
        assert on_metrics.status_code == 200 and off_metrics.status_code == 404
        rates: dict[str, list[float]] = {"on": [], "off": []}
        errors = 0.0
        for name, url in urls.items():  # warm both servers first (each worker's caches)
            body, headers = bodies[name]
            wrk(url + "/credentials/verify", method="POST", body=body, headers=headers,
                connections=args.connections, seconds=2)  # fmt: skip
        for n in range(args.rounds):
            order = ("on", "off") if n % 2 == 0 else ("off", "on")
            for name in order:
                body, headers = bodies[name]
                result = wrk(
                    urls[name] + "/credentials/verify",
                    method="POST",
                    body=body,
                    headers=headers,
                    connections=args.connections,
                    seconds=args.seconds,
                )
                rates[name].append(result["rps"])
                errors += result["errors"]
        scraped = httpx.get(
            urls["on"] + "/metrics", headers={"Authorization": f"Bearer {ADMIN}"}
        ).text
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    per_round = statistics.median(a / b for a, b in zip(rates["on"], rates["off"], strict=True))
    counted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in scraped.splitlines()
        if line.startswith('identity_http_requests_total{method="POST",route="/credentials/verify"')
    )
    print(
        f"HTTP verify eddsa-jcs-2022, identity serve --workers 2 (x2 side by side), "
        f"wrk {args.connections} connections, {args.rounds} interleaved rounds of "
        f"{args.seconds} s"
    )
    table(
        [
            ("metrics + JSON logs off (floor)", f"{off:,.0f}/s",
             "rounds " + ", ".join(f"{r:,.0f}" for r in rates["off"])),
            ("metrics + JSON logs on", f"{on:,.0f}/s",
             "rounds " + ", ".join(f"{r:,.0f}" for r in rates["on"])),
            ("on / off", f"{on / off:.1%}",
             f"median of per-round ratios {per_round:.1%} (target >= 95 %)"),
            ("requests the 'on' server counted", f"{counted:,.0f}",
             f"non-2xx during the runs: {errors:.0f}"),
        ]
    )  # fmt: skip


if __name__ == "__main__":
    main()
