"""The multiprocess value class's cached process id (service/observability/metrics.py)."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, multiprocess
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from service.observability.metrics import _Pid, multiprocess_value_class


def test_pid_is_this_process_and_changes_in_a_forked_child() -> None:
    pid = _Pid()
    assert pid() == os.getpid()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, str(pid()).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    seen = int(os.read(read, 32))
    os.close(read)
    assert seen == child != os.getpid()
    assert pid() == os.getpid()


def test_values_land_in_this_process_file_and_are_summed(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    cls = multiprocess_value_class()
    from prometheus_client import values

    monkeypatch.setattr(values, "ValueClass", cls)
    counter = Counter("pid_test_things", "Things.", ["kind"], registry=None)
    counter.labels("a").inc(3)
    counter.labels("a").inc()
    assert (tmp_path / f"counter_{os.getpid()}.db").exists()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    samples = {
        (s.name, s.labels.get("kind")): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
    }
    assert samples[("pid_test_things_total", "a")] == 4.0


def test_request_done_counts_and_logs_a_fast_path_request(tmp_path, monkeypatch) -> None:
    """Observability.request_done: what the middleware does, for a path outside it."""
    import io
    import json

    from service.observability import Observability, logs
    from service.observability.context import REQUEST_ID
    from service.settings import Settings

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    settings = Settings(data_dir=tmp_path, log_format="json")
    sink = io.StringIO()
    logs.configure(settings, stream=sink)
    obs = Observability(settings)
    scope = {"type": "http", "method": "POST", "path": "/credentials/verify", "headers": []}
    token = REQUEST_ID.set("fast-1")
    try:
        obs.request_done(scope, 200, 0.002, route="/credentials/verify")
    finally:
        REQUEST_ID.reset(token)
    logs.flush()  # the request line is buffered (written within 50 ms; see buffered.py)
    line = json.loads(sink.getvalue().splitlines()[-1])
    assert line["request_id"] == "fast-1" and line["route"] == "/credentials/verify"
    assert line["status"] == 200 and line["caller"] == "anonymous"
    text = obs.metrics.exposition().decode()  # type: ignore[union-attr]
    assert (
        'identity_http_requests_total{method="POST",route="/credentials/verify",status="200"} 1.0'
        in text
    )
