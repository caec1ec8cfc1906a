"""SQLite presentation requests: table ``oid4vp_requests`` in the service's database;
:meth:`advance` is one ``UPDATE … WHERE status = ?`` (compare-and-set)."""

from __future__ import annotations

import sqlite3

from identity.errors import ConflictError
from identity.oid4vp.requests import PresentationRequest, Status
from identity.storage.sqlite_base import SqliteRecords

SCHEMA = """
CREATE TABLE IF NOT EXISTS oid4vp_requests (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    record TEXT NOT NULL
);
"""


class SqlitePresentationRequestStore(SqliteRecords):
    """:class:`~identity.oid4vp.requests.PresentationRequestStore` in SQLite."""

    SCHEMA = SCHEMA

    def create(self, request: PresentationRequest) -> None:
        with self._write() as db:
            try:
                db.execute(
                    "INSERT INTO oid4vp_requests VALUES (?, ?, ?)",
                    (request.id, request.status, request.to_json()),
                )
            except sqlite3.IntegrityError:
                raise ConflictError("presentation request exists", id=request.id) from None

    def get(self, request_id: str) -> PresentationRequest | None:
        rows = self._read("SELECT record FROM oid4vp_requests WHERE id = ?", (request_id,))
        return PresentationRequest.from_json(rows[0][0]) if rows else None

    def advance(self, request: PresentationRequest, expected: Status) -> bool:
        with self._write() as db:
            cursor = db.execute(
                "UPDATE oid4vp_requests SET status = ?, record = ? WHERE id = ? AND status = ?",
                (request.status, request.to_json(), request.id, expected),
            )
            return cursor.rowcount == 1
