"""What metrics and JSON logs cost: HTTP verify with both on, as a share of both off.

    .venv/bin/python benchmarks/bench_observability.py [--rounds N] [--seconds S]

The same code, the same ``identity serve`` binary, twice, identical but for
``IDENTITY_METRICS_ENABLED`` / ``IDENTITY_ACCESS_LOG`` (both JSON logs; the "on" server
writes one JSON line per request to its log file and updates the multiprocess metrics
files). wrk drives ``POST /credentials/verify`` (eddsa-jcs-2022, verifier key). The
machine is shared (other engineers' work comes and goes), so every figure is a *paired*
ratio, taken where both sides meet the same load:

1. **in process, finely interleaved**: both apps in this process over ASGI, in
   multiprocess metrics mode as ``identity serve`` runs; each round alternates batches of
   10 requests between the two and a second "off" app (the order rotated each batch), and
   sums each app's time, so a load change hits all alike. Figure: median of the per-round
   ratios; the second "off" app against the first is an A/A control (the method's noise
   floor in this run); beside them, the added per-request work measured on its own.
2. **HTTP, interleaved rounds**: wrk against one server, then the other (A,B then B,A),
   short rounds; figure: median of the per-round ratios (with the ratio of the medians and
   the spread of the per-round ratios beside it).
3. **HTTP, at the same time**: both servers driven by two wrk processes at once, so they
   share the cores and the outside load in the same seconds; each round's rate ratio is
   their cost ratio. Figure: median of the per-round ratios.

The load average is printed before and after. Target >= 95 %. Needs ``wrk``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_credentials import permit
from benchmarks.harness import ADMIN, accredited_agency, server, table, wrk

ON = {"IDENTITY_METRICS_ENABLED": "true", "IDENTITY_ACCESS_LOG": "true",
      "IDENTITY_LOG_FORMAT": "json"}  # fmt: skip
MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"
OFF = {"IDENTITY_METRICS_ENABLED": "false", "IDENTITY_ACCESS_LOG": "false",
       "IDENTITY_LOG_FORMAT": "json"}  # fmt: skip


def prepare(url: str) -> tuple[str, dict[str, str]]:
    """An accredited agency, one issued credential, a verifier key: the verify body."""
    admin = {"Authorization": f"Bearer {ADMIN}"}
    agency = accredited_agency(url, "Bench Bureau")
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


async def _asgi_ratios(rounds: int, seconds: float) -> dict[str, list[float]]:
    """Both apps in this process over ASGI (no sockets, no wrk), in multiprocess metrics
    mode as ``identity serve`` runs them; per round: each side's rate, finely interleaved."""
    import tempfile

    from service.app import create_app
    from service.observability import logs
    from service.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="identity-bench-obs-"))
    (data / "metrics").mkdir()
    os.environ[MULTIPROC] = str(data / "metrics")
    common = {"admin_token": ADMIN, "master_secret": "ab" * 32, "log_format": "json"}
    off = {"metrics_enabled": False, "access_log": False, **common}
    apps = {
        "on": create_app(Settings(data_dir=data / "on", **common)),
        "off": create_app(Settings(data_dir=data / "off", **off)),
        "off again": create_app(Settings(data_dir=data / "off-again", **off)),  # A/A control
    }
    sink = (data / "requests.log").open("w")
    logs.configure(Settings(data_dir=data, log_format="json"), stream=sink)
    rates: dict[str, list[float]] = {name: [] for name in apps}
    try:
        async with contextlib.AsyncExitStack() as stack:
            requests = {}
            for name, app in apps.items():
                await stack.enter_async_context(app.router.lifespan_context(app))
                transport = httpx.ASGITransport(app=app)
                client = await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://bench")
                )
                requests[name] = (app, await _verify_scope(client))
            await _interleaved(requests, seconds)  # warm both (caches, first calls)
            for _ in range(rounds):
                for name, rate in (await _interleaved(requests, seconds)).items():
                    rates[name].append(rate)
            rates["added us"] = [await _added_work(apps["on"], requests["on"][1][1])]
    finally:
        sink.close()
        os.environ.pop(MULTIPROC, None)
        shutil.rmtree(data, ignore_errors=True)
    return rates


async def _added_work(app: Any, body: bytes, n: int = 20_000) -> float:
    """Microseconds per request of what "on" adds, measured alone: the request
    middleware with the app's metrics and access log around a bare 200 answer, less the
    same middleware with both off (request ids only), plus counting the verification."""
    from service.observability.requests import RequestObserver

    metrics = app.state.observability.metrics
    credential = json.loads(body)["verifiableCredential"]
    route = SimpleNamespace(path="/credentials/verify")  # what the router puts in the scope
    scope = {"type": "http", "method": "POST", "path": route.path, "headers": [], "route": route}

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def send(message: Any) -> None:
        return None

    on = RequestObserver(bare, metrics=metrics, access_log=True)
    off = RequestObserver(bare, metrics=None, access_log=False)

    async def through(observer: RequestObserver, count: bool) -> float:
        start = time.perf_counter()
        for _ in range(100):
            await observer({**scope, "state": {}}, None, send)  # type: ignore[arg-type]
            if count:
                metrics.verification(credential, ())
        return time.perf_counter() - start

    spent = {True: 0.0, False: 0.0}
    for i in range(n // 100):
        for with_on in (True, False) if i % 2 else (False, True):
            spent[with_on] += await through(on if with_on else off, with_on)
    return (spent[True] - spent[False]) / n * 1e6


async def _interleaved(requests: dict[str, Any], seconds: float) -> dict[str, float]:
    """About ``seconds`` of batches of 10 requests, rotating between the apps (the order
    rotated every batch); each app's requests per second of its own time."""
    spent = {name: 0.0 for name in requests}
    done = {name: 0 for name in requests}
    names = list(requests)
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for name in names:
            app, (scope, body) = requests[name]
            spent[name] += await _drive(app, scope, body, 10)
            done[name] += 10
        names = names[1:] + names[:1]  # each app takes each place in turn
    return {name: done[name] / spent[name] for name in requests}


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


async def _drive(app: Any, scope: dict[str, Any], body: bytes, n: int) -> float:
    """Seconds that ``n`` verify requests through ``app`` took (each answered 200)."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    start = time.perf_counter()
    for _ in range(n):
        await app({**scope, "state": {}}, receive, send)
    elapsed = time.perf_counter() - start
    assert set(statuses) == {200}, set(statuses)
    return elapsed


def load() -> str:
    """The 1, 5 and 15 minute load averages and the core count, as a phrase."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def paired(on: list[float], off: list[float]) -> tuple[float, float, float]:
    """The median, first and third quartile of the per-round ratios on/off."""
    ratios = sorted(a / b for a, b in zip(on, off, strict=True))
    if len(ratios) < 2:
        return ratios[0], ratios[0], ratios[0]
    q1, _, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return statistics.median(ratios), q1, q3


def report(title: str, rates: dict[str, list[float]], extra: list[tuple[str, str, str]]) -> None:
    """Print one method's figures: the medians, the paired ratio and its spread."""
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    ratio, q1, q3 = paired(rates["on"], rates["off"])
    print(title)
    table(
        [
            ("metrics + JSON logs off (floor)", f"{off:,.0f}/s",
             "rounds " + ", ".join(f"{r:,.0f}" for r in rates["off"])),
            ("metrics + JSON logs on", f"{on:,.0f}/s",
             "rounds " + ", ".join(f"{r:,.0f}" for r in rates["on"])),
            ("on / off (median of per-round ratios)", f"{ratio:.1%}",
             f"quartiles {q1:.1%}-{q3:.1%}; ratio of the medians {on / off:.1%}; "
             "target >= 95 %"),
            *extra,
        ]
    )  # fmt: skip


def _verify(urls: dict[str, str], bodies: dict[str, Any], name: str, args: Any) -> Any:
    body, headers = bodies[name]
    return wrk(
        urls[name] + "/credentials/verify",
        method="POST",
        body=body,
        headers=headers,
        connections=args.connections,
        seconds=args.seconds,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--port", type=int, help="the 'on' server's port ('off' takes the next)")
    args = parser.parse_args()
    print(f"POST /credentials/verify eddsa-jcs-2022; at the start: {load()}")
    asgi = asyncio.run(_asgi_ratios(args.rounds, args.seconds))
    on, off = statistics.median(asgi["on"]), statistics.median(asgi["off"])
    control, _, _ = paired(asgi["off again"], asgi["off"])
    added = asgi.pop("added us")[0]
    report(
        f"1. in process over ASGI, multiprocess metrics, {args.rounds} rounds of "
        f"{args.seconds} s, batches of 10 requests rotating between three apps",
        {"on": asgi["on"], "off": asgi["off"]},
        [
            (
                "cost of metrics + JSON logs",
                f"{(1 / on - 1 / off) * 1e6:+.1f} us",
                "per request, from the medians",
            ),
            (
                "A/A control: a second 'off' app / 'off'",
                f"{control:.1%}",
                "the noise floor of this method in this run (100 % on a quiet machine)",
            ),
            (
                "the added work measured alone",
                f"{added:.1f} us",
                f"middleware with metrics + access line, and the verification count: "
                f"{added * off / 1e6:.1%} of a request at the floor's rate",
            ),
        ],
    )
    if args.no_http:
        print(f"at the end: {load()}")
        return
    with ExitStack() as stack:
        urls = {
            "on": stack.enter_context(server(workers=2, env=ON, port=args.port)),
            "off": stack.enter_context(
                server(workers=2, env=OFF, port=args.port + 1 if args.port else None)
            ),
        }
        bodies = {name: prepare(url) for name, url in urls.items()}
        scrape = {"Authorization": f"Bearer {ADMIN}"}
        on_metrics = httpx.get(urls["on"] + "/metrics", headers=scrape)
        off_metrics = httpx.get(urls["off"] + "/metrics", headers=scrape)
        assert on_metrics.status_code == 200 and off_metrics.status_code == 404
        errors = 0.0
        for name in urls:  # warm both servers first (each worker's caches)
            _verify(urls, bodies, name, args)
        alternating: dict[str, list[float]] = {"on": [], "off": []}
        for n in range(args.rounds):
            for name in ("on", "off") if n % 2 == 0 else ("off", "on"):
                result = _verify(urls, bodies, name, args)
                alternating[name].append(result["rps"])
                errors += result["errors"]
        together: dict[str, list[float]] = {"on": [], "off": []}
        with ThreadPoolExecutor(2) as pool:
            for _ in range(args.rounds):
                running = {name: pool.submit(_verify, urls, bodies, name, args) for name in urls}
                for name, future in running.items():
                    result = future.result()
                    together[name].append(result["rps"])
                    errors += result["errors"]
        scraped = httpx.get(urls["on"] + "/metrics", headers=scrape).text
    counted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in scraped.splitlines()
        if line.startswith('identity_http_requests_total{method="POST",route="/credentials/verify"')
    )
    where = (
        f"identity serve --workers 2 (x2 side by side), wrk {args.connections} connections, "
        f"{args.rounds} rounds of {args.seconds} s"
    )
    report(f"2. HTTP, interleaved rounds (A,B then B,A): {where}", alternating, [])
    report(
        f"3. HTTP, both servers driven at the same time (two wrk): {where}",
        together,
        [
            (
                "requests the 'on' server counted",
                f"{counted:,.0f}",
                f"non-2xx during the runs: {errors:.0f}",
            )
        ],
    )
    print(f"at the end: {load()}")


if __name__ == "__main__":
    main()
