"""The verify fast path (service/fastpath.py) answers exactly as the normal path (issue #15).

One app, one store: each request is sent once through the fast path and once with the
app's router restored (the normal FastAPI path), and the two answers must be equal --
status, headers (request id included) and body -- for good and bad input; the access log
line and the metrics count the request under the same route either way, and nothing is
written. Every other verify test in the suite runs through the fast path, since
``create_app`` installs it (the first test here checks that it does).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from service.app import create_app
from service.fastpath import VerifyFastPath
from service.settings import Settings
from tests.service.conftest import issue, make_issuer, service_settings, services_of
from tests.service.test_verify_bad_key import new_verifier

METRICS_TOKEN = "metrics-scrape-token-" + "f" * 24
PROBLEM = "application/problem+json"


@pytest.fixture
def fast_client(tmp_path: Path, clock: FixedClock) -> Iterator[TestClient]:
    settings: Settings = service_settings(
        tmp_path / "data", metrics_token=METRICS_TOKEN, log_format="json"
    )
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as c:
        yield c


class Paths:
    """Switch one app between the fast path and the normal router, counting fast answers."""

    def __init__(self, client: TestClient) -> None:
        router = client.app.router  # type: ignore[attr-defined]
        self.router = router
        self.fast: VerifyFastPath = router.middleware_stack
        assert isinstance(self.fast, VerifyFastPath)
        self.taken = 0
        endpoint = self.fast.endpoint

        async def counted(request: Any) -> Any:
            self.taken += 1
            return await endpoint(request)

        self.fast.endpoint = counted

    def use(self, fast: bool) -> None:
        self.router.middleware_stack = self.fast if fast else self.fast.app


def state(client: TestClient) -> tuple[Any, ...]:
    svc = services_of(client)
    return (svc.store.count_credentials(), svc.logs.log.store.entry_count())


def answer(response: Any) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in response.headers.items() if k not in {"date"}}
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return response.status_code, headers, body


def metric(client: TestClient, route: str, status: int) -> float:
    text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    total = 0.0
    for line in text.splitlines():
        if (
            line.startswith("identity_http_requests_total{")
            and f'route="{route}"' in line
            and f'status="{status}"' in line
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total


def access_lines(err: str, request_id: str) -> list[dict[str, Any]]:
    out = []  # in the order they were written
    for line in err.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "identity.access" and entry["request_id"] == request_id:
                out.append({k: v for k, v in entry.items() if k not in {"time", "duration_ms"}})
    return out


def test_create_app_installs_the_fast_path(fast_client: TestClient) -> None:
    assert isinstance(fast_client.app.router.middleware_stack, VerifyFastPath)  # type: ignore[attr-defined]


def cases(client: TestClient) -> dict[str, Callable[[dict[str, str]], Any]]:
    agency = make_issuer(client)
    good = issue(client, agency).json()["verifiableCredential"]
    tampered = {**good, "credentialSubject": {**good["credentialSubject"], "fullName": "X"}}
    verifier = new_verifier(client)
    key = {"Authorization": f"Bearer {verifier}"}
    post = client.post

    def verify(body: Any, **kw: Any) -> Callable[[dict[str, str]], Any]:
        return lambda h: post("/credentials/verify", json=body, headers={**h, **kw})

    def raw(content: bytes, ctype: str = "application/json") -> Callable[[dict[str, str]], Any]:
        return lambda h: post(
            "/credentials/verify", content=content, headers={**h, "Content-Type": ctype}
        )

    return {
        "good, anonymous": verify({"verifiableCredential": good}),
        "good, verifier key": verify({"verifiableCredential": good}, **key),
        "good, with options": verify(
            {"verifiableCredential": good, "options": {"requireAccreditedIssuer": True}}
        ),
        "tampered (422)": verify({"verifiableCredential": tampered}, **key),
        "no proof (422)": verify(
            {"verifiableCredential": {k: v for k, v in good.items() if k != "proof"}}
        ),
        "not JSON (400)": raw(b"{not json"),
        "duplicate member (400)": raw(b'{"verifiableCredential": {}, "verifiableCredential": {}}'),
        "a list (422)": verify([{"verifiableCredential": good}]),
        "no credential (422)": verify({"options": {}}),
        "unknown envelope member": verify({"verifiableCredential": good, "x": 1}),
        "options not an object": verify({"verifiableCredential": good, "options": 3}),
        "credential a string": verify({"verifiableCredential": "eyJ..."}),
        "wrong media type (415)": raw(json.dumps({"verifiableCredential": good}).encode(),
                                      "text/plain"),
        "too large (413)": raw(b'{"verifiableCredential": "' + b"a" * 70_000 + b'"}'),
        "bad key (401)": verify(
            {"verifiableCredential": good}, Authorization="Bearer ik_0123456789abcdef.x"
        ),
        "not a key (401)": verify({"verifiableCredential": good}, Authorization="Bearer nope"),
        "GET (405, the router)": lambda h: client.get("/credentials/verify", headers=h),
        "trailing slash (the router)": lambda h: post(
            "/credentials/verify/", json={"verifiableCredential": good}, headers=h,
            follow_redirects=False,
        ),
        "batch (the router)": lambda h: post(
            "/credentials/verify/batch", json=[{"verifiableCredential": good}], headers={**h, **key}
        ),
    }  # fmt: skip


def test_fast_and_normal_paths_answer_alike(
    fast_client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = Paths(fast_client)
    statuses = {}
    for n, (name, send) in enumerate(cases(fast_client).items()):
        results = {}
        for fast in (True, False):  # the same request id: problem+json names it (instance)
            paths.use(fast)
            taken, before = paths.taken, state(fast_client)
            response = send({"X-Request-ID": f"fp-{n}"})
            assert state(fast_client) == before, name  # nothing written
            assert response.headers["x-request-id"] == f"fp-{n}", name
            results[fast] = answer(response)
            statuses[name] = response.status_code
            on_fast_path = fast and "router" not in name
            assert paths.taken == taken + on_fast_path, name
        paths.use(True)
        assert results[True] == results[False], name
    assert statuses["good, anonymous"] == statuses["good, verifier key"] == 200
    assert statuses["tampered (422)"] == statuses["no proof (422)"] == 422
    assert statuses["not JSON (400)"] == statuses["duplicate member (400)"] == 400
    assert statuses["a list (422)"] == statuses["no credential (422)"] == 422
    assert statuses["bad key (401)"] == statuses["not a key (401)"] == 401
    assert statuses["too large (413)"] == 413 and statuses["wrong media type (415)"] == 415
    assert statuses["GET (405, the router)"] == 405
    assert statuses["trailing slash (the router)"] == 307
    err = capsys.readouterr().err  # one access line each, the same but for the duration
    for n, name in enumerate(statuses):
        fast_line, normal_line = access_lines(err, f"fp-{n}")
        assert fast_line == normal_line, name


def test_problem_answers_are_problem_json(fast_client: TestClient) -> None:
    Paths(fast_client)  # the fast path, as installed
    for content, status in ((b"{bad", 400), (b"[]", 422)):
        response = fast_client.post(
            "/credentials/verify", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == status
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"].startswith("https://")


def test_metrics_count_the_fast_path_under_the_route(fast_client: TestClient) -> None:
    paths = Paths(fast_client)
    agency = make_issuer(fast_client)
    good = issue(fast_client, agency).json()["verifiableCredential"]
    for fast in (True, False):
        paths.use(fast)
        before = metric(fast_client, "/credentials/verify", 200)
        response = fast_client.post("/credentials/verify", json={"verifiableCredential": good})
        assert response.status_code == 200
        assert metric(fast_client, "/credentials/verify", 200) == before + 1


def test_a_verification_reads_its_versions_once(fast_client: TestClient) -> None:
    """The verifier key, the issuerTrust check and the status lists' versions answer under
    one version read (issue #15): one ``read_versions`` a request, no single reads."""
    agency = make_issuer(fast_client)
    good = issue(fast_client, agency).json()["verifiableCredential"]
    verifier = new_verifier(fast_client)
    store = services_of(fast_client).store
    reads: list[str] = []

    def counting(name: str) -> Callable[..., Any]:
        real = getattr(store, name)

        def counted(*args: Any) -> Any:
            reads.append(name)
            return real(*args)

        return counted

    for name in ("trust_version", "status_list_version", "read_versions"):
        setattr(store, name, counting(name))
    trust = services_of(fast_client).trust
    trust.cache._version = store.trust_version  # the cache holds the bound method it was built with
    key = {"Authorization": f"Bearer {verifier}"}
    first_use = ["trust_version", "read_versions"]  # a key not seen lately is judged first
    for headers, expected in ((key, first_use), (key, ["read_versions"]), ({}, ["read_versions"])):
        reads.clear()
        response = fast_client.post(
            "/credentials/verify", json={"verifiableCredential": good}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["results"]["issuerTrust"]["valid"] is True
        assert response.json()["results"]["status"]["valid"] is True
        assert reads == expected
