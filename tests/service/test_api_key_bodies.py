"""``POST /issuers/{id}/keys`` reads its optional body however it is framed: a chunked
body (no Content-Length) asking for narrower scopes gets them -- it was ignored, and a
key of every scope made -- and a chunked body that is too large, not JSON or not declared
as JSON is a problem with no key made."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.errors import PROBLEMS, VC_DM
from tests.service.conftest import admin, make_issuer, services_of
from tests.service.test_bad_input import assert_problem


def chunked(*parts: bytes) -> Iterator[bytes]:
    """A body sent with ``Transfer-Encoding: chunked`` (no Content-Length)."""
    yield from parts


def keys_stored(client: TestClient) -> int:
    path = services_of(client).store.path  # type: ignore[attr-defined]
    with sqlite3.connect(path) as db:
        count: int = db.execute("SELECT count(*) FROM api_keys").fetchone()[0]
    return count


def test_a_chunked_body_is_read(client: TestClient) -> None:
    agency = make_issuer(client, accredit=False)
    json_body = admin() | {"Content-Type": "application/json"}
    made = client.post(f"/issuers/{agency['id']}/keys", headers=json_body,
                       content=chunked(b'{"scopes": ', b'["read"]}'))  # fmt: skip
    assert made.status_code == 201, made.text
    record = services_of(client).store.find_api_key(made.json()["keyId"])
    assert record is not None and record.scopes == frozenset({"read"})
    empty = client.post(f"/issuers/{agency['id']}/keys", headers=admin())
    assert empty.status_code == 201  # no body at all: every scope, as before
    record = services_of(client).store.find_api_key(empty.json()["keyId"])
    assert record is not None and len(record.scopes) == 5


BAD: dict[str, tuple[str, list[bytes], int, str]] = {
    "too large": ("application/json", [b'{"scopes": ["', b"a" * 70_000, b'"]}'], 413,
                  PROBLEMS + "payload-too-large"),
    "not JSON": ("application/json", [b'{"scopes": [', b"read"], 400, VC_DM + "PARSING_ERROR"),
    "a form": ("application/x-www-form-urlencoded", [b"scopes=read"], 415,
               PROBLEMS + "unsupported-media-type"),
    "a duplicate member": ("application/json", [b'{"scopes": ["read"], "scopes": ["issue"]}'],
                           400, VC_DM + "PARSING_ERROR"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD)
def test_a_bad_chunked_body_is_a_problem_and_makes_no_key(client: TestClient, case: str) -> None:
    media, parts, status, type_uri = BAD[case]
    agency = make_issuer(client, accredit=False)
    before = keys_stored(client)
    headers = admin() | {"Content-Type": media}
    response: Any = client.post(
        f"/issuers/{agency['id']}/keys", headers=headers, content=chunked(*parts)
    )
    assert_problem(response, status, type_uri)
    assert keys_stored(client) == before
