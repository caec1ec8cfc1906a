"""The batch verification envelope: ``POST /credentials/verify/batch``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, RootModel


class BatchVerifyRequest(RootModel[list[Any]]):
    """A JSON array of VC-API verify requests (``{verifiableCredential, options}``),
    judged one by one; at most 1,000 of them (more: 413). An item that is not a verify
    request is not a reason to refuse the batch: it is answered in its own result (422),
    so the schema leaves items open."""


class BatchItemResult(BaseModel):
    """One item's answer: the body ``POST /credentials/verify`` would have sent for it,
    with the status it would have sent in ``status``. A verified item has the VC-API
    ``verified: true`` shape; any other is its RFC 9457 problem document."""

    status: int
    verified: bool
    checks: list[str] = Field(default_factory=list)
    results: dict[str, Any] = Field(default_factory=dict)
    problemDetails: list[dict[str, Any]] = Field(default_factory=list)
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    type: str | None = None
    title: str | None = None
    detail: str | None = None


class BatchVerifyResponse(BaseModel):
    """Per-item results in request order, and how many verified."""

    results: list[BatchItemResult]
    count: int
    verifiedCount: int
