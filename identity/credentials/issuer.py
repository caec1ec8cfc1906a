"""Issuance: validate -> (status entry) -> sign -> record and anchor, in one write.

:func:`sign_credential` is the pure part (well-formedness, issuer binding, Add Proof).
:class:`Issuer` runs the whole flow against the stores and the log it is given; it does
no I/O of its own.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from identity.canonical import jcs
from identity.clock import Clock, xsd_datetime
from identity.credentials.model import V2_CONTEXT, Credential, parse_credential
from identity.credentials.related import RelatedResourceSource, check_related_resources
from identity.errors import ConflictError, MalformedValueError, PermissionDeniedError
from identity.keys import Ed25519PrivateKey
from identity.log import hashing
from identity.log.shards import shard_origin
from identity.proofs import Cryptosuite, add_proof_to
from identity.proofs.vc11 import with_data_integrity_context
from identity.stores import Anchor, CredentialRecord, CredentialStore, IssuerRecord

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SignedCredential:
    """A credential just signed by :func:`sign_credential`: the secured JSON, its parsed model,
    and the digest the issuance record and log anchor name it by."""

    json: Json
    credential: Credential
    digest: bytes
    """SHA-256 of the JCS of the signed credential: what the log and records refer to."""
    serialized: bytes = b""
    """The JCS of ``json`` when it was made on the way (Data Integrity: the digest's
    preimage), so nothing serializes the credential twice; empty when not made."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """Where the issuance act sits in the log (filled once anchored)."""

    origin: str
    index: int
    leaf_hash: bytes


AnchorOf = Callable[[SignedCredential, IssuerRecord, datetime], Anchor]
"""The issuance act's log entry, to be admitted with the credential's record."""
RecordWriter = Callable[[CredentialRecord, Anchor | None], Awaitable[None]]
"""Stores a record and admits its anchor in one transaction (group-committed or not)."""


def credential_digest(document: Json) -> bytes:
    """SHA-256 of the JCS (RFC 8785) of ``document``: 32 bytes, the same whatever member order or
    whitespace the document arrived with."""
    return hashlib.sha256(jcs(document)).digest()


def bind_issuer(document: Any, issuer_did: str) -> Json:
    """A checked copy of ``document`` whose issuer is ``issuer_did``.

    ``issuer`` is required (VC DM 2.0 §4.7; the VC-API issuer suite expects a 4xx without
    it); one that is not the authenticated agency's DID is refused (403).
    """
    if not isinstance(document, dict):
        raise MalformedValueError("credential must be a JSON object", field="credential")
    bound: Json = copy.deepcopy(document)
    credential = parse_credential(bound)
    if credential.issuer != issuer_did:
        raise PermissionDeniedError(
            "credential issuer is not the DID of the authenticated agency",
            issuer=credential.issuer,
        )
    return bound


@dataclass(frozen=True, slots=True)
class StatusAssignment:
    """Where a new credential's status bits live, and the entries to embed (§2.1)."""

    group: str
    index: int
    entries: tuple[Json, ...]


def sign_credential(
    document: Any,
    *,
    issuer_did: str,
    verification_method: str,
    key: Ed25519PrivateKey,
    suite: Cryptosuite,
    created: datetime,
) -> SignedCredential:
    """Check the credential, bind it to ``issuer_did`` and add a Data Integrity proof.

    A missing or different ``issuer`` is refused (see :func:`bind_issuer`). A
    credential that already carries proofs gets one more (a proof set, VC-DI §2.1.2).
    """
    document = bind_issuer(document, issuer_did)
    return sign_bound(
        document,
        parse_credential(document),
        verification_method=verification_method,
        key=key,
        suite=suite,
        created=created,
    )


def sign_bound(
    document: Json,
    parsed: Credential,
    *,
    verification_method: str,
    key: Ed25519PrivateKey,
    suite: Cryptosuite,
    created: datetime,
) -> SignedCredential:
    """Add a Data Integrity proof to ``document`` itself -- already bound to its issuer (a
    copy of the caller's, see :func:`bind_issuer`, given up to this call) and parsed as
    ``parsed``.

    The signed credential's view is ``parsed`` over the signed JSON: Add Proof only adds
    ``proof`` (an object or a proof set), which changes none of the parsed fields, so the
    document is not parsed again (tests/core/test_issuer_fast.py proves the two equal).
    """
    options: Json = {
        "type": suite.proof_type,
        "created": xsd_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    if suite.cryptosuite is not None:
        options = {"type": suite.proof_type, "cryptosuite": suite.cryptosuite, **options}
    signed = add_proof_to(suite, document, options, key)
    serialized = jcs(signed)
    digest = hashlib.sha256(serialized).digest()
    return SignedCredential(signed, replace(parsed, json=signed), digest, serialized)


class Issuer:
    """The issue flow of DESIGN.md, over the stores and anchor it is given."""

    def __init__(
        self,
        credentials: CredentialStore,
        clock: Clock,
        anchor: AnchorOf | None = None,
        write_record: RecordWriter | None = None,
        log_origin: str = "",
        contexts: RelatedResourceSource | None = None,
    ):
        """``contexts`` (the service's ContextLoader) checks ``relatedResource`` digests
        of the contexts it serves (VC DM 2.0 §5.3); without it they are not checked."""
        self.credentials = credentials
        self.clock = clock
        self.anchor = anchor
        self.write_record = write_record or self._write_now
        self.log_origin = log_origin
        self.contexts = contexts

    async def _write_now(self, record: CredentialRecord, anchor: Anchor | None) -> None:
        self.credentials.put_credential(record, anchor)

    async def issue(
        self,
        document: Any,
        *,
        issuer: IssuerRecord,
        key: Ed25519PrivateKey,
        verification_method: str,
        suite: Cryptosuite,
        assign_status: Callable[[bool], Awaitable[StatusAssignment]] | None = None,
        policy: Callable[[Json], tuple[Json, bool]] | None = None,
        secure: Callable[[Json], SignedCredential] | None = None,
    ) -> tuple[SignedCredential, Receipt | None, CredentialRecord]:
        """Validate, apply the trust ``policy``, add ``credentialStatus``, sign, anchor, record.

        Everything that can refuse the request runs before anything is written.
        ``secure`` replaces the Data Integrity proof with another securing mechanism (a
        VC-JOSE-COSE envelope): it gets the prepared unsecured credential and returns
        what is handed out, with the digest of exactly those bytes.
        """
        now = self.clock.now()
        document = bind_issuer(document, issuer.did)
        if self.contexts is not None:
            check_related_resources(document, self.contexts)
        given_id = document.get("id")
        if isinstance(given_id, str) and self.credentials.find_credential(given_id) is not None:
            raise ConflictError("a credential with this id was already issued", id=given_id)
        # A credential that already carries a proof is only co-signed: changing it (even
        # by adding a status entry) would break the proofs it has.
        fresh = "proof" not in document
        suspendable = True
        if fresh:
            document = with_data_integrity_context(document)
        if policy is not None and fresh:
            document, suspendable = policy(document)
        # The VC 1.1 context does not define the Bitstring Status List terms (they live in
        # the v2 context), so 1.1 credentials are issued without a status entry.
        v2 = document.get("@context", [None])[0] == V2_CONTEXT
        status = await assign_status(suspendable) if assign_status and fresh and v2 else None
        if status is not None:
            existing = document.get("credentialStatus")
            before = (
                [] if existing is None else existing if isinstance(existing, list) else [existing]
            )
            merged = [*before, *status.entries]
            document["credentialStatus"] = merged[0] if len(merged) == 1 else merged
        # ``document`` is the bound copy, decorated: parsed once more (the decorations
        # change validUntil and add members), never bound or copied again. ``secure``
        # (a VC-JOSE-COSE envelope) replaces the Data Integrity proof.
        signed = (
            secure(document)
            if secure is not None
            else sign_bound(
                document,
                parse_credential(document),
                verification_method=verification_method,
                key=key,
                suite=suite,
                created=now,
            )
        )
        # The record and its log entry are committed together (issue #12): a refused
        # record (a racing duplicate id) leaves no entry, a stored one has exactly one.
        anchor = self.anchor(signed, issuer, now) if self.anchor else None
        record = CredentialRecord(
            id=signed.credential.id or f"urn:uuid:{uuid.uuid4()}",
            digest=signed.digest,
            issuer_id=issuer.id,
            issuer_did=issuer.did,
            type=signed.credential.credential_type,
            subject_id=signed.credential.subject_ids[0] if signed.credential.subject_ids else None,
            issued_at=now,
            status_index=status.index if status else None,
            status_group=status.group if status else None,
        )
        await self.write_record(record, anchor)
        if anchor is None or anchor.index is None:
            return signed, None, record
        origin = self.log_origin
        if anchor.shard is not None:  # the act went into a log shard (docs/log-shards.md)
            origin = shard_origin(origin, anchor.shard)
        receipt = Receipt(origin, anchor.index, hashing.leaf_hash(anchor.entry))
        return signed, receipt, replace(record, log_index=anchor.index)
