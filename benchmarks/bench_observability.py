"""What metrics and JSON logs cost: HTTP verify with both on, as a share of both off.

    .venv/bin/python benchmarks/bench_observability.py [--rounds N] [--seconds S] [--port P]

The same code, the same ``identity serve`` binary, three times, identical but for
``IDENTITY_METRICS_ENABLED`` / ``IDENTITY_ACCESS_LOG``: "on" (both on: one JSON line per
request to its log file, multiprocess metrics files), "off" and a second "off" whose
ratio to the first is an **A/A control**: the noise of each method in this very run.
wrk drives ``POST /credentials/verify`` (eddsa-jcs-2022, verifier key). The machine is
shared (other engineers' work comes and goes), so every figure is a *paired* ratio, taken
where the sides meet the same load, with a 95 % confidence interval of its median:

1. **in process**: the three apps in this process over ASGI, in multiprocess metrics mode
   as ``identity serve`` runs; cycles of one batch of 10 requests per app (the order
   rotated each cycle); per cycle the paired ratios, (a) by the wall clock and (b) by
   CPU time of the process; beside them the added work measured on its own (CPU).
2. **HTTP, rounds in turn** (``--workers 2`` each): wrk against each server in turn, the
   order rotated each round; (a) requests per second, (b) requests per CPU second of the
   server's processes (``/proc``: what the server spent, whatever else ran).
3. **HTTP, at the same time**: the three servers driven by three wrk at once, so they
   share the cores and the outside load in the same seconds.

The load average is printed before and after. A method **judges** only when its A/A
control reads 100 % +- 2.5 % and both intervals are at most 5 points wide (else: too
noisy); the last line says whether the target (>= 95 %, over HTTP) is met, unmet, or
the machine too loaded to judge. Needs ``wrk``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
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
from benchmarks.harness import (
    ADMIN,
    SESSIONS,
    accredited_agency,
    server,
    session_cpu_seconds,
    table,
    wrk,
)

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


MODES = ("on", "off", "off again")
"""The three sides of every method: both on, both off, and both off again (the A/A control)."""
ORDERS = tuple(itertools.permutations(MODES))
"""Every order of the three in a cycle (six), taken in turn: each side follows each other."""


def _observer(app: Any) -> Any:
    """The app's request middleware (:class:`RequestObserver`) in its built stack."""
    from service.observability.requests import RequestObserver

    node = app.middleware_stack
    while node is not None and not isinstance(node, RequestObserver):
        node = getattr(node, "app", None)
    if node is None:
        raise RuntimeError("no request middleware in the app's stack")
    return node


def _switch(app: Any, observer: Any, metrics: Any, on: bool) -> None:
    """Metrics and the access line on or off in a running app, as the settings would
    have built it: the middleware's metrics and ``access_log``, and the metrics the
    routes find (``metrics_of``: ``None`` when off)."""
    observer.metrics = metrics if on else None
    observer.access_log = on
    from service import observability

    setattr(app, observability._METRICS, metrics if on else None)


async def _asgi_ratios(rounds: int, seconds: float) -> dict[str, dict[str, list[float]]]:
    """One app in this process over ASGI (no sockets, no wrk), in multiprocess metrics
    mode as ``identity serve`` runs it, switched between the three sides batch by batch
    (:func:`_switch`): the *same* app, objects and credential on every side. (Three apps
    side by side, one per side, differed by up to 10 % with the *same* settings: two
    "off" apps built alike in one process read 90-111 % of each other, steadily, from
    where their objects happen to lie; one app switched reads 100 % +- 1.) Per cycle:
    each side's rate by the wall clock (``wall``) and by this process's CPU (``cpu``)."""
    import tempfile

    from service.app import create_app
    from service.observability import logs
    from service.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="identity-bench-obs-"))
    (data / "metrics").mkdir()
    os.environ[MULTIPROC] = str(data / "metrics")
    settings = {"admin_token": ADMIN, "master_secret": "ab" * 32, "log_format": "json"}
    app = create_app(Settings(data_dir=data / "app", **settings))  # type: ignore[arg-type]
    sink = (data / "requests.log").open("w")
    logs.configure(Settings(data_dir=data, log_format="json"), stream=sink)
    rates: dict[str, dict[str, list[float]]] = {"wall": {}, "cpu": {}}
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                request = await _verify_scope(client)
            observer, metrics = _observer(app), app.state.observability.metrics
            switch = lambda on: _switch(app, observer, metrics, on)  # noqa: E731
            await _interleaved(app, request, switch, seconds)  # warm (caches, first calls)
            rates.update(await _interleaved(app, request, switch, rounds * seconds))
            switch(True)
            rates["added"] = {"us": [await _added_work(app, request[1])]}
    finally:
        sink.close()
        os.environ.pop(MULTIPROC, None)
        shutil.rmtree(data, ignore_errors=True)
    return rates


async def _added_work(app: Any, body: bytes, n: int = 20_000) -> float:
    """CPU microseconds per request of what "on" adds, measured alone: the request
    middleware with the app's metrics and access log around a bare 200 answer, less the
    same middleware with both off (request ids only), plus counting the verification."""
    from service.observability import logs
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
        start = time.process_time()
        for _ in range(100):
            await observer({**scope, "state": {}}, None, send)  # type: ignore[arg-type]
            if count:
                metrics.verification(credential, ())
        if count:
            logs.flush()  # the writer thread's share: one write per 100 lines
        return time.process_time() - start

    spent = {True: 0.0, False: 0.0}
    for i in range(n // 100):
        for with_on in (True, False) if i % 2 else (False, True):
            spent[with_on] += await through(on if with_on else off, with_on)
    return (spent[True] - spent[False]) / n * 1e6


async def _interleaved(
    app: Any, request: tuple[dict[str, Any], bytes], switch: Any, seconds: float
) -> dict[str, dict[str, list[float]]]:
    """About ``seconds`` of cycles: in each, one batch of 10 requests on every side (the
    six orders of the three taken in turn). Per cycle, each side's requests per second of
    its batch, by the wall clock (``wall``) and by CPU time (``cpu``:
    ``time.process_time``, every thread of this process, so the log writer's work counts;
    the "on" side's waiting lines are made and written at the end of each of its batches,
    inside its time). Pairs from one cycle are a few milliseconds apart: a change of the
    outside load meets both."""
    from service.observability import logs

    wall: dict[str, list[float]] = {name: [] for name in MODES}
    cpu: dict[str, list[float]] = {name: [] for name in MODES}
    scope, body = request
    start = time.perf_counter()
    cycle = 0
    while time.perf_counter() - start < seconds:
        for name in ORDERS[cycle % len(ORDERS)]:
            switch(name == "on")
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            await _drive(app, scope, body, 10)
            if name == "on":
                logs.flush()
            wall[name].append(10 / (time.perf_counter() - wall_start))
            cpu[name].append(10 / max(time.process_time() - cpu_start, 1e-9))
        cycle += 1
    return {"wall": wall, "cpu": cpu}


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
    """The median of the per-round (per-cycle) ratios on/off, and the bounds of its 95 %
    confidence interval (order statistics: distribution-free, for any spread of the
    ratios; with few rounds, the outermost ratios)."""
    ratios = sorted(a / b for a, b in zip(on, off, strict=True))
    n = len(ratios)
    k = max(int((n - 1.96 * math.sqrt(n)) / 2), 0)
    return statistics.median(ratios), ratios[k], ratios[n - 1 - k]


TARGET = 0.95
CONTROL_OFF_BY = 0.025
"""A method judges only when its A/A control's median is within this of 100 % ..."""
CONTROL_SPREAD = 0.05
"""... and the confidence intervals of its on/off and A/A medians are at most this wide."""


def verdict(rates: dict[str, list[float]]) -> tuple[str, float, tuple[float, float, float]]:
    """``met``/``unmet`` (the on/off median against :data:`TARGET`), or ``too noisy``
    when the A/A control of the same rounds says the method cannot resolve the target's
    5 points in this run; with the on/off median and the control's (median, CI)."""
    ratio, low, high = paired(rates["on"], rates["off"])
    control = paired(rates["off again"], rates["off"])
    wide = max(high - low, control[2] - control[1]) > CONTROL_SPREAD
    if abs(control[0] - 1) > CONTROL_OFF_BY or wide:
        return "too noisy", ratio, control
    return ("met" if ratio >= TARGET else "unmet"), ratio, control


def _values(values: list[float]) -> str:
    if len(values) <= 20:
        return "rounds " + ", ".join(f"{r:,.0f}" for r in values)
    return f"median of {len(values):,} cycles"


def report(title: str, rates: dict[str, list[float]], extra: list[tuple[str, str, str]]) -> None:
    """Print one method's figures: the medians, the paired ratio and its confidence
    interval, the A/A control beside it."""
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    ratio, low, high = paired(rates["on"], rates["off"])
    control, c1, c3 = paired(rates["off again"], rates["off"])
    print(title)
    table(
        [
            ("metrics + JSON logs off (floor)", f"{off:,.0f}/s", _values(rates["off"])),
            ("metrics + JSON logs on", f"{on:,.0f}/s", _values(rates["on"])),
            ("on / off (median of paired ratios)", f"{ratio:.1%}",
             f"95 % CI {low:.1%}-{high:.1%}; ratio of the medians {on / off:.1%}; "
             "target >= 95 %"),
            ("A/A control: a second 'off' / 'off'", f"{control:.1%}",
             f"95 % CI {c1:.1%}-{c3:.1%}: this method's noise in this run (100 % if quiet)"),
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


def _measured(urls: dict[str, str], bodies: dict[str, Any], name: str, args: Any) -> Any:
    """One wrk round against ``name``, with the server's CPU seconds per request."""
    session = SESSIONS[urls[name]]
    before = session_cpu_seconds(session)
    result = _verify(urls, bodies, name, args)
    spent = session_cpu_seconds(session) - before
    result["cpu_rps"] = result["rps"] * args.seconds / spent if spent else float("nan")
    return result


SERVERS = ("on", "off", "off again")


def _http(args: Any) -> tuple[dict[str, dict[str, list[float]]], float, float]:
    """Methods 2 and 3 over three servers ("on", "off" and the A/A "off again"): per
    round, each server's wrk rate and its requests per CPU second; the requests the "on"
    server counted; the non-2xx answers."""
    out: dict[str, dict[str, list[float]]] = {
        method: {name: [] for name in SERVERS} for method in ("turns", "turns cpu", "together")
    }
    errors = 0.0
    with ExitStack() as stack:
        urls = {}
        for n, name in enumerate(SERVERS):
            port = args.port + n if args.port else None
            urls[name] = stack.enter_context(
                server(workers=2, env=ON if name == "on" else OFF, port=port)
            )
        bodies = {name: prepare(url) for name, url in urls.items()}
        scrape = {"Authorization": f"Bearer {ADMIN}"}
        assert httpx.get(urls["on"] + "/metrics", headers=scrape).status_code == 200
        assert httpx.get(urls["off"] + "/metrics", headers=scrape).status_code == 404
        for name in urls:  # warm every server first (each worker's caches)
            _verify(urls, bodies, name, args)
        for n in range(args.rounds):
            for name in SERVERS[n % 3 :] + SERVERS[: n % 3]:  # each takes each place in turn
                result = _measured(urls, bodies, name, args)
                out["turns"][name].append(result["rps"])
                out["turns cpu"][name].append(result["cpu_rps"])
                errors += result["errors"]
        with ThreadPoolExecutor(len(SERVERS)) as pool:
            for _ in range(args.rounds):
                running = {name: pool.submit(_verify, urls, bodies, name, args) for name in urls}
                for name, future in running.items():
                    result = future.result()
                    out["together"][name].append(result["rps"])
                    errors += result["errors"]
        scraped = httpx.get(urls["on"] + "/metrics", headers=scrape).text
    counted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in scraped.splitlines()
        if line.startswith('identity_http_requests_total{method="POST",route="/credentials/verify"')
    )
    return out, counted, errors


async def _count_one(n: int) -> None:
    """One app in process, set up and warmed, then ``n`` verify requests on each side in
    turn ("on", "off", "off again", switched as in :func:`_asgi_ratios`), each side's
    between two ``getsid`` calls: run under ``callgrind --dump-before=getsid``, dumps 2, 3
    and 4 hold exactly the instructions of each side's requests (every thread, user
    space); the same app, objects and credential on each side."""
    import tempfile

    from service.app import create_app
    from service.observability import logs
    from service.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="identity-bench-count-"))
    (data / "metrics").mkdir()
    os.environ[MULTIPROC] = str(data / "metrics")
    settings = {"admin_token": ADMIN, "master_secret": "ab" * 32, "log_format": "json"}
    app = create_app(Settings(data_dir=data / "app", **settings))  # type: ignore[arg-type]
    sink = (data / "requests.log").open("w")
    logs.configure(Settings(data_dir=data, log_format="json"), stream=sink)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                scope, body = await _verify_scope(client)
            observer, metrics = _observer(app), app.state.observability.metrics
            for on in (True, False):  # warm both sides
                _switch(app, observer, metrics, on)
                await _drive(app, scope, body, 20)
                logs.flush()
            for name in MODES:
                _switch(app, observer, metrics, name == "on")
                os.getsid(0)  # the counted section starts (callgrind dumps what came before)
                for _ in range(n // 10):
                    await _drive(app, scope, body, 10)
                    logs.flush()  # the writer's share: one write per 10 lines
            os.getsid(0)  # ... and the last ends
    finally:
        sink.close()
        shutil.rmtree(data, ignore_errors=True)


def _instructions(n: int) -> dict[str, float]:
    """Instructions per verify request of "on", "off" and "off again" (one callgrind run,
    the three sides in turn in one app; needs valgrind). Load does not change a count:
    this is the work "on" adds, in user space (the kernel's side of the few ``write``
    calls is not in it)."""
    import subprocess
    import tempfile

    if shutil.which("valgrind") is None:
        raise RuntimeError("valgrind is not installed (apt-get install valgrind)")
    out = Path(tempfile.mkdtemp(prefix="identity-bench-callgrind-"))
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--dump-before=getsid",
         f"--callgrind-out-file={out / 'count'}.%p",
         sys.executable, __file__, "--count-one", str(n)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONHASHSEED": "0"}, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError("the callgrind run failed")
    counts = {}
    for dump, name in enumerate(MODES, start=2):
        (path,) = out.glob(f"count.*.{dump}")
        totals = next(x for x in path.read_text().splitlines() if x.startswith("totals:"))
        counts[name] = int(totals.split()[1]) / n
    shutil.rmtree(out, ignore_errors=True)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument(
        "--port", type=int, help="the 'on' server's port ('off' and 'off again' the next two)"
    )
    parser.add_argument(
        "--instructions", type=int, metavar="N",
        help="also count the instructions of N requests per app under callgrind (slow)",
    )  # fmt: skip
    parser.add_argument("--count-one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_one:
        asyncio.run(_count_one(args.count_one))
        return
    print(f"POST /credentials/verify eddsa-jcs-2022; at the start: {load()}")
    if args.instructions:
        counts = _instructions(args.instructions)
        print(f"4. instructions per request (callgrind, {args.instructions} requests a side, "
              "one app switched, multiprocess metrics; the same for any load)")  # fmt: skip
        table(
            [
                ("metrics + JSON logs off (floor)", f"{counts['off']:,.0f}", ""),
                ("metrics + JSON logs on", f"{counts['on']:,.0f}",
                 f"+{counts['on'] - counts['off']:,.0f} a request"),
                ("off / on (the share of the work)", f"{counts['off'] / counts['on']:.1%}",
                 "target >= 95 %"),
                ("A/A control: 'off again' / 'off'", f"{counts['off again'] / counts['off']:.2%}",
                 "how exactly a count repeats"),
            ]
        )  # fmt: skip
    verdicts: list[tuple[str, tuple[str, float, tuple[float, float, float]]]] = []
    asgi = asyncio.run(_asgi_ratios(args.rounds, args.seconds))
    added = asgi.pop("added")["us"][0]
    wall, cpu = asgi["wall"], asgi["cpu"]
    on, off = statistics.median(wall["on"]), statistics.median(wall["off"])
    where = f"{args.rounds} rounds of {args.seconds} s, batches of 10, one app switched"
    report(
        f"1a. in process over ASGI, multiprocess metrics, wall clock: {where}",
        wall,
        [
            ("cost of metrics + JSON logs", f"{(1 / on - 1 / off) * 1e6:+.1f} us",
             "per request, from the medians"),
        ],
    )  # fmt: skip
    on_cpu, off_cpu = statistics.median(cpu["on"]), statistics.median(cpu["off"])
    report(
        "1b. the same rounds by CPU time (requests per CPU second of this process)",
        cpu,
        [("cost of metrics + JSON logs", f"{(1 / on_cpu - 1 / off_cpu) * 1e6:+.1f} us",
          "CPU per request, from the medians"),
         ("the added work measured alone", f"{added:.1f} us",
          f"CPU: middleware with metrics + access line, and the verification count; "
          f"{added * off_cpu / 1e6:.1%} of the floor's CPU per request, so a share of "
          f"{1 / (1 + added * off_cpu / 1e6):.1%}")],
    )  # fmt: skip
    verdicts += [("1a. in process, wall clock", verdict(wall)),
                 ("1b. in process, CPU time", verdict(cpu))]  # fmt: skip
    if not args.no_http:
        http, counted, errors = _http(args)
        where = (
            f"identity serve --workers 2 (x3 side by side), wrk {args.connections} connections, "
            f"{args.rounds} rounds of {args.seconds} s"
        )
        report(f"2a. HTTP, rounds in turn (rotating order): {where}", http["turns"], [])
        report(
            "2b. the same rounds by the servers' CPU time (requests per CPU second of the "
            "server's processes, from /proc)",
            http["turns cpu"],
            [],
        )
        report(
            f"3. HTTP, the three servers driven at the same time (three wrk): {where}",
            http["together"],
            [("requests the 'on' server counted", f"{counted:,.0f}",
              f"non-2xx during the runs: {errors:.0f}")],
        )  # fmt: skip
        verdicts += [("2a. HTTP, rounds in turn", verdict(http["turns"])),
                     ("2b. HTTP, server CPU per request", verdict(http["turns cpu"])),
                     ("3. HTTP, at the same time", verdict(http["together"]))]  # fmt: skip
    print(f"at the end: {load()}")
    print(
        f"verdict (on / off >= {TARGET:.0%}; a method judges only when its A/A control "
        f"reads 100 % +- {CONTROL_OFF_BY:.1%} and both 95 % CIs are within "
        f"{CONTROL_SPREAD:.0%})"
    )
    table([(name, f"{ratio:.1%}", f"{word} (A/A {c[0]:.1%}, CI {c[1]:.1%}-{c[2]:.1%})")
           for name, (word, ratio, c) in verdicts])  # fmt: skip
    print(overall(verdicts))


def overall(verdicts: list[tuple[str, tuple[str, float, tuple[float, float, float]]]]) -> str:
    """One line: the target met or unmet over HTTP (the issue's figure), or too loaded."""
    http = [word for name, (word, _, _) in verdicts if "HTTP" in name]
    judged = [word for word in http if word != "too noisy"]
    if not http:
        return "target: not judged (--no-http; the target is over HTTP)"
    if not judged:
        return "target: the machine is too loaded to judge (every HTTP A/A control is off)"
    if all(word == "met" for word in judged):
        return f"target met ({len(judged)} of {len(http)} HTTP methods could judge; all met)"
    if all(word == "unmet" for word in judged):
        return f"target unmet ({len(judged)} of {len(http)} HTTP methods could judge; none met)"
    met = judged.count("met")
    return f"target not settled: {met} of {len(judged)} HTTP methods that could judge met it"


if __name__ == "__main__":
    main()
