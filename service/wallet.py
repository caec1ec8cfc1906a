"""The city-hosted wallet (issue #14): credentials issued to a citizen, kept sealed.

:class:`Wallet` is built by :func:`build_wallet` beside the service's main store (the same
SQLite file, Redis client and prefix, or memory) and attached to ``Services.wallet``. The
issue flow calls :meth:`Wallet.keep` once the credential's record committed; the wallet
routes (``GET /wallet/credentials``, ``GET /wallet/credentials/{id}/qr``) read through
:meth:`Wallet.credential`, for the signed-in citizen's DID only.

Why not in the record's own transaction: records are written by the group commit of
``identity.stores.CredentialStore.put_credentials`` (one transaction for many issuances,
on three backends) whose signature carries records and log anchors only; the wallet value
is written right after it. A failure there leaves an issued, anchored credential that the
wallet does not hold: it is logged (``wallet.keep_failed``), the issuance still answers
201 with the credential (the agency hands it to the citizen as before), and the wallet
lists the record without a QR code. A read checks the opened bytes against the record's
digest, so the wallet never shows a credential other than the one recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from typing import Any

from identity.canonical import jcs, parse_json
from identity.clock import Clock
from identity.credentials.issuer import SignedCredential
from identity.errors import ConflictError, IdentityError, UnavailableError
from identity.groupcommit import GroupCommit
from identity.jose.envelope import parse_envelope
from identity.storage.memory import MemoryStore
from identity.storage.memory_wallet import MemoryWalletStore
from identity.storage.redis import RedisStore
from identity.storage.redis_wallet import RedisWalletStore, beside
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_wallet import SqliteWalletStore
from identity.stores import CredentialRecord, Store
from identity.wallet_store import WalletEntry, WalletSealer, WalletStore
from service.settings import Settings

events = logging.getLogger("identity.events")


@dataclass
class Wallet:
    """Keeps and opens citizens' credentials; the store only ever sees sealed bytes."""

    store: WalletStore
    sealer: WalletSealer
    clock: Clock
    max_batch: int = 512
    """At most this many entries in one write (:class:`~identity.groupcommit.GroupCommit`)."""
    _writer: GroupCommit[WalletEntry, None] | None = field(default=None, init=False, repr=False)

    async def keep(self, record: CredentialRecord, signed: SignedCredential) -> bool:
        """Keep the ``signed`` credential of the committed ``record`` for its subject
        (nothing without a subject id). False, logged, when the store refused it.

        What is sealed is the JCS of what the agency handed out: the bytes the issuer
        already made for the digest (Data Integrity), serialized here only when it made
        none (an envelope, whose digest is of its token). Concurrent issuances' entries
        are written together, one transaction a batch, in a worker thread
        (:meth:`WalletStore.keep_many`): the event loop never waits on the disk or the
        network for them, and it returns once this entry is durable."""
        if record.subject_id is None:
            return False
        plain = signed.serialized or jcs(signed.json)
        sealed = self.sealer.seal(record.subject_id, record.id, plain)
        entry = WalletEntry(record.id, record.subject_id, sealed, self.clock.now())
        try:
            await self._batches().submit(entry)
        except (UnavailableError, ConflictError) as exc:
            events.warning(
                "the wallet did not keep an issued credential",
                extra={"fields": {"event": "wallet.keep_failed", "error": type(exc).__name__}},
            )
            return False
        return True

    def credential(self, subject_id: str, record: CredentialRecord) -> dict[str, Any] | None:
        """The credential of ``record`` kept for ``subject_id``, or None (not kept, another
        subject's, or bytes that are not the recorded credential)."""
        entry = self.store.find(subject_id, record.id)
        if entry is None:
            return None
        try:
            plain = self.sealer.open(subject_id, record.id, entry.sealed)
        except ValueError:
            events.error(
                "a wallet entry does not open with this master secret",
                extra={"fields": {"event": "wallet.unreadable"}},
            )
            return None
        value: dict[str, Any] = parse_json(plain)
        return value if _is_recorded(plain, value, record.digest) else None

    def held(self, subject_id: str) -> set[str]:
        """The ids of the credentials kept for ``subject_id``."""
        return {e.credential_id for e in self.store.of_subject(subject_id)}

    def _batches(self) -> GroupCommit[WalletEntry, None]:
        if self._writer is None:
            self._writer = GroupCommit(self.store.keep_many, max_batch=self.max_batch)
        return self._writer

    async def stop(self) -> None:
        """Stop the batch writer (entries not yet written are refused to their callers)."""
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    def close(self) -> None:
        """Close the wallet's store."""
        self.store.close()


def _is_recorded(plain: bytes, value: Any, digest: bytes) -> bool:
    """Whether ``plain`` (parsed: ``value``) is the credential whose record digest is
    ``digest``: the SHA-256 of its JCS (Data Integrity) or, for an enveloped credential
    (VC-JOSE-COSE), of its token -- the bytes the issuer handed out."""
    if hashlib.sha256(plain).digest() == digest:
        return True
    if not isinstance(value, dict) or value.get("type") != "EnvelopedVerifiableCredential":
        return False
    try:
        token = parse_envelope(value, "vc").token_bytes
    except IdentityError:
        return False
    return hmac.compare_digest(hashlib.sha256(token).digest(), digest)


def wallet_store_beside(store: Store, settings: Settings) -> WalletStore:
    """The wallet store in the same database as ``store``."""
    if isinstance(store, SqliteStore):
        return SqliteWalletStore(store.path, synchronous=store.synchronous)
    if isinstance(store, RedisStore):
        return beside(store)
    if isinstance(store, MemoryStore):
        return MemoryWalletStore()
    url = settings.resolved_storage_url  # a store of another kind: follow the settings
    if url.startswith(("redis://", "rediss://")):
        return RedisWalletStore.from_url(
            url, settings.redis_prefix, socket_timeout=settings.redis_timeout_s
        )
    return MemoryWalletStore()


def build_wallet(settings: Settings, store: Store, master_secret: bytes, clock: Clock) -> Wallet:
    """The service's wallet, beside ``store``, sealing under ``master_secret``."""
    return Wallet(wallet_store_beside(store, settings), WalletSealer(master_secret), clock)
