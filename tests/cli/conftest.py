"""The CLI on a fresh data directory per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import Identity


@pytest.fixture
def identity(tmp_path: Path) -> Identity:
    (tmp_path / "data").mkdir()
    return Identity(tmp_path / "data", {})
