"""Shared fixtures of the log tests: the shared test vectors, keys, and both stores."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from identity.keys import Ed25519PrivateKey
from identity.log.checkpoint import NoteSigner
from identity.log.store import LogStore
from identity.storage.memory_log import MemoryLogStore
from identity.storage.sqlite_log import SQLiteLogStore

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = REPO_ROOT.parent / "shared" / "vectors"


def load_vectors(relative: str) -> Any:
    """Read a shared vector file in place (never copied into the repo).

    Skips with a reason when the shared folder is absent, unless ``CI=true``: then the
    absence is a failure, so CI can never silently skip the conformance tests."""
    path = VECTORS / relative
    if not path.is_file():
        reason = f"shared test vectors not found at {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return json.loads(path.read_text("utf-8"))


ORIGIN = "log.identity.example/test"


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner(ORIGIN, Ed25519PrivateKey(bytes(range(32))))


@pytest.fixture
def other_signer() -> NoteSigner:
    return NoteSigner(ORIGIN, Ed25519PrivateKey(bytes(32)))


def make_store(kind: str, tmp_path: Path) -> LogStore:
    if kind == "memory":
        return MemoryLogStore()
    return SQLiteLogStore(tmp_path / "log.sqlite3")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LogStore]:
    """Every LogStore implementation; store-contract tests run once per back end."""
    made = make_store(request.param, tmp_path)
    yield made
    made.close()
