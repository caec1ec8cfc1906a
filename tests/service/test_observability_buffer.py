"""The buffered request lines (service/observability/buffered.py): the flush bound, the
order with every other line, the limit, and that nothing is lost at shutdown (an app's
lifespan, a real ``identity serve --workers 2`` stopped by SIGTERM)."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from service.app import create_app
from service.observability import buffered, logs
from service.observability.buffered import BufferedStreamHandler
from service.settings import Settings
from tests.service.test_observability_serve import serve

LONG = 30.0  # a flush interval no test waits for: a line written before it is not the timer's


@pytest.fixture
def sink() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def handler(sink: io.StringIO) -> Iterator[BufferedStreamHandler]:
    made = BufferedStreamHandler(sink, flush_interval=LONG)
    yield made
    made.close()


def line(n: int) -> str:
    return json.dumps({"n": n}) + "\n"


def test_a_buffered_line_waits_for_the_writer_not_for_a_write(
    handler: BufferedStreamHandler, sink: io.StringIO
) -> None:
    handler.buffer(line(1))
    time.sleep(0.2)
    assert sink.getvalue() == ""  # buffered: the writer thread's interval has not passed
    handler.flush()
    assert sink.getvalue() == line(1)


def test_the_writer_writes_within_the_flush_interval(sink: io.StringIO) -> None:
    interval = 0.05
    handler = BufferedStreamHandler(sink, flush_interval=interval)
    try:
        waited = []
        for n in range(5):
            start = time.monotonic()
            handler.buffer(line(n))
            while line(n) not in sink.getvalue():
                assert time.monotonic() - start < 5, "the writer never wrote the line"
                time.sleep(0.002)
            waited.append(time.monotonic() - start)
        assert sink.getvalue() == "".join(line(n) for n in range(5))
        # The bound: the interval, plus the interpreter's switch interval and, on a loaded
        # machine, a wait for a core. The median keeps one slow wake-up from deciding.
        assert sorted(waited)[2] < interval + 0.2, waited
    finally:
        handler.close()


def test_other_records_are_written_at_once_after_the_lines_before_them(
    handler: BufferedStreamHandler, sink: io.StringIO
) -> None:
    logger = logging.getLogger("tests.buffered")
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        handler.buffer(line(1))
        handler.buffer(line(2))
        logger.warning("event")
        assert sink.getvalue() == line(1) + line(2) + "event\n"  # no wait, in order
        handler.buffer(line(3))
        logger.info("not shown")  # below the logger's level: nothing handled, nothing drained
        assert sink.getvalue().endswith("event\n")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def test_deferred_lines_are_made_when_written_in_order_with_the_rest(
    handler: BufferedStreamHandler, sink: io.StringIO
) -> None:
    made: list[int] = []

    def make(n: int) -> str:
        made.append(n)
        return line(n)

    handler.buffer(line(1))
    handler.defer(make, (2,))
    handler.buffer(line(3))
    assert made == [] and sink.getvalue() == ""  # not made yet: the writer makes it
    handler.flush()
    assert made == [2] and sink.getvalue() == line(1) + line(2) + line(3)


def test_the_request_line_deferred_is_the_line_built_at_once() -> None:
    created = 1_700_000_000.25
    args = ("rid-1", "POST", "/credentials/verify", 200, 0.0012345, "verifier", None, created)
    deferred = logs.access_line_of(*args)
    at_once = logs.access_line(
        "rid-1", "POST", "/credentials/verify", 200, 1.234, "verifier", None, created
    )
    assert deferred == at_once
    assert json.loads(deferred)["time"] == "2023-11-14T22:13:20.250Z"


def test_at_the_limit_the_caller_writes_the_lines_itself(
    handler: BufferedStreamHandler, sink: io.StringIO
) -> None:
    for n in range(buffered.LIMIT - 1):
        handler.buffer(line(n))
    assert sink.getvalue() == ""
    handler.buffer(line(buffered.LIMIT - 1))
    assert sink.getvalue().count("\n") == buffered.LIMIT


def test_close_writes_what_waits(sink: io.StringIO) -> None:
    handler = BufferedStreamHandler(sink, flush_interval=LONG)
    for n in range(10):
        handler.buffer(line(n))
    handler.close()
    assert sink.getvalue() == "".join(line(n) for n in range(10))


def test_configure_again_writes_what_the_old_handler_held(
    tmp_path: Path, sink: io.StringIO
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:]
    try:
        root.handlers = []
        settings = Settings(data_dir=tmp_path, log_format="json")
        logs.configure(settings, stream=sink, flush_interval=LONG)
        (handler,) = root.handlers
        handler.buffer(line(1))  # type: ignore[attr-defined]
        logs.configure(settings, stream=io.StringIO(), flush_interval=LONG)
        assert sink.getvalue() == line(1)
    finally:
        for h in root.handlers:
            h.close()
        root.handlers = saved


def test_an_apps_shutdown_writes_every_request_line(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(buffered, "FLUSH_INTERVAL", LONG)  # only the shutdown can write them
    settings = Settings(
        data_dir=tmp_path, admin_token="a" * 40, master_secret="ab" * 32, log_format="json"
    )
    app = create_app(settings, clock=clock)
    root = logging.getLogger()
    # pytest's own log-capturing handlers would send the lines the record's way (written at
    # once, as with any other handler present): leave the service's handler alone, as served.
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers if type(h) is logs._Handler])
    assert logs.plain_json_handler(logging.getLogger("identity.access")) is not None
    with TestClient(app) as client:
        capsys.readouterr()
        for n in range(50):
            client.get("/health/live", headers={"X-Request-ID": f"shut-{n}"})
        assert "shut-0" not in capsys.readouterr().err  # still waiting in the buffer
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    ids = [x["request_id"] for x in lines if x["logger"] == "identity.access"]
    assert ids == [f"shut-{n}" for n in range(50)]
    stopping = next(i for i, x in enumerate(lines) if x.get("event") == "service.stopping")
    assert all(x["logger"] != "identity.access" for x in lines[stopping:])  # none after it


@pytest.mark.slow
def test_a_served_worker_stopped_at_once_has_written_every_line(tmp_path: Path) -> None:
    ids = [f"term-{n}" for n in range(300)]
    with serve(tmp_path / "data") as (url, log_path), httpx.Client(base_url=url) as client:
        for rid in ids:
            assert client.get("/health/live", headers={"X-Request-ID": rid}).status_code == 200
        # SIGTERM now: the last lines are still in the buffer, well within 50 ms.
    lines = [json.loads(x) for x in log_path.read_text().splitlines() if x.startswith("{")]
    written = [x["request_id"] for x in lines if x["logger"] == "identity.access"]
    ours = [rid for rid in written if rid.startswith("term-")]  # not serve()'s start-up polls
    assert ours == ids  # each once, in order (one connection: one worker)
    served_by = {x["pid"] for x in lines if x.get("request_id") in set(ids)}
    stopping = {x["pid"] for x in lines if x.get("event") == "service.stopping"}
    assert served_by <= stopping  # the worker that served them stopped by the book
