"""The LogStore contract suite run on ONE SHARD of a sharded log, per backend.

The assertions are tests/storage/test_redis_log_contract.py's and tests/log's
test_store_contract.py's (imported, not copied); the store under test is shard ``2027``'s
(through :class:`~identity.log.shards.GuardedStore`, as the sharded log uses it) while
shard ``2026`` of the same backend holds entries of its own beside it: a shard's keys,
tables or file are its own, so nothing of the neighbour may show through.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from identity.log.shards import GuardedStore
from identity.log.store import LogStore
from tests.log import test_store_contract as log_contract
from tests.log.shard_fixtures import BASE_ORIGIN, backend
from tests.storage import test_redis_log_contract as storage_contract

ORIGIN, KEY = storage_contract.ORIGIN, storage_contract.KEY
SHARD_BACKENDS = ["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis_server)]


def _shard_store(kind: str, tmp_path: Path) -> Iterator[tuple[LogStore, LogStore]]:
    with backend(kind, tmp_path) as made:
        stores = made.stores()
        neighbour = stores("2026")
        neighbour.open(BASE_ORIGIN + "/2026", b"n" * 32)
        neighbour.append_entries([b"neighbour-%d" % i for i in range(300)])
        store = GuardedStore(stores("2027"), "2027")
        yield store, neighbour
        assert neighbour.entry_count() == 300  # untouched by the shard beside it
        assert neighbour.read_entries(299, 300) == [b"neighbour-299"]
        store.close()
        neighbour.close()


@pytest.fixture(params=SHARD_BACKENDS)
def log_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LogStore]:
    for store, _ in _shard_store(request.param, tmp_path):
        store.open(ORIGIN, KEY)
        yield store


@pytest.fixture(params=SHARD_BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LogStore]:
    for made, _ in _shard_store(request.param, tmp_path):
        yield made


for _module in (storage_contract, log_contract):
    for _name in dir(_module):
        _test = getattr(_module, _name)
        if _name.startswith("test_") and callable(_test):
            params = _test.__code__.co_varnames[: _test.__code__.co_argcount]
            if "log_store" in params or "store" in params:
                globals()[f"{_name}_{_module.__name__.rsplit('.', 1)[1]}"] = _test
