"""Fixtures of the cluster tests: a fresh key prefix per test."""

from __future__ import annotations

import pytest

from tests.storage.redis_backends import new_prefix


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix no other test uses."""
    return new_prefix()
