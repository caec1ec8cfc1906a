"""The trust registry's caches answer as the store does (issue #15): issuer records and
credential types are never changed once written, so a cached read equals a fresh one;
absent ones are never cached (an agency or type created later is found)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from identity.clock import FixedClock
from identity.errors import NotFoundError
from identity.keys import Ed25519PrivateKey
from identity.registry.trust import TrustRegistry
from identity.registry.types import bundled_types
from identity.storage.memory import MemoryStore
from identity.stores import ApiKeyRecord, IssuerRecord

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _registry() -> tuple[MemoryStore, TrustRegistry]:
    store = MemoryStore()
    return store, TrustRegistry(store, store, FixedClock(NOW), schema_base_url="https://x.example")


def test_an_issuer_is_read_once_and_equals_the_stored_record() -> None:
    store, trust = _registry()
    with pytest.raises(NotFoundError):
        trust.issuer("bureau")  # not there yet: refused, and not remembered
    did = "did:key:" + Ed25519PrivateKey(b"\x01" * 32).public_key().multibase
    store.create_issuer(
        IssuerRecord("bureau", "Bureau", did, b"sealed", NOW),
        ApiKeyRecord("k1", b"\x00" * 32, "bureau", frozenset({"issue"}), NOW),
    )
    first = trust.issuer("bureau")
    assert first == store.get_issuer("bureau")
    reads = 0
    original = store.get_issuer

    def counting(issuer_id: str) -> IssuerRecord:
        nonlocal reads
        reads += 1
        return original(issuer_id)

    store.get_issuer = counting  # type: ignore[method-assign]
    assert trust.issuer("bureau") is first
    assert reads == 0


def test_a_type_registered_after_a_miss_is_found_and_its_schema_compiled_once() -> None:
    store, trust = _registry()
    permit = next(t for t in bundled_types() if t.name == "ResidencePermitCredential")
    assert trust.find_type(permit.name) is None
    store.create_type(permit)
    found = trust.find_type(permit.name)
    assert found == permit
    assert trust.find_type(permit.name) is found
