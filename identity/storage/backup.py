"""Consistent online backups of the SQLite and Redis backends, and their restores.

* **SQLite**: the databases (records and log, separate files) are attached to one
  connection and read in one transaction, so every file is copied from the same moment
  (WAL snapshot) while the service keeps writing; each is copied with SQLite's online
  backup API (sqlite.org/backup.html), page by page, into a fresh database file.
* **Redis**: one Lua script lists the namespace's keys and ``DUMP``\\ s each with its
  remaining TTL. A script runs atomically (no other command in between), so the export
  is one consistent moment; it blocks the server for its duration (about a second per
  few hundred thousand keys). A restore ``RESTORE``\\ s every key in one MULTI/EXEC into
  an empty namespace: all of it or nothing. One Redis node only (not Redis Cluster).
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import redis

from identity.errors import ConflictError, MalformedValueError, UnavailableError

_EXPORT = """
local keys = redis.call('KEYS', ARGV[1] .. '*')
local out = {}
for _, key in ipairs(keys) do
  out[#out + 1] = key
  out[#out + 1] = redis.call('PTTL', key)
  out[#out + 1] = redis.call('DUMP', key)
end
return out
"""


def sqlite_backup(sources: Mapping[str, Path], target: Path) -> dict[str, Path]:
    """Copy each database of ``sources`` (name -> file) to ``target/<file name>`` from one
    snapshot; return name -> written file. ``target`` must not hold those files yet."""
    names = list(sources)
    written = {name: target / sources[name].name for name in names}
    for path in written.values():
        if path.exists():
            raise ConflictError(f"{path} already exists", path=str(path))
    target.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(sources[names[0]], isolation_level=None)
    try:
        schemas = {names[0]: "main"}
        for i, name in enumerate(names[1:]):
            schemas[name] = f"db{i}"
            src.execute("ATTACH DATABASE ? AS " + schemas[name], (str(sources[name]),))
        src.execute("BEGIN")
        for schema in schemas.values():  # start the read snapshot on every file now
            src.execute(f"SELECT count(*) FROM {schema}.sqlite_master").fetchone()  # noqa: S608
        for name, schema in schemas.items():
            partial = written[name].with_name(written[name].name + ".partial")
            partial.unlink(missing_ok=True)
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst, name=schema)
            finally:
                dst.close()
            os.replace(partial, written[name])
        src.execute("COMMIT")
    except sqlite3.Error as exc:
        raise UnavailableError(f"SQLite backup failed: {exc}") from exc
    finally:
        src.close()
    return written


def sqlite_restore(backup_file: Path, target: Path, *, replace: bool = False) -> None:
    """Put ``backup_file`` in place as ``target`` (whole, in one rename). An existing
    ``target`` is refused unless ``replace``; its WAL files go with it."""
    if target.exists() and not replace:
        raise ConflictError(
            f"{target} exists; move it away or pass --replace (stop the service first)",
            path=str(target),
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(backup_file)
    dst = sqlite3.connect(partial)
    try:
        check = src.execute("PRAGMA integrity_check").fetchone()
        if check is None or check[0] != "ok":
            raise MalformedValueError(f"{backup_file} fails SQLite's integrity check")
        src.backup(dst)
    except sqlite3.Error as exc:
        raise MalformedValueError(f"{backup_file} is not a usable SQLite file: {exc}") from exc
    finally:
        src.close()
        dst.close()
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(partial, target)


def redis_export(client: redis.Redis, prefix: str, out: Path) -> int:
    """Write every key under ``prefix`` to ``out`` (JSON lines: key, TTL, DUMP, base64) from
    one atomic moment; return the number of keys."""
    try:
        flat = client.eval(_EXPORT, 0, prefix)
    except redis.RedisError as exc:
        raise UnavailableError(f"Redis export failed: {exc}") from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    count = 0
    with partial.open("w", encoding="ascii") as fh:
        for i in range(0, len(flat), 3):
            key, ttl, dump = flat[i], int(flat[i + 1]), flat[i + 2]
            line = {"key": _b64(key), "ttl": ttl if ttl > 0 else 0, "dump": _b64(dump)}
            fh.write(json.dumps(line) + "\n")
            count += 1
    os.replace(partial, out)
    return count


def _b64(value: bytes | str) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode()


def read_export(path: Path) -> Iterator[tuple[bytes, int, bytes]]:
    """(key, TTL in ms or 0, DUMP payload) per line of a :func:`redis_export` file."""
    with path.open(encoding="ascii") as fh:
        for number, text in enumerate(fh, start=1):
            try:
                item: dict[str, Any] = json.loads(text)
                yield (
                    base64.b64decode(item["key"], validate=True),
                    int(item["ttl"]),
                    base64.b64decode(item["dump"], validate=True),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise MalformedValueError(f"{path} line {number} is not an export line") from exc


def redis_restore(client: redis.Redis, from_prefix: str, to_prefix: str, path: Path) -> int:
    """RESTORE every key of the export at ``path`` (renamed ``from_prefix`` ->
    ``to_prefix``) in one transaction; refuse a namespace that holds any key."""
    try:
        if next(iter(client.scan_iter(match=to_prefix + "*", count=1000)), None) is not None:
            raise ConflictError(
                f"the Redis namespace {to_prefix!r} is not empty; restore needs an empty one",
                prefix=to_prefix,
            )
        pipe = client.pipeline(transaction=True)
        count = 0
        old = from_prefix.encode()
        for key, ttl, dump in read_export(path):
            if not key.startswith(old):
                raise MalformedValueError(f"{path} holds a key outside {from_prefix!r}")
            pipe.restore(to_prefix.encode() + key[len(old) :], ttl, dump)
            count += 1
        pipe.execute()
    except redis.ResponseError as exc:
        raise MalformedValueError(f"Redis refused the restore: {exc}") from exc
    except redis.RedisError as exc:
        raise UnavailableError(f"Redis restore failed: {exc}") from exc
    return count
