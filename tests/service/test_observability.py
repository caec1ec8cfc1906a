"""Metrics, logs and request ids, in process (see test_observability_serve.py for a real
multi-worker server)."""

from __future__ import annotations

import json
import logging
import re
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.errors import UnavailableError
from service.app import create_app
from service.observability.watch import Watch
from service.settings import Settings
from tests.service.conftest import ADMIN, NOW, make_issuer, services_of
from tests.service.directory_helpers import Citizen, ask, publish
from tests.service.observability_workload import SUBJECT, Workload, key, samples

METRICS_TOKEN = "metrics-scrape-token-" + "m" * 24
SECRET = "ab" * 32


@pytest.fixture
def obs_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        admin_token=ADMIN,
        master_secret=SECRET,
        metrics_token=METRICS_TOKEN,
        log_format="json",
        public_verify_per_minute=6,  # burst 1: the second anonymous verification is refused
    )


@pytest.fixture
def app_client(obs_settings: Settings, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(obs_settings, clock=clock), raise_server_exceptions=False) as c:
        yield c


def scrape(client: TestClient) -> dict[Any, float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "nothing was logged"
    return [json.loads(line) for line in lines]  # every line is one JSON object


def test_each_family_moves_by_what_the_workload_did(app_client: TestClient) -> None:
    before = scrape(app_client)
    work = Workload(app_client, ADMIN)
    work.setup()
    work.round(anonymous=2)
    work.round()
    after = scrape(app_client)
    moved = work.moved(before, after)
    assert moved == dict(work.expected)
    # the anonymous pair: one verified, one refused by the rate limit
    refused = key("identity_rate_limit_refusals_total", route="/credentials/verify")
    assert work.expected[refused] == 1
    # batches: every entry sequenced was in one batch, and the tree catches up
    entries = after[key("identity_log_batch_size_sum")] - before.get(
        key("identity_log_batch_size_sum"), 0.0
    )
    # batches are integration steps now (acts admit their own entries, issue #12): the
    # workload's entries, plus the seeded type registrations integrated meanwhile
    assert work.log_entries == 2 + 2 * 4 and entries >= work.log_entries
    assert after[key("identity_log_batch_size_count")] >= 1
    watch = app_client.app.state.observability.watch  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while samples_of(app_client, "identity_log_tree_size") < work.log_entries:
        assert time.monotonic() < deadline, "the tree never caught up"
        watch.sample()
        time.sleep(0.05)
    final = scrape(app_client)
    assert final[key("identity_log_pending_entries")] == 0
    assert final[key("identity_log_stalled")] == 0
    assert final[key("identity_store_up")] == 1
    assert final[key("identity_log_integration_errors_total")] == 0


def samples_of(client: TestClient, name: str) -> float:
    return scrape(client)[key(name)]


def test_sharing_acts_are_counted_by_kind(app_client: TestClient) -> None:
    holder = make_issuer(app_client, "Public Security Bureau")
    requester = make_issuer(app_client, "Education Bureau")
    citizen = Citizen(seed=11)
    citizen.register(app_client)
    assert publish(app_client, holder).status_code == 201
    before = scrape(app_client)
    asked = ask(app_client, requester, citizen.did)
    assert asked.status_code == 201, asked.text
    consent = citizen.consent(app_client, asked.json()["id"], NOW)
    assert consent.status_code == 200, consent.text
    after = scrape(app_client)
    for kind in ("sharing.requested", "consent.granted"):
        counted = key("identity_sharing_acts_total", kind=kind)
        assert after[counted] - before.get(counted, 0) == 1
    labels = {value for (_, pairs) in after for _, value in pairs}
    assert citizen.did not in labels and asked.json()["id"] not in labels


def test_no_label_holds_a_did_an_id_or_a_personal_value(app_client: TestClient) -> None:
    work = Workload(app_client, ADMIN)
    work.setup()
    work.round(anonymous=2)
    for i in range(20):  # unmatched paths and odd methods do not make new series
        app_client.get(f"/no/such/path/{i}")
        app_client.request("PROPFIND", f"/issuers/{i}")
        app_client.get(f"/issuers/agency-{i}")
    text = app_client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    series = samples(text)
    labels = {value for (_, pairs) in series for _, value in pairs}
    forbidden = [work.agency["did"], work.agency["id"], *work.credential_ids, *SUBJECT.values()]
    for value in forbidden:
        assert value not in text, value
    routes = {dict(pairs)["route"] for (_, pairs) in series if "route" in dict(pairs)}
    used = {dict(pairs)["route"] for (_, pairs) in work.expected if "route" in dict(pairs)}
    assert routes == used | {"<unmatched>", "/issuers/{issuer_id}"}
    methods = {dict(pairs)["method"] for (_, pairs) in series if "method" in dict(pairs)}
    assert methods <= {"GET", "POST", "DELETE", "other"}
    assert "other" in methods  # PROPFIND
    assert not any(label.startswith("did:") for label in labels)
    # bounded: 60 odd requests added a handful of series, not 60
    http = [k for k in series if k[0] == "identity_http_requests_total"]
    assert len(http) < 25


def test_metrics_need_the_metrics_or_admin_token(app_client: TestClient) -> None:
    assert app_client.get("/metrics").status_code == 401
    wrong = app_client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert "identity_http_requests_total" not in wrong.text
    for token in (METRICS_TOKEN, ADMIN):
        ok = app_client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200


def test_metrics_can_be_disabled(obs_settings: Settings, clock: FixedClock) -> None:
    settings = obs_settings.model_copy(update={"metrics_enabled": False})
    with TestClient(create_app(settings, clock=clock)) as client:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert client.get("/health").headers["x-request-id"]


def test_each_app_has_its_own_registry(obs_settings: Settings, clock: FixedClock) -> None:
    with TestClient(create_app(obs_settings, clock=clock)) as one:
        one.get("/health")
        one.get("/health")
        with TestClient(create_app(obs_settings, clock=clock)) as two:
            two.get("/health")
            count = key("identity_http_requests_total", route="/health", method="GET",
                        status="200")  # fmt: skip
            assert scrape(one)[count] == 2
            assert scrape(two)[count] == 1


# -- request ids ------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["abc-123", "A.b_c~d-9", "x" * 128])
def test_a_valid_request_id_is_echoed_and_is_the_problem_instance(
    app_client: TestClient, given: str
) -> None:
    response = app_client.post("/issuers", json={"name": "x"}, headers={"X-Request-ID": given})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == given
    assert response.json()["instance"] == given
    assert (
        app_client.get("/health", headers={"X-Request-ID": given}).headers["x-request-id"] == given
    )


@pytest.mark.parametrize("given", ["", "x" * 129, "has space", "semi;colon", "é", "a/b", "a:b"])
def test_an_invalid_request_id_is_replaced_by_a_new_one(app_client: TestClient, given: str) -> None:
    response = app_client.get("/no-such", headers={"X-Request-ID": given.encode("utf-8")})
    made = response.headers["x-request-id"]
    assert made != given and len(made) == 32 and int(made, 16) >= 0
    assert response.json()["instance"] == made


def test_every_response_gets_a_fresh_id_without_one(app_client: TestClient) -> None:
    ids = {app_client.get("/health/live").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_an_unexpected_error_still_carries_the_request_id(
    obs_settings: Settings, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(obs_settings, clock=clock)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        capsys.readouterr()
        response = client.get("/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "boom-1"
    assert response.json()["instance"] == "boom-1"
    lines = json_lines(capsys.readouterr().err)
    request_line = [x for x in lines if x["logger"] == "identity.access"]
    assert request_line[0]["status"] == 500 and request_line[0]["request_id"] == "boom-1"
    assert any("exception" in x and x.get("request_id") == "boom-1" for x in lines) or any(
        "exception" in x for x in lines
    )


# -- logs -------------------------------------------------------------------------------


def test_log_lines_are_json_carry_the_request_id_and_no_secret(
    obs_settings: Settings, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(obs_settings, clock=clock), raise_server_exceptions=False) as c:
        work = Workload(c, ADMIN, prefix="client-rid")
        work.setup()
        work.round(anonymous=2)
        c.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    err = capsys.readouterr().err
    lines = json_lines(err)
    requests = [x for x in lines if x["logger"] == "identity.access"]
    assert [x["request_id"] for x in requests[: len(work.request_ids)]] == work.request_ids
    first = requests[0]
    assert set(first) == {
        "time", "level", "logger", "message", "pid", "request_id", "method", "route", "status",
        "duration_ms", "caller",
    }  # fmt: skip
    callers = {(x["route"], x["caller"], x.get("agency")) for x in requests}
    assert ("/issuers", "operator", None) in callers
    assert ("/credentials/issue", "agency", work.agency["id"]) in callers
    assert ("/credentials/verify", "verifier", None) in callers
    assert ("/credentials/verify", "anonymous", None) in callers
    assert ("/metrics", "metrics", None) in callers
    assert ("/dids/{did:path}", "anonymous", None) in callers
    events = {x.get("event"): x for x in lines if x["logger"] == "identity.events"}
    assert {"service.started", "agency.created", "api_key.created", "api_key.revoked",
            "accreditation.granted", "service.stopping"} <= set(events)  # fmt: skip
    assert events["agency.created"]["request_id"].startswith("client-rid-")
    summary = events["service.started"]["settings"]
    assert summary["admin_token"] == "set" and summary["master_secret"] == "set"
    assert summary["metrics_token"] == "set" and summary["log_format"] == "json"
    secrets = [*work.secrets, METRICS_TOKEN, SECRET, *work.credential_ids]
    for value in [*secrets, *SUBJECT.values()]:
        assert value not in err, value
    for secret in work.secrets:  # nor the secret half of an API key on its own
        assert secret.rpartition(".")[2] not in err


def test_development_logs_are_human_readable(
    obs_settings: Settings, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = obs_settings.model_copy(update={"log_format": None})
    with TestClient(create_app(settings, clock=clock)) as client:
        client.get("/health", headers={"X-Request-ID": "dev-1"})
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "request_id=dev-1" in x)
    assert "INFO" in line and "route=/health" in line and "status=200" in line
    assert not line.startswith("{")


def test_access_log_can_be_turned_off(
    obs_settings: Settings, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = obs_settings.model_copy(update={"access_log": False})
    with TestClient(create_app(settings, clock=clock)) as client:
        client.get("/health", headers={"X-Request-ID": "quiet-1"})
    assert "quiet-1" not in capsys.readouterr().err


# -- the store watch ----------------------------------------------------------------------


def test_store_outage_and_recovery_are_logged_and_measured(
    app_client: TestClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = services_of(app_client)
    watch: Watch = app_client.app.state.observability.watch  # type: ignore[attr-defined]
    capsys.readouterr()

    def down() -> None:
        raise UnavailableError("Redis connection lost")

    monkeypatch.setattr(svc.store, "ping", down)
    watch.ping = down
    health = app_client.get("/health", headers={"X-Request-ID": "outage-1"})
    assert health.status_code == 503
    assert health.json()["instance"] == "outage-1"
    watch.sample()
    time.sleep(0.05)
    watch.sample()
    during = scrape(app_client)
    assert during[key("identity_store_up")] == 0
    assert during[key("identity_store_errors_total", source="request")] == 1
    assert during[key("identity_store_errors_total", source="probe")] >= 2
    monkeypatch.undo()
    watch.ping = svc.store.ping
    watch.sample()
    after = scrape(app_client)
    assert after[key("identity_store_up")] == 1
    assert after[key("identity_store_unavailable_seconds")] >= 0.05
    events = [x for x in json_lines(capsys.readouterr().err) if x.get("event")]
    kinds = [x["event"] for x in events]
    assert kinds.count("store.unavailable") == 1 and kinds.count("store.recovered") == 1
    recovered = next(x for x in events if x["event"] == "store.recovered")
    assert recovered["unavailable_seconds"] >= 0.05
    unavailable = next(x for x in events if x["event"] == "store.unavailable")
    # the request meets the outage first, unless the log's own poll of the store does
    assert unavailable["source"] in ("request", "probe")
    if unavailable["source"] == "request":
        assert unavailable["request_id"] == "outage-1"


class FakeLog:
    """A log store whose entry count and checkpoint size the test sets."""

    def __init__(self) -> None:
        self.entries = 0
        self.size = 0

    def entry_count(self) -> int:
        return self.entries

    def latest_checkpoint(self) -> bytes:
        return f"example.org/log\n{self.size}\nROOT=\n\n— sig\n".encode()


def test_a_stalled_integration_is_logged_once_and_its_resumption_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    log = FakeLog()
    watch = Watch(lambda: None, log, interval=1, stall_after=30, clock=lambda: now[0])  # type: ignore[arg-type]
    caplog.set_level(logging.INFO, "identity.events")
    watch.sample()
    log.entries = 5
    for _ in range(5):
        now[0] += 10
        watch.sample()
    assert watch.state.pending == 5 and watch.state.stalled_since is not None
    log.size = 5
    now[0] += 1
    watch.sample()
    events = [r.fields["event"] for r in caplog.records]  # type: ignore[attr-defined]
    assert events == ["log.stalled", "log.resumed"]
    stalled = caplog.records[0].fields  # type: ignore[attr-defined]
    assert stalled["pending"] == 5 and stalled["waiting_seconds"] == 30
    # waiting began when the entries were first seen (10 s after the start), 41 s ago
    assert caplog.records[1].fields["stalled_seconds"] == 41  # type: ignore[attr-defined]
    assert watch.state.stalled_since is None and watch.state.last_advance == now[0]


def test_entries_that_integrate_in_time_are_no_stall(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = FakeLog()
    watch = Watch(lambda: None, log, stall_after=30, clock=lambda: now[0])  # type: ignore[arg-type]
    caplog.set_level(logging.INFO, "identity.events")
    watch.sample()
    for step in range(1, 20):
        log.entries = step * 3
        now[0] += 20
        watch.sample()  # pending now, but it was not waiting before
        log.size = log.entries
        now[0] += 1
        watch.sample()
    assert not caplog.records


def test_the_dashboard_queries_only_families_the_service_exports(app_client: TestClient) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    text = app_client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"}).text
    exported: set[str] = set()
    for family in text_string_to_metric_families(text):
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
        exported |= {family.name + s for s in suffixes.get(family.type, [""])}
    dashboard = json.loads(
        (Path(__file__).parents[2] / "deploy/grafana/identity-dashboard.json").read_text()
    )
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {name for expr in exprs for name in re.findall(r"identity_[a-z_]+", expr)}
    assert used and used <= exported, used - exported
    families = {name.removesuffix("_total") for name in exported}
    for wanted in ("identity_http_requests", "identity_credentials_issued",
                   "identity_verification_failed_checks", "identity_sharing_acts",
                   "identity_log_pending_entries", "identity_store_unavailable_seconds",
                   "identity_rate_limit_refusals"):  # fmt: skip
        assert wanted in families
        assert any(wanted in name for name in used), f"no panel shows {wanted}"


def test_serve_gives_its_workers_an_empty_metrics_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from service.observability.multiprocess import ENV, metrics_directory

    monkeypatch.delenv(ENV, raising=False)
    with metrics_directory() as made:
        assert os.environ[ENV] == str(made) and made.is_dir()
        assert made.stat().st_mode & 0o077 == 0  # private
    assert not made.exists() and ENV not in os.environ
    given = tmp_path / "metrics"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"stale")
    (given / "keep.txt").write_text("not ours")
    monkeypatch.setenv(ENV, str(given))
    with metrics_directory() as used:
        assert used == given and not list(given.glob("*.db"))
    assert (given / "keep.txt").exists()


def test_uvicorn_lines_use_the_service_format(obs_settings: Settings) -> None:
    import logging.config

    from service.observability.logs import JsonFormatter, uvicorn_log_config

    config = uvicorn_log_config(obs_settings)
    uvicorn_logger = logging.getLogger("uvicorn")
    saved = (uvicorn_logger.handlers[:], uvicorn_logger.propagate, uvicorn_logger.level)
    try:
        logging.config.dictConfig(config)
        handler = uvicorn_logger.handlers[0]
        assert isinstance(handler.formatter, JsonFormatter)
        record = logging.LogRecord("uvicorn.error", logging.INFO, "x", 1, "Started", (), None)
        assert json.loads(handler.formatter.format(record))["message"] == "Started"
    finally:
        uvicorn_logger.handlers[:], uvicorn_logger.propagate = saved[0], saved[1]
        uvicorn_logger.setLevel(saved[2])


def test_the_request_lines_fast_path_writes_what_the_formatter_would(
    obs_settings: Settings,
) -> None:
    import io

    from service.observability import logs
    from service.observability.context import REQUEST_ID

    root = logging.getLogger()
    saved = root.handlers[:]
    stream = io.StringIO()
    try:
        root.handlers = []
        logs.configure(obs_settings, stream=stream)
        access = logging.getLogger("identity.access")
        handler = logs.plain_json_handler(access)
        assert handler is not None
        fields = {"method": "GET", "route": "/health", "status": 200, "caller": "anonymous"}
        token = REQUEST_ID.set("fast-1")
        try:
            logs.write_json_line(handler, access.name, "request", fields)
            access.handle(access.makeRecord(access.name, logging.INFO, "x", 0, "request", (),
                                            None, extra={"fields": fields}))  # fmt: skip
        finally:
            REQUEST_ID.reset(token)
        fast, slow = (json.loads(line) for line in stream.getvalue().splitlines())
        assert fast.pop("time")[:16] == slow.pop("time")[:16]
        assert fast == slow and list(fast) == list(slow)
        root.addHandler(logging.NullHandler())  # any other handler: the ordinary path
        assert logs.plain_json_handler(access) is None
    finally:
        root.handlers = saved


@pytest.mark.parametrize(
    ("request_id", "method", "route", "agency"),
    [
        ("fast-1", "GET", "/health", None),
        (None, "POST", "/dids/{did:path}", "psb"),
        ("a" * 128, "PROPFIND", "<unmatched>", 'quote " back \\ 局 \n'),
    ],
)
def test_the_built_request_line_is_what_the_formatter_writes(
    request_id: str | None, method: str, route: str, agency: str | None
) -> None:
    from service.observability import logs
    from service.observability.context import REQUEST_ID

    fields: dict[str, object] = {"method": method, "route": route, "status": 201,
                                 "duration_ms": 1.235, "caller": "agency"}  # fmt: skip
    if agency is not None:
        fields["agency"] = agency
    record = logging.LogRecord("identity.access", logging.INFO, "x", 0, "request", (), None)
    record.fields = fields
    token = REQUEST_ID.set(request_id)
    try:
        built = logs.access_line(request_id, method, route, 201, 1.235, "agency", agency)
        formatted = logs.JsonFormatter().format(record)
    finally:
        REQUEST_ID.reset(token)
    assert built.endswith("\n") and "\n" not in built[:-1]
    # The same text but the time of the two clock reads (and the same kind of time).
    head, _, rest = built[:-1].partition(',"level"')
    formatted_head, _, formatted_rest = formatted.partition(',"level"')
    assert rest == formatted_rest
    assert head[:9] == formatted_head[:9] == '{"time":"' and len(head) == len(formatted_head)
