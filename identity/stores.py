"""Storage contracts of the core, as Protocols every backend implements.

Every backend (``identity.storage.memory`` -- the reference oracle --, ``.sqlite`` -- the
embedded default --, ``.redis`` -- scale-out) passes the one suite in
``tests/storage/test_contract.py``. The contract, for every method below:

* **Atomic.** A call either happens completely or not at all; a failed call leaves no
  partial record behind (a rejected request writes nothing).
* **Durable on return.** When a write returns, the record survives a crash of the
  process (SQLite: WAL with ``synchronous=FULL``; Redis: as durable as its AOF
  ``appendfsync`` setting -- see the README). The memory backend is durable for the life
  of the process only, and is never a production default.
* **Unique.** ``create_*`` raises :class:`~identity.errors.ConflictError` when the key
  already exists and changes nothing.
* **Not found** is :class:`~identity.errors.NotFoundError`, never ``None`` from a getter
  named ``get_*``; ``find_*`` methods return ``None``.
* Records are immutable values (frozen dataclasses); a store never hands out a
  reference into its own state.
* Backend failures (connection lost, timeouts) surface as
  :class:`~identity.errors.UnavailableError`.
* **Anchored acts** (issue #12). Every write that is an act of the log -- an issuer
  created, a credential issued, a status bit changed, a type registered, an accreditation
  granted or revoked -- takes an :class:`Anchor`: the act's log entry. The record write
  (or state change) and the entry's admission to the log's sequenced entries are ONE
  transaction (one SQLite transaction in the file that also holds the log's entries; one
  Redis ``MULTI``/``EXEC`` that also ``WATCH``-es the log's size; one lock in memory),
  and the check that decides the act (uniqueness, the record's current state) runs
  inside that transaction's guard. So two racing acts on one record can never both be
  admitted, a refused or crashed act leaves no entry, and a stored act has exactly one.
  Integration (tree, checkpoint) stays separate: :mod:`identity.log.sequencer`.
* **Sharded logs** (issue #16). An :class:`Anchor` names the log shard its entry goes to
  (``shard``; ``None`` is the unsharded log). The store admits it into that shard's
  entries -- SQLite: the shard's tables in the same file
  (:func:`~identity.storage.sqlite_log.shard_tables`); Redis: the shard's keys
  (:func:`~identity.storage.redis_log_keys.shard_log_keys`, the records' slot on a
  cluster); memory: the shard's store -- in the same transaction, under the same guard,
  and numbers it there. One write may admit into several shards (a group commit across a
  boundary); each entry lands in exactly one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from identity.errors import ConflictError, InvalidChallengeError, MalformedValueError
from identity.registry.accreditation import Accreditation
from identity.registry.types import CredentialType


@dataclass(frozen=True, slots=True)
class IssuerRecord:
    """An agency that issues credentials through this service.

    ``sealed_key`` is the Ed25519 seed sealed with the operator's master secret
    (:class:`identity.keys.KeySealer`); the clear key never reaches a store.
    """

    id: str
    name: str
    did: str
    sealed_key: bytes = field(repr=False)
    created: datetime

    def __post_init__(self) -> None:
        if not self.id or not self.did.startswith("did:"):
            raise MalformedValueError("issuer id and DID are required")


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An agency's API key, stored as SHA-256 of the secret part only.

    Keys are 256-bit random secrets, so a fast hash is enough: there is nothing for a
    dictionary attack to guess (unlike passwords).
    """

    key_id: str
    secret_hash: bytes = field(repr=False)
    issuer_id: str | None
    """The agency the key acts for; ``None`` for a verifier's key (scope ``verify``)."""
    scopes: frozenset[str]
    created: datetime
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """What the service keeps of a credential it issued: identifiers and digests only.

    ``digest`` is SHA-256 of the JCS of the signed credential; the claims themselves are
    never stored here (the citizen's hosted wallet keeps the issued credential, sealed:
    :mod:`identity.wallet_store`).
    """

    id: str
    digest: bytes
    issuer_id: str
    issuer_did: str
    type: str
    subject_id: str | None
    issued_at: datetime
    status_index: int | None = None
    log_index: int | None = None
    status_group: str | None = None
    """The status-list group holding ``status_index`` (one list per status purpose)."""


@dataclass(frozen=True, slots=True)
class StatusListRecord:
    """One Bitstring Status List: ``bits`` for ``purpose`` in allocation group ``group``.

    ``version`` grows by one at every change, so caches key on (group, purpose, version).
    """

    group: str
    purpose: str
    issuer_id: str
    bits: bytes = field(repr=False)
    version: int


@dataclass(slots=True)
class Anchor:
    """The log entry of one act, admitted to the log in the act's own store transaction.

    Hand it to a store write that takes ``anchor=``: the write and the entry commit
    together or not at all. The store sets ``index`` (the entry's log index, also written
    into the record's ``log_index`` where the record has one) when, and only when, the
    transaction commits; a write that raises leaves it ``None`` and the log unchanged.
    """

    entry: bytes
    index: int | None = None
    shard: str | None = None
    """The log shard the entry is admitted to (docs/log-shards.md), ``None`` for the
    unsharded log. ``index`` is then the entry's index in that shard."""
    picked: str | None = None
    """The shard the act picked, kept when the store routes the entry elsewhere (a full
    shard's next split): every attempt of a retried transaction routes from it."""


def shards_of(anchors: Sequence[Anchor | None]) -> dict[str | None, list[Anchor]]:
    """For stores: the anchors given (the ones not ``None``) by log shard, each shard's in
    order -- one write transaction may admit into several shards of a log."""
    out: dict[str | None, list[Anchor]] = {}
    for anchor in anchors:
        if anchor is not None:
            out.setdefault(anchor.shard, []).append(anchor)
    return out


def settle(anchors: Sequence[Anchor | None], first: int) -> None:
    """For stores, once the transaction committed: number the admitted anchors (the ones
    not ``None``) ``first, first + 1, …`` in order."""
    offset = 0
    for anchor in anchors:
        if anchor is not None:
            anchor.index = first + offset
            offset += 1


def new_group_id(issuer_id: str, counter: int) -> str:
    """A status-list group id: unique per store, safe in a URL path segment."""
    return f"{issuer_id}-{counter + 1}"


class TrustVersioned(Protocol):
    """The version of the trust records, which caches of them key on (issue #15)."""

    def trust_version(self) -> int:
        """One cheap read: a number that grows (by at least one) in the SAME transaction
        as every write that changes an issuer, an API key, a credential type or an
        accreditation -- ``create_issuer``, ``add_api_key``, ``revoke_api_key``,
        ``create_type``, ``add_accreditation`` and a ``revoke_accreditation`` that
        revokes. 0 in a new store. A cache that reads this version *before* reading the
        records, and drops what it holds when the version moved, is exact across
        replicas: it never answers from before a write whose transaction committed
        before the version was read (:class:`identity.registry.cache.VersionedCache`)."""
        ...


class IssuerStore(TrustVersioned, Protocol):
    """Agencies (issuers) and API keys; every write here grows
    :meth:`~TrustVersioned.trust_version` in its own transaction."""

    def create_issuer(
        self, issuer: IssuerRecord, api_key: ApiKeyRecord, anchor: Anchor | None = None
    ) -> None:
        """Store an issuer and its first API key (and admit ``anchor``) in one atomic
        write; :class:`ConflictError` for a taken id or DID, with no entry admitted."""
        ...

    def get_issuer(self, issuer_id: str) -> IssuerRecord:
        """The issuer with this id; :class:`NotFoundError` when there is none."""
        ...

    def find_issuer_by_did(self, did: str) -> IssuerRecord | None:
        """The issuer whose current DID is ``did``, or ``None`` (a foreign issuer)."""
        ...

    def list_issuers(self) -> list[IssuerRecord]:
        """Every issuer, oldest first (ties by id)."""
        ...

    def add_api_key(self, api_key: ApiKeyRecord) -> None:
        """Store another key: :class:`NotFoundError` for an unknown ``issuer_id`` (a
        verifier key has none), :class:`ConflictError` for a taken ``key_id``."""
        ...

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        """The key record (revoked ones too: the caller refuses them), or ``None``."""
        ...

    def revoke_api_key(self, key_id: str) -> None:
        """Mark the key revoked (kept, so its id is never reused);
        :class:`NotFoundError` for an unknown id."""
        ...


class CredentialStore(Protocol):
    """Issued credentials' records (never the credentials' claims beyond what the record
    holds), each with its log index once anchored."""

    def put_credential(self, record: CredentialRecord, anchor: Anchor | None = None) -> None:
        """Store a new record; :class:`ConflictError` if the id is taken."""
        ...

    def put_credentials(
        self,
        records: Sequence[CredentialRecord],
        anchors: Sequence[Anchor | None] | None = None,
    ) -> list[ConflictError | None]:
        """Store many records in ONE atomic, durable write (group commit).

        Returns one outcome per record: ``None`` when stored, a :class:`ConflictError`
        for a record whose id was taken (that record alone is skipped, and its anchor is
        not admitted). ``anchors[i]``, when given, is admitted with ``records[i]`` and its
        index becomes the stored record's ``log_index``.
        """
        ...

    def get_credential(self, credential_id: str) -> CredentialRecord:
        """The record; :class:`NotFoundError` when there is none."""
        ...

    def find_credential_by_digest(self, digest: bytes) -> CredentialRecord | None:
        """The first record with this digest (identical re-issues share one)."""
        ...

    def find_credential(self, credential_id: str) -> CredentialRecord | None:
        """The record, or ``None`` (the look-up that must not raise)."""
        ...

    def credentials_of_subject(self, subject_id: str) -> list[CredentialRecord]:
        """Records whose ``credentialSubject.id`` is ``subject_id``, oldest first."""
        ...

    def count_credentials(self) -> int:
        """How many records are stored (refused writes never count)."""
        ...

    def iter_credentials(self) -> Iterator[CredentialRecord]:
        """Every stored record, in no particular order (reconciliation reads them all)."""
        ...


class StatusStore(Protocol):
    """Bitstring Status Lists, one per (group, purpose), each with a version that grows
    with every bit that changes."""

    def reserve_status_indices(
        self,
        issuer_id: str,
        count: int,
        pick: Callable[[int], int],
        size: int,
        purposes: Sequence[str],
    ) -> list[tuple[str, int]]:
        """Atomically reserve ``count`` fresh indices in the issuer's open group.

        ``pick(size)`` draws a random candidate in ``[0, size)``; an index is never handed
        out twice in a group (the random assignment of Bitstring Status List §5.1). A group
        is closed once half its indices are taken (so random draws stay cheap) and a new
        one -- with one all-zero list of ``size`` bits per purpose -- is opened.
        Returns ``(group, index)`` pairs.
        """
        ...

    def get_status_list(self, group: str, purpose: str) -> StatusListRecord:
        """The list's bits and version; :class:`NotFoundError` for an unknown list."""
        ...

    def status_list_version(self, group: str, purpose: str) -> int:
        """The list's version alone (cheap): caches of decoded lists key on it."""
        ...

    def set_status(
        self, group: str, purpose: str, index: int, value: bool, anchor: Anchor | None = None
    ) -> int:
        """Set one bit; return the list's new version (unchanged if the bit already was).

        :class:`NotFoundError` for an unknown list or an index never reserved. ``anchor``
        is admitted in the same transaction as the bit, so across any number of writers
        the last status entry of a credential always states its stored bit.
        """
        ...


class RegistryStore(TrustVersioned, Protocol):
    """Credential types and accreditations, kept as their canonical JSON; every write
    here grows :meth:`~TrustVersioned.trust_version` in its own transaction."""

    def create_type(self, credential_type: CredentialType, anchor: Anchor | None = None) -> None:
        """:class:`ConflictError` if the type name is taken."""
        ...

    def find_type(self, name: str) -> CredentialType | None:
        """The registered type of that name, or ``None``."""
        ...

    def list_types(self) -> list[CredentialType]:
        """Every registered type, by name."""
        ...

    def add_accreditation(self, accreditation: Accreditation, anchor: Anchor | None = None) -> None:
        """Store a grant (and admit ``anchor`` with it); :class:`ConflictError` for a
        taken id, with no entry admitted."""
        ...

    def get_accreditation(self, accreditation_id: str) -> Accreditation:
        """The grant (revoked ones too); :class:`NotFoundError` when there is none."""
        ...

    def accreditations_of(self, issuer_id: str) -> list[Accreditation]:
        """Every grant made to ``issuer_id``, revoked ones included, oldest first."""
        ...

    def revoke_accreditation(
        self, accreditation_id: str, at: datetime, anchor: Anchor | None = None
    ) -> Accreditation:
        """Mark revoked from ``at`` on (idempotent: an earlier revocation stands).

        With ``anchor``, a second revocation is refused (:class:`ConflictError`) so the
        log holds exactly one revocation per accreditation.
        """
        ...


CHALLENGE_RETENTION = timedelta(days=1)
"""How long a backend with self-expiring records keeps an unused challenge at most."""


LOGIN = "login"
"""The purpose of a challenge from ``POST /auth/challenge``: a citizen's DID login."""


def presentation_purpose(verifier: str) -> str:
    """The purpose of a challenge from ``POST /challenges``, bound to the caller that asked
    (``verifier`` names it: an API key id, ``operator`` or ``anonymous``): only a
    ``/presentations/verify`` call by that same caller may use it."""
    return f"presentation:{verifier}"


def check_challenge(stored: tuple[str, datetime] | None, purpose: str, now: datetime) -> None:
    """Judge a challenge as a backend found it (``(purpose, expires)``, or ``None``) for
    use in ``purpose`` at ``now``; raise the contract's :class:`InvalidChallengeError`.
    The backend deletes the record exactly when it was found for this ``purpose``."""
    if stored is None:
        raise InvalidChallengeError("challenge unknown or already used", reason="unknown")
    if stored[0] != purpose:
        raise InvalidChallengeError(
            "this challenge was issued for another purpose or caller", reason="purpose"
        )
    if now > stored[1]:
        raise InvalidChallengeError("challenge expired", reason="expired")


class ChallengeStore(Protocol):
    """Single-use challenges, each stored with its purpose (:data:`LOGIN` or
    :func:`presentation_purpose`): a challenge minted for one purpose never satisfies
    another."""

    def create_challenge(self, value: str, purpose: str, expires: datetime) -> None:
        """Record a single-use challenge for ``purpose``, valid until ``expires``."""
        ...

    def consume_challenge(self, value: str, purpose: str, now: datetime) -> None:
        """Use a challenge up for ``purpose``, atomically: exactly one caller ever succeeds.

        Raises :class:`~identity.errors.InvalidChallengeError` with ``reason``
        ``unknown`` (never issued, or already used), ``expired`` (it is deleted) or
        ``purpose`` (issued for another purpose: it is left untouched, still usable only
        for its own).
        """
        ...

    def purge_challenges(self, expired_before: datetime) -> int:
        """Forget challenges that expired before ``expired_before`` and were never used;
        return how many. A backend whose records expire by themselves (Redis keys carry a
        TTL of :data:`CHALLENGE_RETENTION`) may return 0 and leave it to them."""
        ...


@dataclass(frozen=True, slots=True)
class StoreVersions:
    """What :meth:`VersionReads.read_versions` read: the trust version and the versions of
    the status lists asked for that exist (an unknown list is absent, never an error)."""

    trust: int
    status: Mapping[tuple[str, str], int]
    """``(group, purpose)`` -> :meth:`StatusStore.status_list_version`, lists found only."""


MAX_VERSION_READS = 1024
"""The most status lists one :meth:`VersionReads.read_versions` call may name (a caller
with more reads the rest one by one)."""


def check_version_reads(lists: Collection[tuple[str, str]]) -> None:
    """For stores: refuse a :meth:`VersionReads.read_versions` call naming more than
    :data:`MAX_VERSION_READS` lists (a programming error, not a request's)."""
    if len(lists) > MAX_VERSION_READS:
        raise ValueError(f"read_versions takes at most {MAX_VERSION_READS} lists")


class VersionReads(Protocol):
    """Every version a verification keys its caches on, in ONE store round trip (#15)."""

    def read_versions(self, lists: Collection[tuple[str, str]]) -> StoreVersions:
        """``trust_version()`` and ``status_list_version(group, purpose)`` of every list in
        ``lists`` (at most :data:`MAX_VERSION_READS`), read in one round trip to the store:
        one Redis pipeline (on a cluster every key shares the prefix's hash tag, so the
        pipeline goes to one node: still one round trip), one SQLite statement, one lock
        in memory. Each value is read after the call began, so it is never older than the
        store's state when the call was made: a cache that reads its versions here, before
        its records, is as exact as with the single reads (stale bound zero). A list that
        does not exist is left out of ``status`` (the caller raises the single read's
        :class:`~identity.errors.NotFoundError`). Values equal the single reads made at the
        same moment; the reads need not be one atomic snapshot of each other."""
        ...


class Store(
    IssuerStore, CredentialStore, StatusStore, RegistryStore, ChallengeStore, VersionReads, Protocol
):
    """Everything the service keeps, behind one backend."""

    def ping(self) -> None:
        """Raise :class:`UnavailableError` when the backend cannot serve."""
        ...

    def close(self) -> None:
        """Release connections and files; the store is not used afterwards."""
        ...
