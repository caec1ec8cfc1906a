"""SQLite presentation requests: table ``oid4vp_requests`` in the service's database;
:meth:`advance` and :meth:`refuse` each read and write in one write transaction
(compare-and-set on ``status``)."""

from __future__ import annotations

import sqlite3
from typing import Any

from identity.errors import ConflictError
from identity.oid4vp.requests import KEEP_REFUSALS, PresentationRequest, Status
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
        """Insert the row of ``oid4vp_requests``; ``ConflictError`` for an id already there."""
        with self._write() as db:
            try:
                db.execute(
                    "INSERT INTO oid4vp_requests VALUES (?, ?, ?)",
                    (request.id, request.status, request.to_json()),
                )
            except sqlite3.IntegrityError:
                raise ConflictError("presentation request exists", id=request.id) from None

    def get(self, request_id: str) -> PresentationRequest | None:
        """The request with that id (its JSON ``record``), or ``None``."""
        rows = self._read("SELECT record FROM oid4vp_requests WHERE id = ?", (request_id,))
        return PresentationRequest.from_json(rows[0][0]) if rows else None

    def advance(self, request: PresentationRequest, expected: Status) -> bool:
        """In one ``BEGIN IMMEDIATE`` transaction: ``False`` unless the row's ``status`` is
        ``expected``; else write ``request`` keeping the refusals stored meanwhile."""
        with self._write() as db:
            row = db.execute(
                "SELECT record FROM oid4vp_requests WHERE id = ? AND status = ?",
                (request.id, expected),
            ).fetchone()
            if row is None:
                return False
            stepped = request.with_refusals_of(PresentationRequest.from_json(row[0]))
            db.execute(
                "UPDATE oid4vp_requests SET status = ?, record = ? WHERE id = ?",
                (stepped.status, stepped.to_json(), request.id),
            )
            return True

    def refuse(self, request_id: str, refusal: dict[str, Any], keep: int = KEEP_REFUSALS) -> bool:
        """In one ``BEGIN IMMEDIATE`` transaction: append ``refusal`` to the stored record
        (the last ``keep`` kept); ``False`` for an unknown or already answered request."""
        with self._write() as db:
            row = db.execute(
                "SELECT record FROM oid4vp_requests WHERE id = ? AND status != 'answered'",
                (request_id,),
            ).fetchone()
            if row is None:
                return False
            refused = PresentationRequest.from_json(row[0]).refused(refusal, keep)
            db.execute(
                "UPDATE oid4vp_requests SET record = ? WHERE id = ?",
                (refused.to_json(), request_id),
            )
            return True
