"""did:web over HTTP: the agencies' documents, local resolution, and remote resolution
against a real HTTP server on 127.0.0.1 (so httpx, the size limit and the timeout are real)."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.dids.web import agency_web_document
from identity.errors import PROBLEMS, DidResolutionError
from identity.keys import Ed25519PrivateKey
from identity.proofs import add_proof
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.stores import IssuerRecord
from service.app import create_app
from service.didweb import Fetcher
from service.settings import Settings
from tests.service.conftest import ADMIN, NOW, credential_for, issue, make_issuer, services_of
from tests.service.test_bad_input import assert_problem

DID_LD_JSON = "application/did+ld+json"
MAX_BYTES = 4096
TIMEOUT_S = 0.5
REMOTE_KEY = Ed25519PrivateKey(b"\x07" * 32)


def dids_path(did: str) -> str:
    """``/dids/<did>`` with the ``%`` of ``%3A`` escaped for the URL path. Starlette's
    TestClient decodes the path twice (a real server once), hence the double escape."""
    return "/dids/" + quote(quote(did, safe=":"), safe=":")


def _proof_options(method: str) -> dict[str, Any]:
    return {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": method,
        "proofPurpose": "assertionMethod",
    }


# -- a did:web host on 127.0.0.1 ------------------------------------------------------------


class Host:
    """A plain-HTTP did:web host whose answers the tests choose per path."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.requests.append(self.path)
                host.answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.domain = f"localhost%3A{self.port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def did(self, *path: str) -> str:
        return ":".join(["did:web", self.domain, *path])

    def document(self, did: str) -> dict[str, Any]:
        issuer = IssuerRecord(
            id="remote",
            name="Remote agency",
            did="did:key:" + REMOTE_KEY.public_key().multibase,
            sealed_key=b"-",
            created=NOW,
        )
        return agency_web_document(did, issuer)

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.removesuffix("/did.json").strip("/")
        if path == ".well-known":
            return _send(h, 200, json.dumps(self.document(self.did())).encode())
        if path == "mismatch":
            return _send(h, 200, json.dumps(self.document(self.did("other"))).encode())
        if path == "notjson":
            return _send(h, 200, b"<html>not a DID document</html>")
        if path == "big":
            return _send(h, 200, b'{"pad": "' + b"x" * 10 * MAX_BYTES + b'"}')
        if path == "big-unsized":  # no Content-Length: the limit must hold while reading
            h.send_response(200)
            h.end_headers()
            return _write(h, b'{"pad": "' + b"x" * 10 * MAX_BYTES + b'"}')
        if path == "gzip":
            return _send(h, 200, gzip.compress(b"{}"), **{"Content-Encoding": "gzip"})
        if path == "slow":  # nothing at all until after the timeout
            time.sleep(3 * TIMEOUT_S)
            return _send(h, 200, b"{}")
        if path == "drip":  # headers at once, then a byte every 0.2 s for 20 s
            h.send_response(200)
            h.end_headers()
            for _ in range(100):
                if not _write(h, b" "):
                    return None
                time.sleep(0.2)
            return None
        if path == "redirect":
            return _send(h, 302, b"", Location="/.well-known/did.json")
        if path == "gone":
            return _send(h, 410, b"gone")
        if path == "error":
            return _send(h, 500, b"oops")
        if path == "forbidden":
            return _send(h, 403, b"no")
        return _send(h, 404, b"not found")


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    h.send_response(status)
    h.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        h.send_header(name, value)
    h.end_headers()
    _write(h, body)


def _write(h: BaseHTTPRequestHandler, data: bytes) -> bool:
    try:
        h.wfile.write(data)
        h.wfile.flush()
    except OSError:  # the client gave up (size limit, deadline)
        return False
    return True


@pytest.fixture
def host() -> Iterator[Host]:
    server = Host()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        admin_token=ADMIN,
        master_secret="ab" * 32,
        public_verify_per_minute=1_000_000,
        did_web_timeout_s=TIMEOUT_S,
        did_web_max_bytes=MAX_BYTES,
        **extra,
    )


@pytest.fixture
def web_client(tmp_path: Path, clock: FixedClock) -> Iterator[TestClient]:
    """The service with plain-HTTP did:web allowed (its own domain: localhost:8000)."""
    settings = _settings(tmp_path, did_web_allow_http=True)
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as c:
        yield c


# -- the agencies' own documents ------------------------------------------------------------


def test_agency_document_is_served_at_its_did_web_path(client: TestClient) -> None:
    agency = make_issuer(client)
    did = f"did:web:localhost%3A8000:agencies:{agency['id']}"
    assert agency["didWeb"] == did
    assert client.get(f"/issuers/{agency['id']}").json()["didWeb"] == did
    assert [i["didWeb"] for i in client.get("/issuers").json()] == [did]
    response = client.get(f"/agencies/{agency['id']}/did.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == DID_LD_JSON
    document = response.json()
    assert document["id"] == did
    assert document["alsoKnownAs"] == [agency["did"]]
    assert document["verificationMethod"] == [
        {
            "id": f"{did}#key-1",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": agency["did"].removeprefix("did:key:"),
        }
    ]
    assert document["assertionMethod"] == document["authentication"] == [f"{did}#key-1"]


def test_own_did_web_resolves_locally_without_network(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(self: Fetcher, url: str) -> bytes:
        raise AssertionError(f"fetched {url}")

    monkeypatch.setattr(Fetcher, "__call__", no_network)
    agency = make_issuer(client)
    response = client.get(dids_path(agency["didWeb"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["didDocument"] == client.get(f"/agencies/{agency['id']}/did.json").json()
    assert body["didResolutionMetadata"] == {"contentType": DID_LD_JSON}
    unknown = dids_path("did:web:localhost%3A8000:agencies:nobody")
    assert_problem(client.get(unknown), 404, PROBLEMS + "not-found")


def test_agency_credentials_verify_with_the_did_key_and_the_did_web(client: TestClient) -> None:
    agency = make_issuer(client)
    vc = issue(client, agency).json()["verifiableCredential"]
    assert vc["proof"]["verificationMethod"].startswith("did:key:")
    response = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 200, response.text
    # the same key, named by the agency's did:web, resolved from the store
    svc = services_of(client)
    key = svc.issuance.keys.signing_key(svc.store.get_issuer(agency["id"]))
    method = f"{agency['didWeb']}#key-1"
    web_vc = add_proof(
        EddsaJcs2022(), credential_for(agency["didWeb"]), _proof_options(method), key
    )
    response = client.post("/credentials/verify", json={"verifiableCredential": web_vc})
    assert response.status_code == 200, response.text
    assert response.json()["results"]["proof"]["proofs"][0]["verificationMethod"] == method


def test_unknown_agency_document_is_404(client: TestClient) -> None:
    for issuer_id in ("nobody", "a%20b", "..%2F..", "x" * 300):
        body = assert_problem(
            client.get(f"/agencies/{issuer_id}/did.json"), 404, PROBLEMS + "not-found"
        )
        assert len(body.get("issuer", "")) <= 100


def test_no_did_web_when_the_public_url_is_an_ip_address(tmp_path: Path, clock: FixedClock) -> None:
    settings = _settings(tmp_path, public_url="http://127.0.0.1:8000")
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as c:
        agency = make_issuer(c)
        assert agency["didWeb"] is None
        response = c.get(f"/agencies/{agency['id']}/did.json")
        assert_problem(response, 404, PROBLEMS + "not-found")
        # its credentials keep verifying under the did:key
        vc = issue(c, agency).json()["verifiableCredential"]
        assert c.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200


# -- remote did:web over a real HTTP server -----------------------------------------------


def test_remote_did_web_resolves_over_http_and_is_cached(
    web_client: TestClient, host: Host
) -> None:
    did = host.did()
    for _ in range(2):
        response = web_client.get(dids_path(did))
        assert response.status_code == 200, response.text
        assert response.json()["didDocument"]["id"] == did
    assert host.requests == ["/.well-known/did.json"]


def test_credential_from_a_remote_did_web_issuer_verifies(
    web_client: TestClient, host: Host
) -> None:
    did = host.did()
    vc = add_proof(EddsaJcs2022(), credential_for(did), _proof_options(f"{did}#key-1"), REMOTE_KEY)
    response = web_client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 200, response.text
    # a key the document does not list fails the proof check, named
    other = Ed25519PrivateKey(b"\x08" * 32)
    forged = add_proof(EddsaJcs2022(), credential_for(did), _proof_options(f"{did}#key-1"), other)
    response = web_client.post("/credentials/verify", json={"verifiableCredential": forged})
    assert response.status_code == 422
    assert [p["check"] for p in response.json()["problemDetails"]] == ["proof"]


def test_unreachable_did_web_fails_the_proof_check_of_a_credential(
    web_client: TestClient, host: Host
) -> None:
    did = host.did("gone")
    vc = add_proof(EddsaJcs2022(), credential_for(did), _proof_options(f"{did}#key-1"), REMOTE_KEY)
    response = web_client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 422
    problems = response.json()["problemDetails"]
    assert [(p["check"], p["type"]) for p in problems] == [("proof", PROBLEMS + "not-found")]


REMOTE_FAILURES = {
    # path on the host: (status, problem type)
    "missing": (404, PROBLEMS + "not-found"),
    "gone": (404, PROBLEMS + "not-found"),
    "error": (503, PROBLEMS + "unavailable"),
    "slow": (503, PROBLEMS + "unavailable"),
    "drip": (503, PROBLEMS + "unavailable"),
    "big": (502, PROBLEMS + "did-resolution"),
    "big-unsized": (502, PROBLEMS + "did-resolution"),
    "gzip": (502, PROBLEMS + "did-resolution"),
    "redirect": (502, PROBLEMS + "did-resolution"),
    "forbidden": (502, PROBLEMS + "did-resolution"),
    "mismatch": (502, PROBLEMS + "invalid-did-document"),
    "notjson": (502, PROBLEMS + "invalid-did-document"),
}


@pytest.mark.parametrize("path", sorted(REMOTE_FAILURES))
def test_remote_failures_are_problems(web_client: TestClient, host: Host, path: str) -> None:
    status, type_uri = REMOTE_FAILURES[path]
    response = web_client.get(dids_path(host.did(path)))
    body = assert_problem(response, status, type_uri)  # "slow" answers 200 late: 503 is the timeout
    assert body["url"].endswith(f"://localhost:{host.port}/{path}/did.json")
    if status == 503:
        assert response.headers["retry-after"]
    # not cached: the host is asked again
    web_client.get(dids_path(host.did(path)))
    assert host.requests.count(f"/{path}/did.json") == 2


def test_size_limit_and_timeout_are_the_settings(web_client: TestClient, host: Host) -> None:
    big = assert_problem(
        web_client.get(dids_path(host.did("big-unsized"))), 502, PROBLEMS + "did-resolution"
    )
    assert big["limit"] == MAX_BYTES
    started = time.monotonic()
    web_client.get(dids_path(host.did("drip")))
    # the timeout bounds the whole fetch: a per-read one would wait out the 20 s drip
    # (a wide margin, so a loaded machine cannot fail it)
    assert TIMEOUT_S <= time.monotonic() - started < 10


def test_unreachable_host_is_503(web_client: TestClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # nothing listens there now
    assert_problem(
        web_client.get(dids_path(f"did:web:localhost%3A{port}")), 503, PROBLEMS + "unavailable"
    )


def test_https_is_the_default(client: TestClient, host: Host) -> None:
    """Without did_web_allow_http the resolver speaks TLS: the plain-HTTP host sees a
    TLS handshake, never a GET, and the resolution fails as unavailable."""
    assert_problem(client.get(dids_path(host.did())), 503, PROBLEMS + "unavailable")
    assert host.requests == []


@pytest.mark.parametrize(
    "did",
    [
        "did:web:127.0.0.1",
        "did:web:127.0.0.1%3A8443",
        "did:web:example.com:..",
        "did:web:example.com:a%2F..",
        "did:web:user%40example.com",
        "did:web:example.com%3A99999",
        "did:web:example.com::a",
    ],
)
def test_bad_did_web_is_400(client: TestClient, did: str) -> None:
    assert_problem(client.get(dids_path(did)), 400, PROBLEMS + "invalid-did")


def test_plain_http_is_refused_in_production(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="IDENTITY_DID_WEB_ALLOW_HTTP"):  # a ValidationError
        _settings(tmp_path, env="production", did_web_allow_http=True)


def test_fetcher_refuses_plain_http_unless_allowed() -> None:
    fetcher = Fetcher(timeout_s=1, max_bytes=1024)
    with pytest.raises(DidResolutionError, match="HTTPS only"):
        fetcher("http://example.com/.well-known/did.json")
