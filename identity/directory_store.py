"""Storage contracts of the directory chain: DID operations, the data catalog, sharing.

Same contract as :mod:`identity.stores` (atomic, durable on return, unique keys,
``get_*`` raises :class:`~identity.errors.NotFoundError`, immutable records, backend
failures are :class:`~identity.errors.UnavailableError`), plus **compare-and-swap** on
every history: a DID's operations, an entry's catalog versions and a request's events
are each numbered 0, 1, 2…, and a write naming a number other than the next one raises
:class:`~identity.errors.ConflictError` and writes nothing. Histories therefore never
fork, even with several replicas writing. Each write takes an optional
:class:`~identity.stores.Anchor`, admitted to the log in the same transaction as the
record and behind the same compare-and-swap (the contract of :mod:`identity.stores`):
the store writes the entry's index into the record's ``log_index``, so a refused write
leaves no log entry.

Each backend (``identity.storage.memory_directory``, ``.sqlite_directory``,
``.redis_directory``) passes ``tests/storage/test_directory_contract.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from identity.errors import MalformedValueError
from identity.stores import Anchor


@dataclass(frozen=True, slots=True)
class DidOperationRecord:
    """One accepted operation of a log-anchored DID (``sequence`` 0 is the create).

    ``operation`` is the JCS text of the signed operation exactly as verified, so a
    resolver can verify it again; ``time`` and ``log_index`` are those of its log entry.
    """

    did: str
    sequence: int
    operation: str
    time: datetime
    log_index: int

    def __post_init__(self) -> None:
        if self.sequence < 0 or self.log_index < 0 or not self.did.startswith("did:"):
            raise MalformedValueError("bad DID operation record")


@dataclass(frozen=True, slots=True)
class CatalogRecord:
    """One published version (1, 2, …) of a catalog entry.

    ``entry`` is the JCS text of the entry as published (its digest is in the log);
    ``publisher`` is the agency's issuer id; ``fields`` are the data field names, kept
    apart for search.
    """

    id: str
    version: int
    publisher: str
    entry: str
    fields: tuple[str, ...]
    published: datetime
    log_index: int

    def __post_init__(self) -> None:
        if self.version < 1 or self.log_index < 0 or not self.id or not self.publisher:
            raise MalformedValueError("bad catalog record")


@dataclass(frozen=True, slots=True)
class SharingRequest:
    """A data-sharing request and where it stands.

    ``events`` counts the events recorded so far (the request's own creation is event 0,
    so a stored request always has ``events >= 1``). ``body`` is the JCS text of what the
    requester asked (its digest is the request digest in the log). ``consent`` is the
    JCS text of the consent receipt while one is in force.
    """

    id: str
    requester: str
    holder: str
    subject: str
    resource: str
    state: str
    events: int
    body: str
    created: datetime
    updated: datetime
    consent: str | None = None
    consent_expires: datetime | None = None
    exemption: str | None = None

    def __post_init__(self) -> None:
        if self.events < 1 or not self.id or not self.subject.startswith("did:"):
            raise MalformedValueError("bad sharing request record")


@dataclass(frozen=True, slots=True)
class SharingEvent:
    """One recorded act on a request: its log entry kind, time, index and record.

    ``record`` is the JCS text whose SHA-256 the log entry carries, so anyone holding it
    can recompute the digest and check the entry's inclusion proof.
    """

    request_id: str
    sequence: int
    kind: str
    time: datetime
    log_index: int
    record: str

    def __post_init__(self) -> None:
        if self.sequence < 0 or self.log_index < 0 or not self.kind:
            raise MalformedValueError("bad sharing event record")


class DidOperationStore(Protocol):
    """Storage of did:cityid operations, one append-only sequence per DID; each write may admit
    its log ``anchor`` in the same transaction."""

    def append_did_operation(
        self, record: DidOperationRecord, anchor: Anchor | None = None
    ) -> None:
        """Store the next operation; ConflictError unless ``record.sequence`` is the
        number of operations already stored for ``record.did``."""
        ...

    def did_operations(self, did: str) -> list[DidOperationRecord]:
        """Every operation of ``did`` in sequence order (empty when unknown)."""
        ...

    def dids(self) -> list[str]:
        """Every DID with stored operations (reconciliation reads them all)."""
        ...


class CatalogStore(Protocol):
    """Storage of data-catalog entries, versioned per entry id, each version kept forever; a
    write may admit its log ``anchor`` in the same transaction."""

    def add_catalog_version(self, record: CatalogRecord, anchor: Anchor | None = None) -> None:
        """Store the next version; ConflictError unless ``record.version`` is one more
        than the latest (1 for a new id), or when another publisher owns the id."""
        ...

    def catalog_versions(self, entry_id: str) -> list[CatalogRecord]:
        """Every version of the entry, oldest first (empty when unknown)."""
        ...

    def latest_catalog(self) -> list[CatalogRecord]:
        """The latest version of every entry, ordered by id."""
        ...


class SharingStore(Protocol):
    """Storage of data-sharing requests and their numbered events; each write pairs the new
    request state with its event (and log ``anchor``) atomically."""

    def create_request(
        self, request: SharingRequest, event: SharingEvent, anchor: Anchor | None = None
    ) -> None:
        """Store a new request (``events == 1``) with its event 0; ConflictError when
        the id exists."""
        ...

    def advance_request(
        self, request: SharingRequest, event: SharingEvent, anchor: Anchor | None = None
    ) -> None:
        """Replace the request and add ``event`` atomically. ConflictError unless the
        stored request has ``request.events - 1`` events and ``event.sequence`` is that
        number; NotFoundError when there is no such request."""
        ...

    def get_request(self, request_id: str) -> SharingRequest:
        """The request as last stored; NotFoundError when there is none."""
        ...

    def request_ids(self) -> list[str]:
        """Every stored request id (reconciliation reads them all)."""
        ...

    def request_events(self, request_id: str) -> list[SharingEvent]:
        """The request's events in sequence order (empty when unknown)."""
        ...

    def requests_about(self, subject: str) -> list[SharingRequest]:
        """Every request about ``subject`` (a citizen DID), oldest first."""
        ...

    def requests_of_agency(self, agency: str) -> list[SharingRequest]:
        """Every request an agency made or holds the data for, oldest first."""
        ...

    def sharing_counts(self) -> dict[str, int]:
        """Aggregate counts only: ``requests`` and ``state:<state>`` per state, and
        ``event:<kind>`` per event kind."""
        ...


class DirectoryStore(DidOperationStore, CatalogStore, SharingStore, Protocol):
    """The directory chain's storage: DID operations, catalog and sharing requests on one
    backend, each proved by tests/storage/test_directory_contract.py."""

    def close(self) -> None:
        """Release the backend's connections; the store is not used after."""
        ...
