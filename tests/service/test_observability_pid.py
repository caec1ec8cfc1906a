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


def _exposed(path: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
    }


def test_the_fused_request_update_writes_what_the_library_writes(tmp_path, monkeypatch) -> None:
    """Metrics.request_done and a verification count through the fused ``add``
    (service/observability/mmap_values.py) against the library's own Counter.inc and
    Histogram.observe: the same exposition, every bucket edge included, and the library's
    later updates carry on from the fused ones."""
    from prometheus_client import Histogram, values

    from service.observability.metrics import LATENCY_BUCKETS, Metrics

    latencies = [0.0, 0.0005, 0.001, 0.0010001, *LATENCY_BUCKETS, 11.0, 0.003, 0.003, 99.0]
    fused_dir, slow_dir = tmp_path / "fused", tmp_path / "slow"
    fused_dir.mkdir()
    slow_dir.mkdir()
    monkeypatch.setattr(values, "ValueClass", multiprocess_value_class())
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(fused_dir))
    metrics = Metrics()
    credential = {"proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022"}}
    for n, seconds in enumerate(latencies):
        metrics.request_done("/credentials/verify", "POST", 200 if n % 3 else 422, seconds)
        metrics.verification(credential, ())
    metrics.http_requests.labels("/credentials/verify", "POST", "200").inc()  # the library's
    metrics.verified.labels("eddsa-jcs-2022", "verified").inc()
    monkeypatch.setattr(values, "ValueClass", multiprocess_value_class())
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(slow_dir))
    requests = Counter("identity_http_requests", metrics.http_requests._documentation,
                       ["route", "method", "status"], registry=None)  # fmt: skip
    duration = Histogram("identity_http_request_duration_seconds",
                         metrics.http_duration._documentation, ["route", "method"],
                         buckets=LATENCY_BUCKETS, registry=None)  # fmt: skip
    verified = Counter("identity_credentials_verified", metrics.verified._documentation,
                       ["cryptosuite", "outcome"], registry=None)  # fmt: skip
    for n, seconds in enumerate(latencies):
        requests.labels("/credentials/verify", "POST", "200" if n % 3 else "422").inc()
        duration.labels("/credentials/verify", "POST").observe(seconds)
        verified.labels("eddsa-jcs-2022", "verified").inc()
    requests.labels("/credentials/verify", "POST", "200").inc()
    verified.labels("eddsa-jcs-2022", "verified").inc()
    moved = ("identity_http_request", "identity_credentials_verified")  # the others: zeros
    fused = {k: v for k, v in _exposed(fused_dir).items() if k[0].startswith(moved)}
    slow = _exposed(slow_dir)
    assert fused == slow and len(slow) == 2 + len(LATENCY_BUCKETS) + 1 + 2 + 1
    bucket = ("identity_http_request_duration_seconds_bucket",
              (("le", "0.001"), ("method", "POST"), ("route", "/credentials/verify")))  # fmt: skip
    assert fused[bucket] == 4  # 0.0, 0.0005 and both exactly 0.001: le is inclusive


def test_the_fused_update_reopens_its_files_in_a_forked_child(tmp_path, monkeypatch) -> None:
    from prometheus_client import values

    from service.observability.metrics import Metrics

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(values, "ValueClass", multiprocess_value_class())
    metrics = Metrics()
    metrics.request_done("/health", "GET", 200, 0.002)
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            metrics.request_done("/health", "GET", 200, 0.002)
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    assert (tmp_path / f"counter_{child}.db").exists()
    samples = _exposed(tmp_path)
    total = ("identity_http_requests_total",
             (("method", "GET"), ("route", "/health"), ("status", "200")))  # fmt: skip
    assert samples[total] == 2.0  # the parent's one and the child's one, each in its file


def test_the_fused_update_still_lands_after_its_file_grew(tmp_path, monkeypatch) -> None:
    """A value keeps the mapping its file had when the value was made; new keys grow the
    file and map it again (MmapedDict), and the old mapping of the same shared file still
    writes where the collector reads."""
    from prometheus_client import values

    from service.observability.metrics import Metrics

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(values, "ValueClass", multiprocess_value_class())
    metrics = Metrics()
    metrics.request_done("/health", "GET", 200, 0.002)
    file = metrics.http_requests.labels("/health", "GET", "200")._value._file
    capacity = file._capacity
    for n in range(2000):  # enough keys to double the file at least once
        metrics.rate_limited.labels(f"/route/{n}").inc()
    assert file._capacity > capacity
    metrics.request_done("/health", "GET", 200, 0.002)
    samples = _exposed(tmp_path)
    total = ("identity_http_requests_total",
             (("method", "GET"), ("route", "/health"), ("status", "200")))  # fmt: skip
    assert samples[total] == 2.0
    assert samples[("identity_rate_limit_refusals_total", (("route", "/route/1999"),))] == 1.0
