"""The read-only log router on a tiny app, plus the HTTP auditor against it."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from identity.errors import IdentityError, InputError, LogIntegrityError, NotFoundError
from identity.log import proofs
from identity.log.checkpoint import NoteSigner, open_checkpoint
from identity.log.hashing import leaf_hash
from identity.log.reader import LogReader
from identity.log.sequencer import TransparencyLog
from identity.storage.sqlite_log import SQLiteLogStore
from service.audit import audit
from service.routers.log import IMMUTABLE, log_router

SIZE = 600


@pytest.fixture
def reader(tmp_path: Path, signer: NoteSigner) -> Iterator[LogReader]:
    store = SQLiteLogStore(tmp_path / "log.sqlite3")

    async def run() -> None:
        log = TransparencyLog(store, signer, max_delay_ms=0)
        await log.start()
        await asyncio.gather(*(log.append(b"entry %d" % i) for i in range(SIZE)))
        await log.stop()

    asyncio.run(run())
    yield LogReader(store, signer.verifier)
    store.close()


@pytest.fixture
def client(reader: LogReader) -> TestClient:
    app = FastAPI()
    app.include_router(log_router(lambda: reader))

    @app.exception_handler(IdentityError)
    def problem(request: Request, exc: IdentityError) -> JSONResponse:
        status = (
            404 if isinstance(exc, NotFoundError) else 400 if isinstance(exc, InputError) else 500
        )
        return JSONResponse({"type": exc.type_uri, "detail": exc.detail}, status_code=status)

    return TestClient(app)


def test_checkpoint(client: TestClient, signer: NoteSigner) -> None:
    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "immutable" not in response.headers["cache-control"]
    assert open_checkpoint(response.content, signer.verifier).checkpoint.size == SIZE


def test_entry_and_inclusion_by_index_and_hash(client: TestClient, reader: LogReader) -> None:
    entry = client.get("/log/entries/42").json()
    assert base64.b64decode(entry["entry"]) == b"entry 42"
    root = reader.checkpoint().checkpoint.root
    for query in (f"index=42&tree_size={SIZE}", f"leaf_hash={leaf_hash(b'entry 42').hex()}"):
        body = client.get(f"/log/proofs/inclusion?{query}").json()
        assert body["leaf_index"] == 42 and body["root"] == root.hex()
        path = [bytes.fromhex(h) for h in body["path"]]
        assert proofs.verify_inclusion(42, SIZE, leaf_hash(b"entry 42"), path, root) == root
    small = client.get("/log/proofs/inclusion?index=3&tree_size=5").json()
    assert small["tree_size"] == 5 and small["root"] == reader.root(5).hex()


def test_consistency(client: TestClient) -> None:
    body = client.get("/log/proofs/consistency?first=100&second=600").json()
    r1, r2 = bytes.fromhex(body["first_root"]), bytes.fromhex(body["second_root"])
    path = [bytes.fromhex(h) for h in body["path"]]
    assert proofs.verify_consistency(100, 600, r1, r2, path) == r2
    assert client.get("/log/proofs/consistency?first=600&second=600").json()["path"] == []


def test_tiles_and_cache_headers(client: TestClient, reader: LogReader) -> None:
    full = client.get("/log/tile/0/001")
    assert full.status_code == 200 and len(full.content) == 256 * 32
    assert full.headers["cache-control"] == IMMUTABLE
    partial = client.get("/log/tile/0/002.p/88")
    assert len(partial.content) == 88 * 32
    assert "immutable" not in partial.headers["cache-control"]
    bundle = client.get("/log/tile/entries/000").content
    assert bundle[:9] == b"\x00\x07entry 0"
    assert client.get("/log/tile/1/000.p/2").content == reader.store.read_hash_tile(8, 0)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/log/entries/600", 404),
        ("/log/entries/-1", 400),
        ("/log/entries/abc", 400),
        ("/log/proofs/inclusion?index=600", 400),
        ("/log/proofs/inclusion?index=1&tree_size=601", 400),
        ("/log/proofs/inclusion?index=1&leaf_hash=" + "00" * 32, 400),
        ("/log/proofs/inclusion?leaf_hash=zz", 400),
        ("/log/proofs/inclusion?leaf_hash=" + "ab" * 31, 400),
        ("/log/proofs/inclusion?leaf_hash=" + "00" * 32, 404),
        ("/log/proofs/consistency?first=10&second=5", 400),
        ("/log/proofs/consistency?first=0&second=5", 400),
        ("/log/proofs/consistency?first=1&second=601", 400),
        ("/log/tile/0/003", 404),
        ("/log/tile/0/002", 404),
        ("/log/tile/0/002.p/89", 404),
        ("/log/tile/1/000", 404),
        ("/log/tile/entries/003", 404),
        ("/log/tile/0/2", 400),
        ("/log/tile/0/000.p/256", 400),
        ("/log/tile/0/x000/001", 400),
        ("/log/tile/0/000.p/0", 400),
    ],
)
def test_bad_inputs_are_4xx(client: TestClient, url: str, status: int) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_http_audit_end_to_end(client: TestClient, signer: NoteSigner, tmp_path: Path) -> None:
    state = tmp_path / "audit-state.json"
    report = audit("http://testserver", state, signer.verifier.vkey, client=client)
    assert report.entries_checked == SIZE and report.tiles_checked == 4
    assert state.exists()
    again = audit("http://testserver", state, signer.verifier.vkey, client=client)
    assert again.state == report.state
    state.write_text(state.read_text().replace("600", "601"))
    with pytest.raises(LogIntegrityError):
        audit("http://testserver", state, signer.verifier.vkey, client=client)


def test_batched_proofs_and_entries_equal_the_one_at_a_time_answers(reader: LogReader) -> None:
    indices = [0, 5, 5, 17, 255, 256, 511, SIZE - 1]
    for size in (SIZE, 300, 1):
        wanted = [i for i in indices if i < size]
        batched = reader.inclusion_proofs(wanted, size)
        assert batched == [reader.inclusion_proof(i, size) for i in wanted]
    assert reader.entries(indices) == [reader.entry(i) for i in indices]
    sparse = [0, SIZE - 1]
    assert reader.entries(sparse) == [b"entry 0", b"entry %d" % (SIZE - 1)]
    assert reader.entries([]) == [] and reader.inclusion_proofs([], SIZE) == []
    with pytest.raises(InputError):
        reader.inclusion_proofs([SIZE], SIZE)
    with pytest.raises(NotFoundError):
        reader.entries([SIZE])
