"""The OID4VCI form endpoints (Token, PAR, the sign-in of an Authorization Request) and the
OpenID4VP ones (the Response Endpoint, a request object fetched by POST) read a body only
up to their limit: a huge one -- chunked, so no Content-Length warns -- is
refused after at most the limit is read (never buffered whole), as an OAuth
``invalid_request`` with nothing stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from service.container import read_capped
from tests.service.test_oid4vci_api import records

CHUNK = b"a" * 65_536
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def streamed(chunks: int) -> tuple[Request, list[int]]:
    """A request whose body is ``chunks`` ASGI messages of 64 KiB, and the count of those
    the app pulled."""
    pulled = [0]

    async def receive() -> dict[str, Any]:
        pulled[0] += 1
        more = pulled[0] < chunks
        return {"type": "http.request", "body": CHUNK, "more_body": more}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    return Request(scope, receive), pulled


def test_a_body_over_the_limit_is_not_read_further() -> None:
    asyncio.run(_read_capped())


async def _read_capped() -> None:
    request, pulled = streamed(10_000)  # 655 MB, were it read
    assert await read_capped(request, 100_000) is None
    assert pulled[0] == 2  # 128 KiB read: over the limit, then it stops
    request, pulled = streamed(3)
    assert await read_capped(request, 3 * len(CHUNK)) == CHUNK * 3  # at the limit: whole
    assert pulled[0] == 3


def huge() -> Iterator[bytes]:
    yield b"grant_type=authorization_code&code="
    for _ in range(64):  # 4 MiB
        yield CHUNK


LIMITS = {
    "/oid4vci/token": "exceeds 8192 bytes",
    "/oid4vci/par": "at most 8192 bytes",
    "/oid4vci/authorize/x": "exceeds 131072 bytes",  # its problem carries the OAuth code
    "/oid4vp/responses/x": "too large",
    "/oid4vp/requests/x/request.jwt": "too large",
}


@pytest.mark.parametrize("path", LIMITS)
def test_a_huge_form_is_an_invalid_request(client: TestClient, path: str) -> None:
    before = records(client)
    response = client.post(path, content=huge(), headers=FORM)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == ("invalid_request_uri" if "request.jwt" in path else "invalid_request")
    assert LIMITS[path] in body.get("error_description", body.get("detail"))
    assert records(client) == before
