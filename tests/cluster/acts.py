"""The credential.issued act the cluster tests write: record ``n`` and its log entry."""

from __future__ import annotations

from datetime import UTC, datetime

from identity.log.entries import LogEntry
from identity.stores import Anchor, CredentialRecord


def issued_act(n: int, subject_id: str | None) -> tuple[CredentialRecord, Anchor]:
    """Credential ``urn:uuid:<n>`` (digest ``n`` big-endian) issued to ``subject_id`` on
    2026-06-01, with the ``credential.issued`` entry that anchors it."""
    digest = n.to_bytes(32, "big")
    record = CredentialRecord(
        id=f"urn:uuid:{n:032x}",
        digest=digest,
        issuer_id="i",
        issuer_did="did:example:i",
        type="ResidencePermitCredential",
        subject_id=subject_id,
        issued_at=datetime(2026, 6, 1, tzinfo=UTC),
    )
    fields = {
        "credential_digest": "sha256:" + digest.hex(),
        "issuer": "did:example:i",
        "credential_id": record.id,
    }
    entry = LogEntry("credential.issued", datetime(2026, 6, 1, tzinfo=UTC), fields)
    return record, Anchor(entry.to_bytes())
