"""Shared fixtures: spec vectors read in place from ../shared/vectors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.openapi_recorder import pytest_configure, pytest_sessionfinish

__all__ = ["pytest_configure", "pytest_sessionfinish"]  # hooks: every answer is declared
pytest_plugins = ["tests.cluster.fixtures"]  # a real local Redis Cluster

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
VECTORS = SHARED / "vectors"


def vectors_dir() -> Path:
    """The published vectors; skip (or fail under CI=true) when ../shared is absent."""
    if VECTORS.is_dir():
        return VECTORS
    if os.environ.get("CI") == "true":
        pytest.fail(f"spec vectors missing at {VECTORS}: CI must have ../shared")
    pytest.skip(f"spec vectors not found at {VECTORS} (../shared is absent on this machine)")


def vector_json(relative: str) -> Any:
    return json.loads((vectors_dir() / relative).read_text(encoding="utf-8"))


def vector_text(relative: str) -> str:
    return (vectors_dir() / relative).read_text(encoding="utf-8")
