"""did:cityid: operations, replay, versions, and keys valid only in their period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from identity.canonical import jcs
from identity.clock import xsd_datetime
from identity.dids import PURPOSES
from identity.dids.cityid import (
    apply,
    create_operation,
    deactivate_operation,
    did_of,
    key_body,
    update_operation,
)
from identity.dids.cityid_resolver import CityDidResolver
from identity.directory_store import DidOperationRecord
from identity.errors import (
    ConflictError,
    InvalidDidError,
    InvalidVerificationMethodError,
    LogIntegrityError,
    MalformedValueError,
    NotFoundError,
    ProofVerificationError,
)
from identity.keys import Ed25519PrivateKey
from identity.storage.memory_directory import MemoryDirectoryStore

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def key(n: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey(bytes([n]) * 32)


class Ledger:
    """Applies operations the way the service does, one log index per operation."""

    def __init__(self) -> None:
        self.store = MemoryDirectoryStore()
        self.resolver = CityDidResolver(self.store)
        self.index = 0

    def submit(self, operation: dict, time: datetime) -> str:
        did = operation.get("did") or did_of(operation)
        states = self.store.did_operations(did)
        current = self.resolver.history(did)[-1] if states else None
        state = apply(current, operation, time, self.index)
        self.store.append_did_operation(
            DidOperationRecord(did, len(states), jcs(operation).decode(), time, self.index)
        )
        self.index += 1
        return state.did


def test_create_names_the_did_by_the_hash_of_the_unsigned_operation() -> None:
    op = create_operation(key(1))
    state = apply(None, op, T0, 0)
    assert state.did == did_of(op)
    assert state.did.startswith("did:cityid:")
    assert state.document["verificationMethod"][0]["controller"] == state.did
    assert all(state.document[p] == [state.did + "#key-1"] for p in PURPOSES)
    assert state.version == 1 and not state.deactivated


def test_a_nonce_gives_the_same_key_a_different_did() -> None:
    assert did_of(create_operation(key(1))) != did_of(create_operation(key(1), nonce="n2"))


def test_create_signed_by_a_key_not_in_the_document_is_refused() -> None:
    body = key_body(key(2).public_key())
    op = create_operation(key(2), body)
    op["document"]["verificationMethod"][0]["publicKeyMultibase"] = key(3).public_key().multibase
    with pytest.raises((InvalidVerificationMethodError, ProofVerificationError)):
        apply(None, op, T0, 0)


def test_a_tampered_operation_fails_its_signature() -> None:
    op = create_operation(key(1), nonce="a")
    op["nonce"] = "b"
    # the DID changes with the nonce, so the proof's method is no longer in the document
    with pytest.raises(InvalidVerificationMethodError):
        apply(None, op, T0, 0)


def test_an_update_changed_after_signing_fails_its_signature() -> None:
    ledger = Ledger()
    did = ledger.submit(create_operation(key(1)), T0)
    v1 = ledger.resolver.history(did)[-1]
    op = update_operation(key(1), did + "#key-1", v1, key_body(key(2).public_key()))
    op["document"]["verificationMethod"][0]["publicKeyMultibase"] = key(3).public_key().multibase
    with pytest.raises(ProofVerificationError):
        ledger.submit(op, T0 + timedelta(seconds=1))
    assert len(ledger.store.did_operations(did)) == 1


@pytest.mark.parametrize(
    "mutate",
    [
        lambda op: op.update(extra=1),
        lambda op: op.update(type="rotate"),
        lambda op: op["document"].update(keyAgreement=["#key-1"]),
        lambda op: op["document"].update(capabilityInvocation=[]),
        lambda op: op["document"].update(assertionMethod=["#nope"]),
        lambda op: op["document"]["verificationMethod"][0].update(type="JsonWebKey"),
        lambda op: op["document"]["verificationMethod"][0].update(id="key-1"),
        lambda op: op["document"].update(
            service=[{"id": "#s", "type": "x", "serviceEndpoint": "http://a"}]
        ),
        lambda op: op.update(proof=[op["proof"]]),
    ],
)
def test_malformed_operations_are_refused_with_a_clear_error(mutate) -> None:
    op = create_operation(key(1))
    mutate(op)
    with pytest.raises(MalformedValueError):
        apply(None, op, T0, 0)


def test_update_needs_the_current_key_and_a_rotated_out_key_cannot_update_again() -> None:
    ledger = Ledger()
    did = ledger.submit(create_operation(key(1)), T0)
    v1 = ledger.resolver.history(did)[-1]
    ledger.submit(
        update_operation(key(1), did + "#key-1", v1, key_body(key(2).public_key(), "#key-2")),
        T0 + timedelta(days=1),
    )
    v2 = ledger.resolver.history(did)[-1]
    assert v2.version == 2 and v2.document["verificationMethod"][0]["id"] == did + "#key-2"
    stale = update_operation(key(1), did + "#key-1", v2, key_body(key(3).public_key()))
    with pytest.raises(InvalidVerificationMethodError):
        ledger.submit(stale, T0 + timedelta(days=2))
    assert len(ledger.store.did_operations(did)) == 2


def test_an_update_built_on_an_old_version_is_a_conflict() -> None:
    ledger = Ledger()
    did = ledger.submit(create_operation(key(1)), T0)
    v1 = ledger.resolver.history(did)[-1]
    first = update_operation(key(1), did + "#key-1", v1, key_body(key(1).public_key(), "#k"))
    ledger.submit(first, T0 + timedelta(seconds=5))
    with pytest.raises(ConflictError):
        ledger.submit(first, T0 + timedelta(seconds=6))  # replayed
    second = update_operation(key(1), did + "#key-1", v1, key_body(key(9).public_key()))
    with pytest.raises(ConflictError):
        ledger.submit(second, T0 + timedelta(seconds=7))


def test_deactivated_did_accepts_nothing_and_verifies_nothing_new() -> None:
    ledger = Ledger()
    did = ledger.submit(create_operation(key(1)), T0)
    v1 = ledger.resolver.history(did)[-1]
    ledger.submit(deactivate_operation(key(1), did + "#key-1", v1), T0 + timedelta(hours=1))
    final = ledger.resolver.history(did)[-1]
    assert final.deactivated and "verificationMethod" not in final.document
    with pytest.raises(ConflictError):
        ledger.submit(deactivate_operation(key(1), did + "#key-1", v1), T0 + timedelta(hours=2))
    url = did + "#key-1"
    assert ledger.resolver.verification_method(url, T0 + timedelta(minutes=5)).id == url
    with pytest.raises(InvalidVerificationMethodError):
        ledger.resolver.verification_method(url, T0 + timedelta(hours=1))
    with pytest.raises(InvalidVerificationMethodError):
        ledger.resolver.verification_method(url)


def test_rotated_out_key_is_valid_for_its_period_only() -> None:
    ledger = Ledger()
    did = ledger.submit(create_operation(key(1)), T0)
    v1 = ledger.resolver.history(did)[-1]
    rotation = T0 + timedelta(days=10)
    ledger.submit(
        update_operation(key(1), did + "#key-1", v1, key_body(key(2).public_key(), "#key-2")),
        rotation,
    )
    old, new = did + "#key-1", did + "#key-2"
    assert ledger.resolver.verification_method(old, rotation - timedelta(seconds=1)).id == old
    for moment in (rotation, rotation + timedelta(days=1), None):
        with pytest.raises(InvalidVerificationMethodError):
            ledger.resolver.verification_method(old, moment)
    assert ledger.resolver.verification_method(new).id == new
    with pytest.raises(InvalidVerificationMethodError):
        ledger.resolver.verification_method(new, rotation - timedelta(seconds=1))
    # Before registration the first version's keys count (the controller held them).
    assert ledger.resolver.verification_method(old, T0 - timedelta(days=1)).id == old
    with pytest.raises(InvalidVerificationMethodError):
        ledger.resolver.verification_method(new, T0 - timedelta(days=1))


def test_resolution_as_of_a_version_or_a_time_with_metadata() -> None:
    ledger = Ledger()
    did = ledger.submit(create_operation(key(1)), T0)
    for n in range(2, 5):
        state = ledger.resolver.history(did)[-1]
        ledger.submit(
            update_operation(
                key(n - 1),
                f"{did}#k{n - 1}" if n > 2 else did + "#key-1",
                state,
                key_body(key(n).public_key(), f"#k{n}"),
            ),
            T0 + timedelta(days=n),
        )
    latest = ledger.resolver.resolve(did)
    assert latest.document_metadata["versionId"] == "4"
    assert latest.document_metadata["updated"] == xsd_datetime(T0 + timedelta(days=4))
    assert latest.document_metadata["logIndex"] == 3
    assert "nextVersionId" not in latest.document_metadata
    second = ledger.resolver.resolve(did, version_id="2")
    assert second.did_document["verificationMethod"][0]["id"] == did + "#k2"
    assert second.document_metadata["nextVersionId"] == "3"
    assert second.document_metadata["nextUpdate"] == xsd_datetime(T0 + timedelta(days=3))
    by_time = ledger.resolver.resolve(did, version_time=T0 + timedelta(days=3, hours=1))
    assert by_time.document_metadata["versionId"] == "3"
    with pytest.raises(NotFoundError):
        ledger.resolver.resolve(did, version_id="9")
    with pytest.raises(NotFoundError):
        ledger.resolver.resolve(did, version_time=T0 - timedelta(seconds=1))


def test_unknown_and_foreign_dids() -> None:
    resolver = CityDidResolver(MemoryDirectoryStore())
    with pytest.raises(NotFoundError):
        resolver.resolve("did:cityid:zNothing")
    with pytest.raises(InvalidDidError):
        resolver.resolve("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")


def test_replay_reverifies_stored_operations() -> None:
    ledger = Ledger()
    op = create_operation(key(1))
    did = did_of(op)
    op["document"]["verificationMethod"][0]["publicKeyMultibase"] = key(5).public_key().multibase
    ledger.store.append_did_operation(DidOperationRecord(did, 0, jcs(op).decode(), T0, 0))
    with pytest.raises(LogIntegrityError):
        ledger.resolver.resolve(did)
