"""Metrics and logs of a real ``identity serve --workers 2`` (multiprocess metrics)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.service.observability_workload import SUBJECT, Workload, key, samples

pytestmark = pytest.mark.slow

ADMIN = "serve-admin-token-" + "s" * 32
METRICS_TOKEN = "serve-metrics-token-" + "t" * 24
SECRET = "ef" * 32


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(data: Path, workers: int = 2) -> Iterator[tuple[str, Path]]:
    """``identity serve`` on a free loopback port; yield its URL and its log file."""
    port = _port()
    env = {
        **os.environ,
        "IDENTITY_DATA_DIR": str(data),
        "IDENTITY_ADMIN_TOKEN": ADMIN,
        "IDENTITY_MASTER_SECRET": SECRET,
        "IDENTITY_METRICS_TOKEN": METRICS_TOKEN,
        "IDENTITY_LOG_FORMAT": "json",
        "IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "6",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    data.mkdir(parents=True, exist_ok=True)
    log_path = data / "serve.log"
    with log_path.open("wb") as output:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("identity")), "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers)],
            env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, "identity serve did not come up"
                try:
                    if httpx.get(url + "/health/live", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            yield url, log_path
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    return samples(response.text)


def test_two_workers_report_one_sum_and_log_json(tmp_path: Path) -> None:
    with serve(tmp_path / "data") as (url, log_path):
        before = scrape(url)
        with httpx.Client(base_url=url, timeout=30) as client:
            work = Workload(client, ADMIN, prefix="mp-client")
            work.setup()
            work.round(anonymous=3)  # one connection: one worker, one token bucket
            work.round()
        for i in range(40):  # new connections: the kernel spreads them over both workers
            rid = f"mp-live-{i}"
            response = httpx.get(url + "/health/live", headers={"X-Request-ID": rid})
            assert response.headers["x-request-id"] == rid
        work.expected[key("identity_http_requests_total", route="/health/live", method="GET",
                          status="200")] += 40  # fmt: skip
        work.expected[
            key("identity_http_request_duration_seconds_count", route="/health/live", method="GET")
        ] += 40
        scrapes = [scrape(url) for _ in range(6)]  # whichever worker answers, the same sums
        for after in scrapes:
            assert work.moved(before, after) == dict(work.expected)
        refused = key("identity_rate_limit_refusals_total", route="/credentials/verify")
        assert work.expected[refused] == 2
        entries = scrapes[-1][key("identity_log_batch_size_sum")]
        assert entries == work.log_entries
        deadline = time.monotonic() + 20
        while scrape(url)[key("identity_log_tree_size")] < work.log_entries:
            assert time.monotonic() < deadline, "the tree never caught up"
            time.sleep(0.2)
        assert scrape(url)[key("identity_log_pending_entries")] == 0
    text = log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    access = [x for x in lines if x["logger"] == "identity.access"]
    by_id = {x["request_id"]: x for x in access}
    for rid in work.request_ids:
        assert by_id[rid]["route"].startswith("/")
    live_pids = {by_id[f"mp-live-{i}"]["pid"] for i in range(40)}
    assert len(live_pids) == 2, "both workers served (and the scrapes summed them)"
    started = [x for x in lines if x.get("event") == "service.started"]
    assert {x["pid"] for x in started} == live_pids
    assert any(x["logger"] == "uvicorn.error" for x in lines)  # uvicorn's own lines too
    for value in [*work.secrets, METRICS_TOKEN, SECRET, *work.credential_ids, *SUBJECT.values()]:
        assert value not in text, value
