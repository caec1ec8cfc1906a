"""SQLite credential types and accreditations (tables ``credential_types``, ``accreditations``).

A record family of :class:`~identity.storage.sqlite.SqliteStore`, whose module states the
contract: each public write here is one ``BEGIN IMMEDIATE`` transaction, so a rejected
call (conflict, not found) writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import datetime
from typing import Any

from identity.errors import ConflictError, NotFoundError
from identity.registry.accreditation import Accreditation
from identity.registry.types import CredentialType
from identity.storage.sqlite_base import SqliteRecords, bump_trust_version
from identity.stores import Anchor


class SqliteRegistry(SqliteRecords):
    """The registry: credential types, and which issuer is accredited for which."""

    def create_type(self, credential_type: CredentialType, anchor: Anchor | None = None) -> None:
        """In the act's ``BEGIN IMMEDIATE`` transaction: insert into ``credential_types`` and
        bump the trust version; ``ConflictError`` for a name already registered."""
        created = credential_type.created.isoformat() if credential_type.created else None
        with self._anchored(anchor) as (db, _):
            try:
                db.execute(
                    "INSERT INTO credential_types VALUES (?, ?, ?)",
                    (credential_type.name, json.dumps(credential_type.to_json()), created),
                )
            except sqlite3.IntegrityError as exc:
                raise ConflictError("credential type already registered") from exc
            bump_trust_version(db)

    def find_type(self, name: str) -> CredentialType | None:
        """The type of that name, or ``None``."""
        rows = self._read(
            "SELECT definition, created FROM credential_types WHERE name = ?", (name,)
        )
        return _type(rows[0]) if rows else None

    def list_types(self) -> list[CredentialType]:
        """Every credential type, sorted by name."""
        rows = self._read("SELECT definition, created FROM credential_types ORDER BY name")
        return [_type(r) for r in rows]

    def add_accreditation(self, accreditation: Accreditation, anchor: Anchor | None = None) -> None:
        """In the act's ``BEGIN IMMEDIATE`` transaction: insert into ``accreditations`` and bump
        the trust version; ``ConflictError`` for an id already there."""
        with self._anchored(anchor) as (db, _):
            try:
                db.execute(
                    "INSERT INTO accreditations VALUES (?, ?, ?)",
                    (
                        accreditation.id,
                        accreditation.issuer_id,
                        json.dumps(accreditation.to_json()),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise ConflictError("accreditation id already exists") from exc
            bump_trust_version(db)

    def get_accreditation(self, accreditation_id: str) -> Accreditation:
        """The accreditation with that id; ``NotFoundError`` if none."""
        rows = self._read("SELECT record FROM accreditations WHERE id = ?", (accreditation_id,))
        if not rows:
            raise NotFoundError("no such accreditation", id=accreditation_id)
        return Accreditation.from_json(json.loads(rows[0][0]))

    def accreditations_of(self, issuer_id: str) -> list[Accreditation]:
        """The issuer's accreditations, oldest ``created`` first (ties by id)."""
        rows = self._read("SELECT record FROM accreditations WHERE issuer_id = ?", (issuer_id,))
        found = [Accreditation.from_json(json.loads(r[0])) for r in rows]
        return sorted(found, key=lambda a: (a.created, a.id))

    def revoke_accreditation(
        self, accreditation_id: str, at: datetime, anchor: Anchor | None = None
    ) -> Accreditation:
        """In the act's ``BEGIN IMMEDIATE`` transaction: set ``revoked_at`` and bump the trust
        version. ``NotFoundError`` for an unknown id; revoking a revoked one returns it
        unchanged, or ``ConflictError`` when an anchor asks to log the act again."""
        with self._anchored(anchor) as (db, _):
            row = db.execute(
                "SELECT record FROM accreditations WHERE id = ?", (accreditation_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError("no such accreditation", id=accreditation_id)
            current = Accreditation.from_json(json.loads(row[0]))
            if current.revoked_at is not None and anchor is not None:
                raise ConflictError("the accreditation is already revoked", id=accreditation_id)
            if current.revoked_at is None:
                current = replace(current, revoked_at=at)
                db.execute(
                    "UPDATE accreditations SET record = ? WHERE id = ?",
                    (json.dumps(current.to_json()), accreditation_id),
                )
                bump_trust_version(db)
            return current


def _type(row: tuple[Any, ...]) -> CredentialType:
    created = datetime.fromisoformat(row[1]) if row[1] else None
    return CredentialType.from_json(json.loads(row[0]), created)
