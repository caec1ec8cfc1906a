"""The in-memory reference store: the test oracle, never a production default.

Thread-safe behind one lock; every method is atomic because it holds that lock for the
whole call and checks before it writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from identity.credentials.status import with_bit
from identity.errors import ConflictError, NotFoundError
from identity.registry.accreditation import Accreditation
from identity.registry.types import CredentialType
from identity.storage.memory_log import MemoryLogStore, admitting
from identity.storage.shard_admission import routing_memory
from identity.stores import (
    Anchor,
    ApiKeyRecord,
    CredentialRecord,
    IssuerRecord,
    StatusListRecord,
    StoreVersions,
    check_challenge,
    check_version_reads,
    new_group_id,
)


class MemoryStore:
    """Every record family of :mod:`identity.stores` in dicts behind one lock (the oracle
    the contract suite holds the other backends to); acts admit their entries to ``log``
    under its lock too, so a record and its entry appear together or not at all."""

    def __init__(self, log: MemoryLogStore | None = None) -> None:
        self.log = log or MemoryLogStore()
        """The log acts are admitted to (the service hands it to its TransparencyLog)."""
        self._lock = threading.Lock()
        self._issuers: dict[str, IssuerRecord] = {}
        self._keys: dict[str, ApiKeyRecord] = {}
        self._credentials: dict[str, CredentialRecord] = {}
        self._by_digest: dict[bytes, str] = {}
        self._challenges: dict[str, tuple[str, datetime]] = {}  # value -> (purpose, expires)
        self._types: dict[str, CredentialType] = {}
        self._accreditations: dict[str, Accreditation] = {}
        self._lists: dict[tuple[str, str], StatusListRecord] = {}
        self._groups: dict[str, tuple[str, int, set[int]]] = {}  # group -> (issuer, size, taken)
        self._open_group: dict[str, str] = {}  # issuer -> group
        self._trust_version = 0

    def trust_version(self) -> int:
        """The trust counter, grown by every write to issuers, keys, types or accreditations."""
        with self._lock:
            return self._trust_version

    def ping(self) -> None:
        """Always reachable: nothing to check."""
        return None

    def close(self) -> None:
        """Nothing to release."""
        return None

    # -- issuers --------------------------------------------------------------------------

    def create_issuer(
        self, issuer: IssuerRecord, api_key: ApiKeyRecord, anchor: Anchor | None = None
    ) -> None:
        """Under the store's and the log's lock: ``ConflictError`` for an issuer id, DID or key
        id already there; else store both, grow the trust version, admit the entry."""
        with self._lock, routing_memory(self.log, [anchor]), admitting(self.log, anchor):
            if issuer.id in self._issuers:
                raise ConflictError("issuer id already exists", issuer=issuer.id)
            if any(i.did == issuer.did for i in self._issuers.values()):
                raise ConflictError("issuer DID already exists", did=issuer.did)
            if api_key.key_id in self._keys:
                raise ConflictError("API key id already exists")
            self._issuers[issuer.id] = issuer
            self._keys[api_key.key_id] = api_key
            self._trust_version += 1

    def get_issuer(self, issuer_id: str) -> IssuerRecord:
        """The issuer with that id; ``NotFoundError`` if none."""
        with self._lock:
            try:
                return self._issuers[issuer_id]
            except KeyError:
                raise NotFoundError("no such issuer", issuer=issuer_id) from None

    def find_issuer_by_did(self, did: str) -> IssuerRecord | None:
        """The issuer with that DID (a scan), or ``None``."""
        with self._lock:
            return next((i for i in self._issuers.values() if i.did == did), None)

    def list_issuers(self) -> list[IssuerRecord]:
        """Every issuer, oldest ``created`` first (ties by id)."""
        with self._lock:
            return sorted(self._issuers.values(), key=lambda i: (i.created, i.id))

    def add_api_key(self, api_key: ApiKeyRecord) -> None:
        """Under the lock: ``NotFoundError`` if the key names an unknown issuer, ``ConflictError``
        for a key id already there; else store it and grow the trust version."""
        with self._lock:
            if api_key.issuer_id is not None and api_key.issuer_id not in self._issuers:
                raise NotFoundError("no such issuer", issuer=api_key.issuer_id)
            if api_key.key_id in self._keys:
                raise ConflictError("API key id already exists")
            self._keys[api_key.key_id] = api_key
            self._trust_version += 1

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        """The key record with that id, or ``None``."""
        with self._lock:
            return self._keys.get(key_id)

    def revoke_api_key(self, key_id: str) -> None:
        """Under the lock: mark the key revoked and grow the trust version; ``NotFoundError`` for
        an unknown key id."""
        with self._lock:
            key = self._keys.get(key_id)
            if key is None:
                raise NotFoundError("no such API key")
            self._keys[key_id] = ApiKeyRecord(
                key.key_id, key.secret_hash, key.issuer_id, key.scopes, key.created, revoked=True
            )
            self._trust_version += 1

    # -- credentials ----------------------------------------------------------------------

    def put_credential(self, record: CredentialRecord, anchor: Anchor | None = None) -> None:
        """:meth:`put_credentials` of one record; its ``ConflictError`` (id already recorded) is
        raised, with nothing written."""
        [outcome] = self.put_credentials([record], [anchor])
        if outcome is not None:
            raise outcome

    def put_credentials(
        self,
        records: Sequence[CredentialRecord],
        anchors: Sequence[Anchor | None] | None = None,
    ) -> list[ConflictError | None]:
        """Under the store's lock, the shard catalog's (anchors routed to their shards:
        :func:`~identity.storage.shard_admission.routing_memory`) and every targeted log's
        (this log first, then a shard's):
        each new id stored and its entry admitted; an id already there gets a
        ``ConflictError`` in its slot and admits nothing."""
        outcomes: list[ConflictError | None] = []
        wanted = list(anchors) if anchors is not None else [None] * len(records)
        with self._lock, routing_memory(self.log, wanted), self.log.lock:
            for given, anchor in zip(records, wanted, strict=True):
                if given.id in self._credentials:
                    outcomes.append(ConflictError("credential id already recorded", id=given.id))
                    continue
                record = given
                if anchor is not None:
                    target = self.log.of(anchor)
                    if target is self.log:
                        anchor.index = target.admit_locked([anchor.entry])
                    else:
                        with target.lock:  # lock order: this log, then a shard's
                            anchor.index = target.admit_locked([anchor.entry])
                    record = replace(given, log_index=anchor.index)
                self._credentials[record.id] = record
                self._by_digest.setdefault(record.digest, record.id)
                outcomes.append(None)
        return outcomes

    def get_credential(self, credential_id: str) -> CredentialRecord:
        """The record with that id; ``NotFoundError`` if none."""
        with self._lock:
            try:
                return self._credentials[credential_id]
            except KeyError:
                raise NotFoundError("no such credential", id=credential_id) from None

    def find_credential(self, credential_id: str) -> CredentialRecord | None:
        """The record with that id, or ``None``."""
        with self._lock:
            return self._credentials.get(credential_id)

    def credentials_of_subject(self, subject_id: str) -> list[CredentialRecord]:
        """The subject's records by ``issued_at`` (stable: ties in insertion order)."""
        with self._lock:
            found = [r for r in self._credentials.values() if r.subject_id == subject_id]
        return sorted(found, key=lambda r: r.issued_at)

    def find_credential_by_digest(self, digest: bytes) -> CredentialRecord | None:
        """The first record stored with that digest, or ``None``."""
        with self._lock:
            cid = self._by_digest.get(digest)
            return None if cid is None else self._credentials[cid]

    def count_credentials(self) -> int:
        """How many credentials are stored."""
        with self._lock:
            return len(self._credentials)

    def iter_credentials(self) -> Iterator[CredentialRecord]:
        """A snapshot of every record, taken under the lock, in insertion order."""
        with self._lock:
            every = list(self._credentials.values())
        return iter(every)

    # -- registry -------------------------------------------------------------------------

    def create_type(self, credential_type: CredentialType, anchor: Anchor | None = None) -> None:
        """Under the store's and the log's lock: ``ConflictError`` for a name already there; else
        store it, grow the trust version, admit the entry."""
        with self._lock, routing_memory(self.log, [anchor]), admitting(self.log, anchor):
            if credential_type.name in self._types:
                raise ConflictError("credential type already registered", type=credential_type.name)
            self._types[credential_type.name] = credential_type
            self._trust_version += 1

    def find_type(self, name: str) -> CredentialType | None:
        """The type of that name, or ``None``."""
        with self._lock:
            return self._types.get(name)

    def list_types(self) -> list[CredentialType]:
        """Every credential type, sorted by name."""
        with self._lock:
            return sorted(self._types.values(), key=lambda t: t.name)

    def add_accreditation(self, accreditation: Accreditation, anchor: Anchor | None = None) -> None:
        """Under the store's and the log's lock: ``ConflictError`` for an id already there; else
        store it, grow the trust version, admit the entry."""
        with self._lock, routing_memory(self.log, [anchor]), admitting(self.log, anchor):
            if accreditation.id in self._accreditations:
                raise ConflictError("accreditation id already exists")
            self._accreditations[accreditation.id] = accreditation
            self._trust_version += 1

    def get_accreditation(self, accreditation_id: str) -> Accreditation:
        """The accreditation with that id; ``NotFoundError`` if none."""
        with self._lock:
            try:
                return self._accreditations[accreditation_id]
            except KeyError:
                raise NotFoundError("no such accreditation", id=accreditation_id) from None

    def accreditations_of(self, issuer_id: str) -> list[Accreditation]:
        """The issuer's accreditations, oldest ``created`` first (ties by id)."""
        with self._lock:
            found = [a for a in self._accreditations.values() if a.issuer_id == issuer_id]
        return sorted(found, key=lambda a: (a.created, a.id))

    def revoke_accreditation(
        self, accreditation_id: str, at: datetime, anchor: Anchor | None = None
    ) -> Accreditation:
        """Under the store's and the log's lock: ``NotFoundError`` for an unknown id; a revoked one
        is returned unchanged, or ``ConflictError`` when an anchor asks to log the act again;
        else set ``revoked_at`` and grow the trust version."""
        with self._lock, routing_memory(self.log, [anchor]), admitting(self.log, anchor):
            current = self._accreditations.get(accreditation_id)
            if current is None:
                raise NotFoundError("no such accreditation", id=accreditation_id)
            if current.revoked_at is not None and anchor is not None:
                raise ConflictError("the accreditation is already revoked", id=accreditation_id)
            if current.revoked_at is None:
                current = replace(current, revoked_at=at)
                self._accreditations[accreditation_id] = current
                self._trust_version += 1
            return current

    # -- challenges -----------------------------------------------------------------------

    def create_challenge(self, value: str, purpose: str, expires: datetime) -> None:
        """Under the lock: ``ConflictError`` if the value is already there."""
        with self._lock:
            if value in self._challenges:
                raise ConflictError("challenge already exists")
            self._challenges[value] = (purpose, expires)

    def purge_challenges(self, expired_before: datetime) -> int:
        """Delete challenges expiring before ``expired_before``; return how many."""
        with self._lock:
            old = [v for v, (_, expires) in self._challenges.items() if expires < expired_before]
            for value in old:
                del self._challenges[value]
        return len(old)

    def consume_challenge(self, value: str, purpose: str, now: datetime) -> None:
        """Under the lock: take the challenge only when it was issued for ``purpose``; then
        :func:`check_challenge` raises ``InvalidChallengeError`` for an unknown, other-purpose
        or expired one."""
        with self._lock:
            stored = self._challenges.get(value)
            if stored is not None and stored[0] == purpose:
                del self._challenges[value]
        check_challenge(stored, purpose, now)

    # -- status lists ---------------------------------------------------------------------

    def reserve_status_indices(
        self,
        issuer_id: str,
        count: int,
        pick: Callable[[int], int],
        size: int,
        purposes: Sequence[str],
    ) -> list[tuple[str, int]]:
        """Under the lock: take ``count`` indices the issuer's open group has not given out, by
        ``pick``; a group half taken is closed and a new one (zeroed list per purpose) opened."""
        out: list[tuple[str, int]] = []
        with self._lock:
            while len(out) < count:
                group = self._open_group.get(issuer_id)
                if group is None or len(self._groups[group][2]) * 2 >= self._groups[group][1]:
                    group = new_group_id(issuer_id, len(self._groups))
                    self._groups[group] = (issuer_id, size, set())
                    self._open_group[issuer_id] = group
                    for purpose in purposes:
                        self._lists[(group, purpose)] = StatusListRecord(
                            group, purpose, issuer_id, bytes(size // 8), 0
                        )
                _, group_size, taken = self._groups[group]
                index = pick(group_size)
                if index not in taken:
                    taken.add(index)
                    out.append((group, index))
        return out

    def get_status_list(self, group: str, purpose: str) -> StatusListRecord:
        """The list for ``(group, purpose)``; ``NotFoundError`` if none."""
        with self._lock:
            try:
                return self._lists[(group, purpose)]
            except KeyError:
                raise NotFoundError("no such status list", group=group, purpose=purpose) from None

    def status_list_version(self, group: str, purpose: str) -> int:
        """The list's version; ``NotFoundError`` if none."""
        return self.get_status_list(group, purpose).version

    def read_versions(self, lists: Collection[tuple[str, str]]) -> StoreVersions:
        """Under the store's lock: the trust version and each listed list's version."""
        check_version_reads(lists)
        with self._lock:
            found = {key: self._lists[key].version for key in lists if key in self._lists}
            return StoreVersions(self._trust_version, found)

    def set_status(
        self, group: str, purpose: str, index: int, value: bool, anchor: Anchor | None = None
    ) -> int:
        """Under the store's and the log's lock: ``NotFoundError`` unless ``index`` was reserved;
        set the bit and bump the version (an unchanged bit keeps it; the entry is admitted)."""
        with self._lock, routing_memory(self.log, [anchor]), admitting(self.log, anchor):
            record = self._lists.get((group, purpose))
            if record is None or index not in self._groups[group][2]:
                raise NotFoundError("no such status list entry", group=group, index=index)
            bits = with_bit(record.bits, index, value)
            if bits is None:
                return record.version
            updated = StatusListRecord(group, purpose, record.issuer_id, bits, record.version + 1)
            self._lists[(group, purpose)] = updated
            return updated.version
