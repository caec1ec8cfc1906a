"""Small helpers shared by the benchmarks: timing loops, a real server, wrk."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
ADMIN = "bench-admin-token-" + "x" * 32


def rate(fn: Callable[[], object], seconds: float = 1.0) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            fn()
        n += 50
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SESSIONS: dict[str, int] = {}
"""URL of each running :func:`server` -> its session id (the pid of ``identity serve``)."""


def session_cpu_seconds(session: int) -> float:
    """User + system CPU seconds used so far by the live processes of ``session`` (a
    :func:`server`'s supervisor and workers), from ``/proc``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[3]) == session:  # field 6, the session id
            total += int(fields[11]) + int(fields[12])  # fields 14 and 15: utime, stime
    return total / tick


@contextmanager
def server(
    workers: int = 2, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[str]:
    """Start the service the way the README does (``identity serve``); yield its URL."""
    port = port or free_port()
    data = tempfile.mkdtemp(prefix="identity-bench-")
    full_env = {
        **os.environ,
        "IDENTITY_DATA_DIR": data,
        "IDENTITY_ADMIN_TOKEN": ADMIN,
        "PORT": str(port),
        **(env or {}),
    }
    exe = Path(sys.executable).with_name("identity")
    log_path = Path(data) / "serve.log"
    output = log_path.open("wb")
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--workers", str(workers)],
        env=full_env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    SESSIONS[url] = proc.pid  # its own session: the supervisor and every worker
    try:
        deadline = time.monotonic() + 90  # two workers start slowly on a loaded machine
        while True:
            try:
                if httpx.get(url + "/health", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("server did not start")
        yield url
    finally:
        SESSIONS.pop(url, None)
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        output.close()
        errors = [
            line
            for line in log_path.read_text(errors="replace").splitlines()
            if "ERROR" in line or "Traceback" in line
        ]
        if errors:
            print(f"  (server logged {len(errors)} error lines; first: {errors[0][:200]})")
            shutil.copy(log_path, Path(tempfile.gettempdir()) / "identity-bench-serve.log")
        shutil.rmtree(data, ignore_errors=True)


WRK_LUA = """
wrk.method = "{method}"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
{headers}
"""


def wrk(
    url: str,
    *,
    method: str = "GET",
    body: str = "",
    headers: dict[str, str] | None = None,
    connections: int = 32,
    seconds: int = 5,
    threads: int = 2,
) -> dict[str, float]:
    """Run wrk; return requests/s, p50 and p99 latency (ms) and the non-2xx count."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    header_lines = "\n".join(
        f'wrk.headers["{k}"] = {json.dumps(v)}' for k, v in (headers or {}).items()
    )
    script = WRK_LUA.format(method=method, body=_lua_string(body), headers=header_lines)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script + DONE_LUA)
        lua = fh.name
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "-s",
            lua,
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(lua)
    return parse_wrk(out)


DONE_LUA = """
done = function(summary, latency, requests)
  local p50, p99 = latency:percentile(50), latency:percentile(99)
  io.write(string.format('JSON{"p50": %d, "p99": %d}\\n', p50, p99))
end
"""


def wrk_each(
    urls: list[str], path: str, *, body: str, headers: dict[str, str], connections: int,
    seconds: int,
) -> list[dict[str, float]]:  # fmt: skip
    """POST ``body`` to ``path`` on every replica at once: one single-thread wrk per URL
    with ``connections`` each; their results (as :func:`wrk`), in finishing order."""
    results: list[dict[str, float]] = []

    def run(url: str) -> None:
        results.append(wrk(url + path, method="POST", body=body, headers=headers,
                           connections=connections, seconds=seconds, threads=1))  # fmt: skip

    threads = [threading.Thread(target=run, args=(u,)) for u in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def table(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>14}  {note}")


@contextmanager
def redis_server(
    directory: Path, port: int | None = None, appendfsync: str = "always"
) -> Iterator[int]:
    """A private ``redis-server`` (AOF on, ``appendfsync`` as given, no RDB) with its data
    in ``directory``; yield its port. Stopped (and its process waited for) on exit."""
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed")
    port = port or free_port()
    directory.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
         "--appendonly", "yes", "--appendfsync", appendfsync, "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def accredited_agency(
    url: str, name: str = "Bench Bureau", admin_token: str = ADMIN
) -> dict[str, Any]:
    """Create an agency on the service at ``url`` and accredit it for the bundled
    ResidencePermitCredential; its JSON (``id``, ``did``, ``apiKey``, ...)."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    agency: dict[str, Any] = httpx.post(url + "/issuers", json={"name": name}, headers=admin).json()
    httpx.post(
        url + "/accreditations",
        headers=admin,
        json={
            "issuer": agency["id"],
            "types": ["ResidencePermitCredential"],
            "validUntil": "2099-01-01T00:00:00Z",
        },
    ).raise_for_status()
    return agency


def parse_wrk(out: str) -> dict[str, float]:
    """wrk's output (with :data:`DONE_LUA`'s JSON line): requests/s, p50 and p99 latency
    (ms) and the count of non-2xx answers."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    stats = json.loads(out[out.index("JSON") + 4 :].strip().splitlines()[0])
    return {
        "rps": rps,
        "p50_ms": stats["p50"] / 1000,
        "p99_ms": stats["p99"] / 1000,
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


def acapy_command(executable: Path, port: int, api_key: str, log_level: str) -> list[str]:
    """ACA-Py's command line for a throwaway Askar wallet on loopback, no ledger, no
    transport. Random values go as ``--opt=value``: a token may begin with ``-``, which
    argparse would read as an option."""
    return [
        str(executable), "start", "--no-ledger", "--no-transport",
        "--admin", "127.0.0.1", str(port), f"--admin-api-key={api_key}",
        "--wallet-type", "askar", "--wallet-name", "bench",
        f"--wallet-key={secrets.token_urlsafe(16)}", "--auto-provision",
        "--log-level", log_level,
    ]  # fmt: skip


def delete_prefix(redis_url: str, prefix: str) -> None:
    """Delete every key under ``prefix`` on ``redis_url`` (a benchmark's own namespace)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=prefix + "*", count=1000):
        client.delete(key)
    client.close()
