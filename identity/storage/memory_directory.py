"""The in-memory directory store: the reference oracle for the directory contract.

One lock; every method checks before it writes, so each call is atomic.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace

from identity.directory_store import (
    CatalogRecord,
    DidOperationRecord,
    SharingEvent,
    SharingRequest,
)
from identity.errors import ConflictError, NotFoundError
from identity.storage.memory_log import MemoryLogStore, admitting
from identity.storage.shard_admission import routing_memory
from identity.stores import Anchor


class MemoryDirectoryStore:
    """DID operations, catalog versions and sharing requests in dicts behind one lock: the
    oracle the directory contract suite holds the SQLite and Redis stores to."""

    def __init__(self, log: MemoryLogStore | None = None) -> None:
        self.log = log or MemoryLogStore()
        """The log acts are admitted to (share it with the MemoryStore and the log)."""
        self._lock = threading.Lock()
        self._dids: dict[str, list[DidOperationRecord]] = {}
        self._catalog: dict[str, list[CatalogRecord]] = {}
        self._requests: dict[str, SharingRequest] = {}
        self._events: dict[str, list[SharingEvent]] = {}

    def close(self) -> None:
        """Nothing to release."""
        return None

    # -- DIDs -----------------------------------------------------------------------------

    def append_did_operation(
        self, record: DidOperationRecord, anchor: Anchor | None = None
    ) -> None:
        """Under the store's and the log's lock: ``ConflictError`` unless ``record.sequence`` is
        the DID's history length; else append it with the admitted entry's index."""
        with self._lock, routing_memory(self.log, [anchor]), admitting(self.log, anchor) as index:
            history = self._dids.get(record.did, [])
            if record.sequence != len(history):
                raise ConflictError(
                    "the DID changed since this operation was made",
                    did=record.did,
                    expected=len(history),
                )
            if anchor is not None:
                record = replace(record, log_index=index)
            self._dids[record.did] = [*history, record]

    def did_operations(self, did: str) -> list[DidOperationRecord]:
        """A copy of the DID's operations by sequence (empty for an unknown DID)."""
        with self._lock:
            return list(self._dids.get(did, []))

    def dids(self) -> list[str]:
        """Every DID with an operation, sorted."""
        with self._lock:
            return sorted(self._dids)

    # -- catalog --------------------------------------------------------------------------

    def add_catalog_version(self, record: CatalogRecord, anchor: Anchor | None = None) -> None:
        """Under the store's and the log's lock: ``ConflictError`` when version 1 has another
        publisher, or unless ``record.version`` is the history length plus one."""
        with self._lock, routing_memory(self.log, [anchor]), admitting(self.log, anchor) as index:
            versions = self._catalog.get(record.id, [])
            if versions and versions[0].publisher != record.publisher:
                raise ConflictError("another agency publishes this catalog id", id=record.id)
            if record.version != len(versions) + 1:
                raise ConflictError(
                    "the catalog entry changed since this version was made",
                    id=record.id,
                    expected=len(versions) + 1,
                )
            if anchor is not None:
                record = replace(record, log_index=index)
            self._catalog[record.id] = [*versions, record]

    def catalog_versions(self, entry_id: str) -> list[CatalogRecord]:
        """A copy of the id's versions in order (empty for an unknown id)."""
        with self._lock:
            return list(self._catalog.get(entry_id, []))

    def latest_catalog(self) -> list[CatalogRecord]:
        """The last version of every catalog id, sorted by id."""
        with self._lock:
            return [self._catalog[key][-1] for key in sorted(self._catalog)]

    # -- sharing --------------------------------------------------------------------------

    def create_request(
        self, request: SharingRequest, event: SharingEvent, anchor: Anchor | None = None
    ) -> None:
        """Under the store's and the log's lock: ``ConflictError`` for an id already there or a
        first event that is not sequence 0 of this request; else store both."""
        with self._lock, routing_memory(self.log, [anchor]), admitting(self.log, anchor) as index:
            if request.id in self._requests:
                raise ConflictError("sharing request id already exists", id=request.id)
            if request.events != 1 or event.sequence != 0 or event.request_id != request.id:
                raise ConflictError("a new request starts with its event 0", id=request.id)
            if anchor is not None:
                event = replace(event, log_index=index)
            self._requests[request.id] = request
            self._events[request.id] = [event]

    def advance_request(
        self, request: SharingRequest, event: SharingEvent, anchor: Anchor | None = None
    ) -> None:
        """Under the store's and the log's lock: ``NotFoundError`` for an unknown id,
        ``ConflictError`` unless the stored event count is one less and the event extends it."""
        with self._lock, routing_memory(self.log, [anchor]), admitting(self.log, anchor) as index:
            stored = self._requests.get(request.id)
            if stored is None:
                raise NotFoundError("no such sharing request", id=request.id)
            if (
                stored.events != request.events - 1
                or event.sequence != stored.events
                or event.request_id != request.id
            ):
                raise ConflictError("the request changed meanwhile; retry", id=request.id)
            if anchor is not None:
                event = replace(event, log_index=index)
            self._requests[request.id] = request
            self._events[request.id] = [*self._events[request.id], event]

    def get_request(self, request_id: str) -> SharingRequest:
        """The request with that id; ``NotFoundError`` if none."""
        with self._lock:
            try:
                return self._requests[request_id]
            except KeyError:
                raise NotFoundError("no such sharing request", id=request_id) from None

    def request_ids(self) -> list[str]:
        """Every request id, sorted."""
        with self._lock:
            return sorted(self._requests)

    def request_events(self, request_id: str) -> list[SharingEvent]:
        """A copy of the request's events by sequence (empty for an unknown id)."""
        with self._lock:
            return list(self._events.get(request_id, []))

    def requests_about(self, subject: str) -> list[SharingRequest]:
        """Requests whose subject is ``subject``, oldest ``created`` first (ties by id)."""
        with self._lock:
            found = [r for r in self._requests.values() if r.subject == subject]
        return sorted(found, key=lambda r: (r.created, r.id))

    def requests_of_agency(self, agency: str) -> list[SharingRequest]:
        """Requests the agency made or holds, oldest ``created`` first (ties by id)."""
        with self._lock:
            found = [r for r in self._requests.values() if agency in (r.requester, r.holder)]
        return sorted(found, key=lambda r: (r.created, r.id))

    def sharing_counts(self) -> dict[str, int]:
        """``requests``, ``state:<s>`` and ``event:<kind>`` counters, counted under the lock (a
        state or kind with no request is absent)."""
        with self._lock:
            counts: Counter[str] = Counter()
            counts["requests"] = len(self._requests)
            for request in self._requests.values():
                counts[f"state:{request.state}"] += 1
            for events in self._events.values():
                for event in events:
                    counts[f"event:{event.kind}"] += 1
        return dict(counts)
