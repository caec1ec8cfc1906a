"""SQLite :class:`~identity.directory_store.DirectoryStore`: the directory chain's records.

Tables ``did_operations``, ``catalog_versions``, ``sharing_requests`` and
``sharing_events`` (no name shared with :class:`~identity.storage.sqlite.SqliteStore` or
the log store), so the store can live in the same file as the service's other records.
Connections, durability and transactions are those of :mod:`identity.storage.sqlite`:
one connection per thread, WAL, ``synchronous=FULL`` by default, and each write is one
``BEGIN IMMEDIATE`` transaction whose compare-and-swap check reads inside it, so two
writers (threads or processes) naming the same sequence number cannot both succeed.
Any ``sqlite3`` failure, including one after ``BEGIN``, is :class:`UnavailableError`
(the transaction is rolled back first).

Datetimes are stored as ISO 8601 text and read back with their offset and microseconds.
List queries order in Python with the memory store's keys, so ties and offsets sort the
same way on every backend.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import datetime
from typing import Any

from identity.directory_store import (
    CatalogRecord,
    DidOperationRecord,
    SharingEvent,
    SharingRequest,
)
from identity.errors import ConflictError, NotFoundError
from identity.storage.sqlite_base import SqliteRecords
from identity.stores import Anchor

SCHEMA = """
CREATE TABLE IF NOT EXISTS did_operations (
    did TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    operation TEXT NOT NULL,
    time TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    PRIMARY KEY (did, sequence)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS catalog_versions (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    publisher TEXT NOT NULL,
    entry TEXT NOT NULL,
    fields TEXT NOT NULL,
    published TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    PRIMARY KEY (id, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sharing_requests (
    id TEXT PRIMARY KEY,
    requester TEXT NOT NULL,
    holder TEXT NOT NULL,
    subject TEXT NOT NULL,
    resource TEXT NOT NULL,
    state TEXT NOT NULL,
    events INTEGER NOT NULL,
    body TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    consent TEXT,
    consent_expires TEXT,
    exemption TEXT
);
CREATE INDEX IF NOT EXISTS sharing_requests_subject ON sharing_requests(subject);
CREATE INDEX IF NOT EXISTS sharing_requests_requester ON sharing_requests(requester);
CREATE INDEX IF NOT EXISTS sharing_requests_holder ON sharing_requests(holder);
CREATE TABLE IF NOT EXISTS sharing_events (
    request_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    kind TEXT NOT NULL,
    time TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (request_id, sequence)
) WITHOUT ROWID;
"""

_COUNTS = """
SELECT 'requests', COUNT(*) FROM sharing_requests
UNION ALL SELECT 'state:' || state, COUNT(*) FROM sharing_requests GROUP BY state
UNION ALL SELECT 'event:' || kind, COUNT(*) FROM sharing_events GROUP BY kind
"""


class SqliteDirectoryStore(SqliteRecords):
    """DID operations, catalog versions and sharing requests in one SQLite file."""

    SCHEMA = SCHEMA

    # -- DIDs -----------------------------------------------------------------------------

    def append_did_operation(
        self, record: DidOperationRecord, anchor: Anchor | None = None
    ) -> None:
        """In the act's ``BEGIN IMMEDIATE`` transaction (with its log entry): the CAS reads the
        DID's row count in ``did_operations`` inside it, so ``ConflictError`` unless
        ``record.sequence`` equals it; the stored ``log_index`` is the anchor's index."""
        with self._anchored(anchor) as (db, index):
            (stored,) = db.execute(
                "SELECT COUNT(*) FROM did_operations WHERE did = ?", (record.did,)
            ).fetchone()
            if record.sequence != stored:
                raise ConflictError(
                    "the DID changed since this operation was made",
                    did=record.did,
                    expected=stored,
                )
            db.execute(
                "INSERT INTO did_operations VALUES (?, ?, ?, ?, ?)",
                (
                    record.did,
                    record.sequence,
                    record.operation,
                    record.time.isoformat(),
                    record.log_index if index is None else index,
                ),
            )

    def did_operations(self, did: str) -> list[DidOperationRecord]:
        """The DID's rows of ``did_operations`` by ``sequence`` (empty for an unknown DID)."""
        rows = self._read("SELECT * FROM did_operations WHERE did = ? ORDER BY sequence", (did,))
        return [DidOperationRecord(r[0], r[1], r[2], _time(r[3]), r[4]) for r in rows]

    def dids(self) -> list[str]:
        """Every DID with an operation, sorted, from ``did_operations``."""
        return [r[0] for r in self._read("SELECT DISTINCT did FROM did_operations ORDER BY did")]

    # -- catalog --------------------------------------------------------------------------

    def add_catalog_version(self, record: CatalogRecord, anchor: Anchor | None = None) -> None:
        """In the act's ``BEGIN IMMEDIATE`` transaction: ``ConflictError`` when version 1 of the
        id has another publisher, or unless ``record.version`` is the stored count plus one."""
        with self._anchored(anchor) as (db, index):
            first = db.execute(
                "SELECT publisher FROM catalog_versions WHERE id = ? AND version = 1",
                (record.id,),
            ).fetchone()
            if first is not None and first[0] != record.publisher:
                raise ConflictError("another agency publishes this catalog id", id=record.id)
            (stored,) = db.execute(
                "SELECT COUNT(*) FROM catalog_versions WHERE id = ?", (record.id,)
            ).fetchone()
            if record.version != stored + 1:
                raise ConflictError(
                    "the catalog entry changed since this version was made",
                    id=record.id,
                    expected=stored + 1,
                )
            db.execute(
                "INSERT INTO catalog_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.version,
                    record.publisher,
                    record.entry,
                    json.dumps(list(record.fields)),
                    record.published.isoformat(),
                    record.log_index if index is None else index,
                ),
            )

    def catalog_versions(self, entry_id: str) -> list[CatalogRecord]:
        """The id's rows of ``catalog_versions`` by ``version`` (empty for an unknown id)."""
        rows = self._read(
            "SELECT * FROM catalog_versions WHERE id = ? ORDER BY version", (entry_id,)
        )
        return [_catalog(r) for r in rows]

    def latest_catalog(self) -> list[CatalogRecord]:
        """The highest version of every catalog id (one snapshot read), sorted by id."""
        rows = self._read(
            "SELECT c.* FROM catalog_versions c JOIN "
            "(SELECT id, MAX(version) AS latest FROM catalog_versions GROUP BY id) m "
            "ON c.id = m.id AND c.version = m.latest"
        )
        return sorted((_catalog(r) for r in rows), key=lambda c: c.id)

    # -- sharing --------------------------------------------------------------------------

    def create_request(
        self, request: SharingRequest, event: SharingEvent, anchor: Anchor | None = None
    ) -> None:
        """In the act's ``BEGIN IMMEDIATE`` transaction: insert the row of ``sharing_requests``
        and event 0 of ``sharing_events``. ``ConflictError`` for an id already there or a
        first event that is not sequence 0 of this request."""
        with self._anchored(anchor) as (db, index):
            if db.execute("SELECT 1 FROM sharing_requests WHERE id = ?", (request.id,)).fetchone():
                raise ConflictError("sharing request id already exists", id=request.id)
            if request.events != 1 or event.sequence != 0 or event.request_id != request.id:
                raise ConflictError("a new request starts with its event 0", id=request.id)
            db.execute(
                "INSERT INTO sharing_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _request_row(request),
            )
            _insert_event(db, event if index is None else replace(event, log_index=index))

    def advance_request(
        self, request: SharingRequest, event: SharingEvent, anchor: Anchor | None = None
    ) -> None:
        """In the act's ``BEGIN IMMEDIATE`` transaction: CAS on the stored ``events`` count
        (``ConflictError`` unless it is ``request.events - 1`` and the event's sequence),
        then update the row and insert the event. ``NotFoundError`` for an unknown id."""
        with self._anchored(anchor) as (db, index):
            row = db.execute(
                "SELECT events FROM sharing_requests WHERE id = ?", (request.id,)
            ).fetchone()
            if row is None:
                raise NotFoundError("no such sharing request", id=request.id)
            stored: int = row[0]
            if (
                stored != request.events - 1
                or event.sequence != stored
                or event.request_id != request.id
            ):
                raise ConflictError("the request changed meanwhile; retry", id=request.id)
            values = _request_row(request)
            db.execute(
                "UPDATE sharing_requests SET requester = ?, holder = ?, subject = ?, "
                "resource = ?, state = ?, events = ?, body = ?, created = ?, updated = ?, "
                "consent = ?, consent_expires = ?, exemption = ? WHERE id = ?",
                (*values[1:], request.id),
            )
            _insert_event(db, event if index is None else replace(event, log_index=index))

    def get_request(self, request_id: str) -> SharingRequest:
        """The row of ``sharing_requests``; ``NotFoundError`` if none."""
        rows = self._read("SELECT * FROM sharing_requests WHERE id = ?", (request_id,))
        if not rows:
            raise NotFoundError("no such sharing request", id=request_id)
        return _request(rows[0])

    def request_ids(self) -> list[str]:
        """Every request id, sorted."""
        return [r[0] for r in self._read("SELECT id FROM sharing_requests ORDER BY id")]

    def request_events(self, request_id: str) -> list[SharingEvent]:
        """The request's rows of ``sharing_events`` by ``sequence`` (empty for an unknown id)."""
        rows = self._read(
            "SELECT * FROM sharing_events WHERE request_id = ? ORDER BY sequence", (request_id,)
        )
        return [SharingEvent(r[0], r[1], r[2], _time(r[3]), r[4], r[5]) for r in rows]

    def requests_about(self, subject: str) -> list[SharingRequest]:
        """Requests whose subject is ``subject``, oldest ``created`` first (ties by id)."""
        rows = self._read("SELECT * FROM sharing_requests WHERE subject = ?", (subject,))
        return _oldest_first(rows)

    def requests_of_agency(self, agency: str) -> list[SharingRequest]:
        """Requests the agency made or holds, oldest ``created`` first (ties by id)."""
        rows = self._read(
            "SELECT * FROM sharing_requests WHERE requester = ? OR holder = ?", (agency, agency)
        )
        return _oldest_first(rows)

    def sharing_counts(self) -> dict[str, int]:
        """One statement, so one snapshot: the per-state counts add up to ``requests``."""
        return {name: int(count) for name, count in self._read(_COUNTS)}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _optional_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _catalog(r: tuple[Any, ...]) -> CatalogRecord:
    return CatalogRecord(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), _time(r[5]), r[6])


def _request_row(r: SharingRequest) -> tuple[Any, ...]:
    expires = None if r.consent_expires is None else r.consent_expires.isoformat()
    return (
        r.id,
        r.requester,
        r.holder,
        r.subject,
        r.resource,
        r.state,
        r.events,
        r.body,
        r.created.isoformat(),
        r.updated.isoformat(),
        r.consent,
        expires,
        r.exemption,
    )


def _request(r: tuple[Any, ...]) -> SharingRequest:
    return SharingRequest(
        id=r[0],
        requester=r[1],
        holder=r[2],
        subject=r[3],
        resource=r[4],
        state=r[5],
        events=r[6],
        body=r[7],
        created=_time(r[8]),
        updated=_time(r[9]),
        consent=r[10],
        consent_expires=_optional_time(r[11]),
        exemption=r[12],
    )


def _oldest_first(rows: list[tuple[Any, ...]]) -> list[SharingRequest]:
    return sorted((_request(r) for r in rows), key=lambda r: (r.created, r.id))


def _insert_event(db: sqlite3.Connection, e: SharingEvent) -> None:
    db.execute(
        "INSERT INTO sharing_events VALUES (?, ?, ?, ?, ?, ?)",
        (e.request_id, e.sequence, e.kind, e.time.isoformat(), e.log_index, e.record),
    )
