"""One router per resource."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from identity.errors import MalformedValueError


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI ``requestBody`` for endpoints that read the raw JSON themselves."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def check_envelope(model: type[BaseModel], body: Any) -> None:
    """Validate the envelope's shape; the caller keeps using the original JSON."""
    try:
        model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise MalformedValueError(f"{where}: {first.get('msg')}", field=where) from None


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, read as it streams, or ``None`` as soon as more than ``limit``
    bytes arrived: the rest is never read, so a huge body (chunked: no Content-Length to
    refuse it by) costs at most ``limit`` plus one chunk of memory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
