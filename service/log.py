"""The service's transparency log: its key, its store, and what gets anchored.

The log's Ed25519 key is derived from the operator's master secret (BLAKE2b, personal
"log-signing-key", salted with the origin), so every replica signs as the same log with
nothing extra to distribute, and a store written under another secret or origin is
refused at start-up (the store records both).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from identity.credentials.issuer import Receipt, SignedCredential
from identity.errors import LogProofError, UnavailableError
from identity.keys import Ed25519PrivateKey
from identity.log import hashing
from identity.log.checkpoint import NoteSigner
from identity.log.entries import LogEntry
from identity.log.proofs import verify_inclusion
from identity.log.reader import LogReader
from identity.log.sequencer import TransparencyLog
from identity.log.store import LogStore
from identity.registry.types import CredentialType
from identity.storage.memory_log import MemoryLogStore
from identity.storage.redis_cluster import CLUSTER_SCHEMES
from identity.storage.redis_durable_log import DurableRedisLogStore
from identity.storage.redis_log import RedisLogStore
from identity.storage.sqlite_log import SQLiteLogStore
from identity.stores import Anchor, CredentialStore, IssuerRecord
from service.settings import Settings
from service.storage import REDIS_SCHEMES, redis_options, sqlite_path

if TYPE_CHECKING:  # service.shard_anchoring imports this module (log_key)
    from service.shard_anchoring import ShardAnchoring, ShardView


def log_key(master_secret: bytes, origin: str) -> Ed25519PrivateKey:
    """The log's checkpoint-signing key, derived from the master secret and the origin
    (BLAKE2b, personal ``log-signing-key``): another origin is another key, and the key
    itself is never stored."""
    seed = hashlib.blake2b(
        master_secret,
        digest_size=32,
        person=b"log-signing-key",
        salt=hashlib.sha256(origin.encode()).digest()[:16],
    ).digest()
    return Ed25519PrivateKey(seed)


def open_log_store(settings: Settings) -> LogStore:
    """The log's store beside the records: the records' SQLite file (so an act and its
    entry share one transaction), Redis (with ``WAIT`` for replicas on a cluster or when
    ``IDENTITY_REDIS_MIN_REPLICAS`` is set), else memory."""
    url = settings.resolved_storage_url
    if url.startswith("sqlite:///"):
        # The records' own file: acts admit their entries in their own transaction.
        path = sqlite_path(url, data_dir=settings.data_dir)
        return SQLiteLogStore(path, synchronous=settings.sqlite_synchronous)
    if url.startswith(REDIS_SCHEMES):
        if url.startswith(CLUSTER_SCHEMES) or settings.redis_min_replicas:
            return DurableRedisLogStore.open_url(
                url, settings.redis_prefix, **redis_options(settings)
            )
        return RedisLogStore.from_url(
            url, settings.redis_prefix, socket_timeout=settings.redis_timeout_s
        )
    return MemoryLogStore()


def build_log(
    settings: Settings, master_secret: bytes, store: LogStore | None = None
) -> TransparencyLog:
    """The sequencer over ``store`` (or :func:`open_log_store`), signing checkpoints for
    ``IDENTITY_LOG_ORIGIN`` with its batch size, delay and stall-lag settings."""
    signer = NoteSigner(settings.log_origin, log_key(master_secret, settings.log_origin))
    return TransparencyLog(
        store or open_log_store(settings),
        signer,
        max_batch=settings.log_batch_size,
        max_delay_ms=settings.log_batch_ms,
        max_lag_s=settings.log_max_lag_s,
    )


def digest_field(digest: bytes) -> str:
    """A digest as a log entry field: ``sha256:<hex>``."""
    return "sha256:" + digest.hex()


def type_anchor(credential_type: CredentialType, time: datetime) -> Anchor:
    """The ``type.registered`` entry of a credential type (also for the bundled ones the
    service seeds at start, before the log runs)."""
    fields = {
        "type": credential_type.name,
        "definition_digest": digest_field(credential_type.digest),
    }
    return Anchor(LogEntry("type.registered", time.replace(microsecond=0), fields).to_bytes())


@dataclass
class Anchors:
    """Makes the log entries of the service's acts and answers for credentials it anchored.

    An act's entry is an :class:`~identity.stores.Anchor` handed to the store write that
    performs the act, so the record and the entry commit together (issue #12);
    :meth:`receipt` turns the committed anchor into the act's receipt and wakes the
    integrator.
    """

    log: TransparencyLog
    cache_bytes: int = 16 << 20
    """The byte budget of the leaves and inclusion paths remembered for ``results.anchor``
    (issue #15: a worker's memory stays bounded however many credentials it checks)."""
    observer: Callable[[str], None] | None = None
    """Told the kind of each act once its entry is sequenced (the service's metrics)."""
    shards: ShardAnchoring | None = None
    """With a sharded log (docs/log-shards.md): acts go into the shard of now."""
    _cache: ByteBoundedCache = field(init=False)

    def __post_init__(self) -> None:
        self._cache = ByteBoundedCache(self.cache_bytes)

    def anchor(self, kind: str, time: datetime, fields: dict[str, str]) -> Anchor:
        """The act's entry, ready for its store write -- into the log shard of now when
        the log is sharded. :class:`UnavailableError` while the log cannot integrate: an
        act must not be answered with a receipt that never reaches a signed checkpoint."""
        entry = LogEntry(kind, time.replace(microsecond=0), fields).to_bytes()
        if self.shards is not None:
            return Anchor(entry, shard=self.shards.shard_for_act())
        self.log.require_healthy()
        return Anchor(entry)

    def receipt(self, anchor: Anchor) -> Receipt:
        """Where the committed act sits in the log (its shard's origin when sharded);
        wakes the integrator."""
        if anchor.index is None:
            raise UnavailableError("the act was not admitted to the log")
        origin = self.log.origin
        if anchor.shard is not None and self.shards is not None:
            self.shards.notify(anchor.shard)
            origin = self.shards.origin(anchor.shard)
        else:
            self.log.notify()
        if self.observer is not None:
            self.observer(LogEntry.parse(anchor.entry).kind)
        return Receipt(origin, anchor.index, hashing.leaf_hash(anchor.entry))

    def notify(self, anchor: Anchor | None) -> None:
        """An act's entry was admitted with its record: wake its log's integrator."""
        if anchor is not None and anchor.shard is not None and self.shards is not None:
            self.shards.notify(anchor.shard)
        else:
            self.log.notify()

    def credential_issued(
        self, signed: SignedCredential, issuer: IssuerRecord, now: datetime
    ) -> Anchor:
        """The issuance act: digest, issuer DID, type -- never the claims."""
        fields = {
            "credential_digest": digest_field(signed.digest),
            "issuer": issuer.did,
            "type": signed.credential.credential_type,
        }
        return self.anchor("credential.issued", now, fields)

    async def with_inclusion(self, receipt: Receipt) -> dict[str, Any]:
        """The receipt once integrated: signed checkpoint and inclusion proof (from the
        receipt's shard when it names one)."""
        name = None if self.shards is None else self.shards.name_of(receipt.origin)
        if self.shards is not None and name is not None:
            inclusion = await self.shards.inclusion(name, receipt.index)
        else:
            inclusion = await self.log.wait_for_checkpoint(receipt.index)
        return {
            "checkpoint": inclusion.checkpoint.note.decode(),
            "treeSize": inclusion.checkpoint.checkpoint.size,
            "inclusionProof": [h.hex() for h in inclusion.proof.path],
        }

    def check_anchor(self, digest: bytes, credentials: CredentialStore) -> dict[str, Any] | None:
        """``results.anchor``: the credential's issuance leaf is in the log under the
        current signed checkpoint (of its shard's, when sharded: a frozen shard's final
        checkpoint, proved from its exported files when it has them). ``None`` when this
        log never anchored it."""
        if self.shards is not None:
            found = self._check_in_shards(digest, credentials)
            if found is not None:
                return found
        leaf = self._cache.get(("leaf", digest)) or self._leaf_of(digest, credentials)
        if leaf is None:
            return None
        index, leaf_hash = leaf
        signed = self.log.checkpoint
        size = signed.checkpoint.size
        base = {"origin": self.log.origin, "index": index, "leafHash": leaf_hash.hex()}
        if index >= size:
            return {**base, "integrated": False}
        proof = self._proved_path(
            ("proof", index, size, signed.checkpoint.root), self.log.reader, leaf_hash, "log's"
        )
        return {**base, "integrated": True, "treeSize": size, "inclusionProof": proof}

    def _proved_path(
        self, key: tuple[Any, ...], reader: LogReader, leaf_hash: bytes, whose: str
    ) -> list[str]:
        """The inclusion path (hex) of ``leaf_hash`` at the index and size named in
        ``key``, recomputed to the signed root ``key[-1]`` before it is remembered: a path
        is served only once it led to that root (issue #12 item 3), and the key holds the
        root, so a remembered path is never served under another."""
        *_, index, size, root = key
        known = self._cache.get(key)
        if known is not None:
            return list(known)
        proof = reader.inclusion_proof(index, size)
        if proof.leaf_hash != leaf_hash:
            raise LogProofError(f"the {whose} leaf at the recorded index is not this credential")
        verify_inclusion(index, size, leaf_hash, proof.path, root)
        hexes = tuple(h.hex() for h in proof.path)
        self._cache.put(key, hexes, path_cost(hexes))
        return list(hexes)

    def _check_in_shards(
        self, digest: bytes, credentials: CredentialStore
    ) -> dict[str, Any] | None:
        """``results.anchor`` from the shard whose entry at the record's index is this
        credential's issuance; ``None`` when no shard's is (the unsharded log may hold
        it: acts anchored before the log was sharded)."""
        assert self.shards is not None
        leaf = self._cache.get(("shard-leaf", digest))
        views = {view.name: view for view in self.shards.views()}
        if leaf is None:
            record = credentials.find_credential_by_digest(digest)
            if record is None or record.log_index is None:
                return None
            leaf = self._shard_leaf(digest, record.log_index, list(views.values()))
            if leaf is None:
                return None
        name, index, leaf_hash = leaf
        view = views[name]
        size = view.checkpoint.checkpoint.size
        base = {"origin": view.origin, "index": index, "leafHash": leaf_hash.hex()}
        if index >= size:
            return {**base, "integrated": False}
        key = ("shard-proof", name, index, size, view.checkpoint.checkpoint.root)
        proof = self._proved_path(key, view.reader, leaf_hash, "shard's")
        return {**base, "integrated": True, "treeSize": size, "inclusionProof": proof}

    def _shard_leaf(
        self, digest: bytes, index: int, views: list[ShardView]
    ) -> tuple[str, int, bytes] | None:
        """The shard (newest first) whose entry at ``index`` is the issuance of
        ``digest``: the record keeps its index, the entry names the credential."""
        expected = digest_field(digest)
        for view in views:
            integrated = index < view.checkpoint.checkpoint.size
            if integrated:
                data = view.reader.entry(index)
            elif view.store is not None and index < view.store.entry_count():
                [data] = view.store.read_entries(index, index + 1)
            else:
                continue
            entry = LogEntry.parse(data)
            if entry.kind == "credential.issued" and entry.fields.get("credential_digest") == (
                expected
            ):
                leaf = (view.name, index, hashing.leaf_hash(data))
                if integrated:  # entries never change: cached
                    self._cache.put(("shard-leaf", digest), leaf, LEAF_COST)
                return leaf
        return None

    def _leaf_of(self, digest: bytes, credentials: CredentialStore) -> tuple[int, bytes] | None:
        """The issuance leaf of ``digest`` (entries never change, so it is cached)."""
        record = credentials.find_credential_by_digest(digest)
        if record is None or record.log_index is None:
            return None
        if record.log_index >= self.log.checkpoint.checkpoint.size:
            # Admitted with the record, not integrated yet: say so (and cache nothing).
            [data] = self.log.store.read_entries(record.log_index, record.log_index + 1)
            return record.log_index, hashing.leaf_hash(data)
        data = self.log.reader.entry(record.log_index)
        entry = LogEntry.parse(data)
        expected = digest_field(digest)
        if entry.kind != "credential.issued" or entry.fields.get("credential_digest") != expected:
            raise LogProofError("the log entry at the recorded index is not this credential")
        leaf = (record.log_index, hashing.leaf_hash(data))
        self._cache.put(("leaf", digest), leaf, LEAF_COST)
        return leaf


LEAF_COST = 400
"""Bytes a remembered leaf takes (its key, index and hash; measured 270-340 with
tracemalloc, tests/service/test_anchor_cache.py), rounded up."""


def path_cost(path: tuple[str, ...]) -> int:
    """Bytes a remembered inclusion path of ``len(path)`` hex hashes takes: its key (with
    the 32-byte root) and tuple, plus 121 per 64-digit hash (measured with tracemalloc,
    rounded up)."""
    return 400 + 130 * len(path)


class ByteBoundedCache:
    """A dict whose entries' stated costs never sum past ``budget`` bytes: an entry that
    would pass it empties the cache first (entries are pure functions of their keys, so
    forgetting is always safe). Safe under threads: a race can only forget more."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: dict[Any, Any] = {}
        self._used = 0

    @property
    def used(self) -> int:
        """The summed costs of what is held now."""
        return self._used

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Any) -> Any:
        """The value remembered under ``key``, or None."""
        return self._items.get(key)

    def put(self, key: Any, value: Any, cost: int) -> None:
        """Remember ``value`` under ``key``; ``cost`` is its size in bytes (more than the
        budget: not remembered)."""
        if cost > self.budget or key in self._items:
            return
        if self._used + cost > self.budget:
            self._items.clear()
            self._used = 0
        self._items[key] = value
        self._used += cost


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    """A receipt as the API answers it: the log's (or shard's) origin, the entry's index
    and its RFC 9162 leaf hash in hex."""
    return {
        "origin": receipt.origin,
        "index": receipt.index,
        "leafHash": receipt.leaf_hash.hex(),
    }
