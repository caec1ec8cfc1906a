"""One store fixture parametrised over every backend (the contract suite runs on each)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from identity.storage.memory import MemoryStore
from identity.storage.sqlite import SqliteStore
from identity.stores import Store

BACKENDS = ["memory", "sqlite"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend: Store
    if request.param == "memory":
        backend = MemoryStore()
    else:
        backend = SqliteStore(tmp_path / "store.sqlite3")
    yield backend
    backend.close()
