"""SQLite backend, the embedded default (stdlib ``sqlite3``, WAL journal).

Durability: ``synchronous=FULL`` (the default here) fsyncs the WAL at every commit, so a
write that returned survives power loss; ``NORMAL`` survives a crash of the process but
may lose the last transactions on power loss. Each public write is one transaction
(``BEGIN IMMEDIATE`` … ``COMMIT``), so a failed call leaves nothing behind.

One connection per thread: SQLite connections must not be shared across threads, and WAL
lets readers proceed while one writer commits.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from identity.credentials.status import with_bit
from identity.errors import ConflictError, InvalidChallengeError, NotFoundError, UnavailableError
from identity.registry.accreditation import Accreditation
from identity.registry.types import CredentialType
from identity.stores import (
    ApiKeyRecord,
    CredentialRecord,
    IssuerRecord,
    StatusListRecord,
    new_group_id,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS issuers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    did TEXT NOT NULL UNIQUE,
    sealed_key BLOB NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    issuer_id TEXT REFERENCES issuers(id),
    scopes TEXT NOT NULL,
    created TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    digest BLOB NOT NULL,
    issuer_id TEXT NOT NULL,
    issuer_did TEXT NOT NULL,
    type TEXT NOT NULL,
    subject_id TEXT,
    issued_at TEXT NOT NULL,
    status_index INTEGER,
    log_index INTEGER,
    status_group TEXT
);
CREATE TABLE IF NOT EXISTS status_groups (
    id TEXT PRIMARY KEY,
    issuer_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    taken INTEGER NOT NULL DEFAULT 0,
    open INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS status_lists (
    group_id TEXT NOT NULL REFERENCES status_groups(id),
    purpose TEXT NOT NULL,
    bits BLOB NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, purpose)
);
CREATE TABLE IF NOT EXISTS status_indices (
    group_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (group_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS credential_types (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created TEXT
);
CREATE TABLE IF NOT EXISTS accreditations (
    id TEXT PRIMARY KEY,
    issuer_id TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS accreditations_issuer ON accreditations(issuer_id);
CREATE TABLE IF NOT EXISTS challenges (
    value TEXT PRIMARY KEY,
    expires TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS credentials_subject ON credentials(subject_id);
CREATE INDEX IF NOT EXISTS credentials_digest ON credentials(digest);
"""

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def check_synchronous(mode: str) -> str:
    """``mode`` upper-cased; ValueError unless it is one of :data:`SYNCHRONOUS_MODES`."""
    if mode.upper() not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}")
    return mode.upper()


class ThreadConnections:
    """One connection per thread to ``path`` (autocommit, WAL, ``synchronous``, foreign
    keys, 5 s busy timeout); :meth:`close` closes them all, later calls open new ones."""

    def __init__(self, path: str, synchronous: str) -> None:
        self.path = path
        self.synchronous = synchronous
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={self.synchronous}")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA busy_timeout=5000")
            except sqlite3.Error as exc:
                raise UnavailableError(f"cannot open the SQLite store: {exc}") from exc
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


@contextmanager
def write_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` when the body raises. A busy
    database (``BEGIN`` timed out) is :class:`UnavailableError`; errors of the body and of
    ``COMMIT`` propagate as they are."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise UnavailableError(f"SQLite store is busy: {exc}") from exc
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    else:
        db.execute("COMMIT")


def read_rows(
    db: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """All rows of one statement (one implicit read transaction: a consistent snapshot)."""
    try:
        return db.execute(sql, args).fetchall()
    except sqlite3.Error as exc:
        raise UnavailableError(f"SQLite read failed: {exc}") from exc


class SqliteStore:
    """The service's records in one SQLite file (``<data_dir>/identity.sqlite3``)."""

    def __init__(self, path: Path | str, *, synchronous: str = "FULL") -> None:
        self.path = str(path)
        self.synchronous = check_synchronous(synchronous)
        self._connections = ThreadConnections(self.path, self.synchronous)
        try:
            self._conn().executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise UnavailableError(f"cannot create the SQLite schema: {exc}") from exc

    # -- connections ------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with write_transaction(self._conn()) as db:
            yield db

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return read_rows(self._conn(), sql, args)

    def ping(self) -> None:
        self._read("SELECT 1")

    def close(self) -> None:
        self._connections.close()

    # -- issuers ------------------------------------------------------------------------

    def create_issuer(self, issuer: IssuerRecord, api_key: ApiKeyRecord) -> None:
        with self._write() as db:
            try:
                db.execute(
                    "INSERT INTO issuers VALUES (?, ?, ?, ?, ?)",
                    (
                        issuer.id,
                        issuer.name,
                        issuer.did,
                        issuer.sealed_key,
                        issuer.created.isoformat(),
                    ),
                )
                _insert_key(db, api_key)
            except sqlite3.IntegrityError as exc:
                raise ConflictError("issuer or API key already exists", issuer=issuer.id) from exc

    def get_issuer(self, issuer_id: str) -> IssuerRecord:
        rows = self._read("SELECT * FROM issuers WHERE id = ?", (issuer_id,))
        if not rows:
            raise NotFoundError("no such issuer", issuer=issuer_id)
        return _issuer(rows[0])

    def find_issuer_by_did(self, did: str) -> IssuerRecord | None:
        rows = self._read("SELECT * FROM issuers WHERE did = ?", (did,))
        return _issuer(rows[0]) if rows else None

    def list_issuers(self) -> list[IssuerRecord]:
        return [_issuer(r) for r in self._read("SELECT * FROM issuers ORDER BY created, id")]

    def add_api_key(self, api_key: ApiKeyRecord) -> None:
        with self._write() as db:
            if (
                api_key.issuer_id is not None
                and not db.execute(
                    "SELECT 1 FROM issuers WHERE id = ?", (api_key.issuer_id,)
                ).fetchone()
            ):
                raise NotFoundError("no such issuer", issuer=api_key.issuer_id)
            try:
                _insert_key(db, api_key)
            except sqlite3.IntegrityError as exc:
                raise ConflictError("API key id already exists") from exc

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        rows = self._read("SELECT * FROM api_keys WHERE key_id = ?", (key_id,))
        if not rows:
            return None
        key_id_, secret_hash, issuer_id, scopes, created, revoked = rows[0]
        return ApiKeyRecord(
            key_id_,
            bytes(secret_hash),
            issuer_id,
            frozenset(scopes.split()) if scopes else frozenset(),
            datetime.fromisoformat(created),
            bool(revoked),
        )

    def revoke_api_key(self, key_id: str) -> None:
        with self._write() as db:
            if (
                db.execute("UPDATE api_keys SET revoked = 1 WHERE key_id = ?", (key_id,)).rowcount
                == 0
            ):
                raise NotFoundError("no such API key")

    # -- credentials ----------------------------------------------------------------------

    def put_credential(self, record: CredentialRecord) -> None:
        [outcome] = self.put_credentials([record])
        if outcome is not None:
            raise outcome

    def put_credentials(self, records: Sequence[CredentialRecord]) -> list[ConflictError | None]:
        outcomes: list[ConflictError | None] = []
        with self._write() as db:
            for r in records:
                inserted = db.execute(
                    "INSERT OR IGNORE INTO credentials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        r.id,
                        r.digest,
                        r.issuer_id,
                        r.issuer_did,
                        r.type,
                        r.subject_id,
                        r.issued_at.isoformat(),
                        r.status_index,
                        r.log_index,
                        r.status_group,
                    ),
                ).rowcount
                outcomes.append(
                    None if inserted else ConflictError("credential already recorded", id=r.id)
                )
        return outcomes

    def get_credential(self, credential_id: str) -> CredentialRecord:
        rows = self._read("SELECT * FROM credentials WHERE id = ?", (credential_id,))
        if not rows:
            raise NotFoundError("no such credential", id=credential_id)
        return _credential(rows[0])

    def find_credential(self, credential_id: str) -> CredentialRecord | None:
        rows = self._read("SELECT * FROM credentials WHERE id = ?", (credential_id,))
        return _credential(rows[0]) if rows else None

    def credentials_of_subject(self, subject_id: str) -> list[CredentialRecord]:
        rows = self._read(
            "SELECT * FROM credentials WHERE subject_id = ? ORDER BY issued_at, rowid",
            (subject_id,),
        )
        return [_credential(r) for r in rows]

    def find_credential_by_digest(self, digest: bytes) -> CredentialRecord | None:
        rows = self._read(
            "SELECT * FROM credentials WHERE digest = ? ORDER BY rowid LIMIT 1", (digest,)
        )
        return _credential(rows[0]) if rows else None

    def count_credentials(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM credentials")[0][0])

    # -- status lists -------------------------------------------------------------------

    def reserve_status_indices(
        self,
        issuer_id: str,
        count: int,
        pick: Callable[[int], int],
        size: int,
        purposes: Sequence[str],
    ) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        with self._write() as db:
            while len(out) < count:
                group, group_size = self._open_group(db, issuer_id, size, purposes)
                index = pick(group_size)
                if db.execute(
                    "INSERT OR IGNORE INTO status_indices VALUES (?, ?)", (group, index)
                ).rowcount:
                    db.execute("UPDATE status_groups SET taken = taken + 1 WHERE id = ?", (group,))
                    out.append((group, index))
        return out

    @staticmethod
    def _open_group(
        db: sqlite3.Connection, issuer_id: str, size: int, purposes: Sequence[str]
    ) -> tuple[str, int]:
        row = db.execute(
            "SELECT id, size, taken FROM status_groups WHERE issuer_id = ? AND open = 1",
            (issuer_id,),
        ).fetchone()
        if row is not None and row[2] * 2 < row[1]:
            return str(row[0]), int(row[1])
        if row is not None:
            db.execute("UPDATE status_groups SET open = 0 WHERE id = ?", (row[0],))
        count = db.execute("SELECT COUNT(*) FROM status_groups").fetchone()[0]
        group = new_group_id(issuer_id, count)
        db.execute(
            "INSERT INTO status_groups (id, issuer_id, size) VALUES (?, ?, ?)",
            (group, issuer_id, size),
        )
        for purpose in purposes:
            db.execute(
                "INSERT INTO status_lists VALUES (?, ?, ?, 0)", (group, purpose, bytes(size // 8))
            )
        return group, size

    def get_status_list(self, group: str, purpose: str) -> StatusListRecord:
        rows = self._read(
            "SELECT l.bits, l.version, g.issuer_id FROM status_lists l "
            "JOIN status_groups g ON g.id = l.group_id WHERE l.group_id = ? AND l.purpose = ?",
            (group, purpose),
        )
        if not rows:
            raise NotFoundError("no such status list", group=group, purpose=purpose)
        bits, version, issuer_id = rows[0]
        return StatusListRecord(group, purpose, issuer_id, bytes(bits), int(version))

    def status_list_version(self, group: str, purpose: str) -> int:
        rows = self._read(
            "SELECT version FROM status_lists WHERE group_id = ? AND purpose = ?", (group, purpose)
        )
        if not rows:
            raise NotFoundError("no such status list", group=group, purpose=purpose)
        return int(rows[0][0])

    def set_status(self, group: str, purpose: str, index: int, value: bool) -> int:
        with self._write() as db:
            row = db.execute(
                "SELECT l.bits, l.version FROM status_lists l JOIN status_indices i "
                "ON i.group_id = l.group_id AND i.idx = ? WHERE l.group_id = ? AND l.purpose = ?",
                (index, group, purpose),
            ).fetchone()
            if row is None:
                raise NotFoundError("no such status list entry", group=group, index=index)
            bits, version = with_bit(bytes(row[0]), index, value), int(row[1])
            if bits is None:
                return version
            db.execute(
                "UPDATE status_lists SET bits = ?, version = ? WHERE group_id = ? AND purpose = ?",
                (bits, version + 1, group, purpose),
            )
            return version + 1

    # -- registry -------------------------------------------------------------------------

    def create_type(self, credential_type: CredentialType) -> None:
        created = credential_type.created.isoformat() if credential_type.created else None
        with self._write() as db:
            try:
                db.execute(
                    "INSERT INTO credential_types VALUES (?, ?, ?)",
                    (credential_type.name, json.dumps(credential_type.to_json()), created),
                )
            except sqlite3.IntegrityError as exc:
                raise ConflictError("credential type already registered") from exc

    def find_type(self, name: str) -> CredentialType | None:
        rows = self._read(
            "SELECT definition, created FROM credential_types WHERE name = ?", (name,)
        )
        return _type(rows[0]) if rows else None

    def list_types(self) -> list[CredentialType]:
        rows = self._read("SELECT definition, created FROM credential_types ORDER BY name")
        return [_type(r) for r in rows]

    def add_accreditation(self, accreditation: Accreditation) -> None:
        with self._write() as db:
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

    def get_accreditation(self, accreditation_id: str) -> Accreditation:
        rows = self._read("SELECT record FROM accreditations WHERE id = ?", (accreditation_id,))
        if not rows:
            raise NotFoundError("no such accreditation", id=accreditation_id)
        return Accreditation.from_json(json.loads(rows[0][0]))

    def accreditations_of(self, issuer_id: str) -> list[Accreditation]:
        rows = self._read("SELECT record FROM accreditations WHERE issuer_id = ?", (issuer_id,))
        found = [Accreditation.from_json(json.loads(r[0])) for r in rows]
        return sorted(found, key=lambda a: (a.created, a.id))

    def revoke_accreditation(self, accreditation_id: str, at: datetime) -> Accreditation:
        with self._write() as db:
            row = db.execute(
                "SELECT record FROM accreditations WHERE id = ?", (accreditation_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError("no such accreditation", id=accreditation_id)
            current = Accreditation.from_json(json.loads(row[0]))
            if current.revoked_at is None:
                current = replace(current, revoked_at=at)
                db.execute(
                    "UPDATE accreditations SET record = ? WHERE id = ?",
                    (json.dumps(current.to_json()), accreditation_id),
                )
            return current

    # -- challenges -----------------------------------------------------------------------

    def create_challenge(self, value: str, expires: datetime) -> None:
        with self._write() as db:
            try:
                db.execute("INSERT INTO challenges VALUES (?, ?)", (value, expires.isoformat()))
            except sqlite3.IntegrityError as exc:
                raise ConflictError("challenge already exists") from exc

    def consume_challenge(self, value: str, now: datetime) -> None:
        with self._write() as db:
            row = db.execute(
                "DELETE FROM challenges WHERE value = ? RETURNING expires", (value,)
            ).fetchone()
        if row is None:
            raise InvalidChallengeError("challenge unknown or already used", reason="unknown")
        if now > datetime.fromisoformat(row[0]):
            raise InvalidChallengeError("challenge expired", reason="expired")


def _type(row: tuple[Any, ...]) -> CredentialType:
    created = datetime.fromisoformat(row[1]) if row[1] else None
    return CredentialType.from_json(json.loads(row[0]), created)


def _insert_key(db: sqlite3.Connection, key: ApiKeyRecord) -> None:
    db.execute(
        "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?)",
        (
            key.key_id,
            key.secret_hash,
            key.issuer_id,
            " ".join(sorted(key.scopes)),
            key.created.isoformat(),
            int(key.revoked),
        ),
    )


def _issuer(row: tuple[Any, ...]) -> IssuerRecord:
    return IssuerRecord(row[0], row[1], row[2], bytes(row[3]), datetime.fromisoformat(row[4]))


def _credential(row: tuple[Any, ...]) -> CredentialRecord:
    return CredentialRecord(
        id=row[0],
        digest=bytes(row[1]),
        issuer_id=row[2],
        issuer_did=row[3],
        type=row[4],
        subject_id=row[5],
        issued_at=datetime.fromisoformat(row[6]),
        status_index=row[7],
        log_index=row[8],
        status_group=row[9],
    )
