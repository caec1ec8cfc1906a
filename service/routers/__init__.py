"""One router per resource."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

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
