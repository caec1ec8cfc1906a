"""``identity backup DIR`` and ``identity restore DIR``: the configured store, whole.

A backup folder holds the copied data and ``manifest.json`` (backend, files with their
SHA-256, Redis prefix, the log's size and root at the moment of the backup). It holds
no secret: keep ``IDENTITY_MASTER_SECRET`` (in development ``data/master.key``) with it,
or the restored store cannot be opened (the log is signed with a key derived from it).

A restore refuses a target that holds data (SQLite files that exist, unless
``--replace``; a Redis namespace with any key), puts the data in place, then verifies
it: the log's start-up checks (stored tree against its signed checkpoint, origin and
key), and the auditor replaying every entry and tile of the restored log. Exit code 1
when the restored data does not verify.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from service.cli_common import (
    EXIT_FAULTS,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    fail,
    quiet_development_warnings,
    run,
)
from service.settings import Settings

FORMAT = "identity-backup/1"
REDIS_FILE = "redis.jsonl"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file at ``path``, read 1 MiB at a time (never whole into memory):
    what the backup manifest records per file and checks on restore."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sqlite_files(settings: Settings) -> dict[str, Path]:
    """The SQLite databases of the settings: the records, which also hold the log (its
    entries commit in the acts' own transactions), and the directory chain."""
    # The path only: service.storage.sqlite_path would create the file (owner-only),
    # and a restore refuses a target that exists.
    return {"records": Path(settings.resolved_storage_url.removeprefix("sqlite:///"))}


def _redis_client(settings: Settings) -> Any:
    import redis

    return redis.Redis.from_url(
        settings.resolved_storage_url, socket_timeout=max(settings.redis_timeout_s, 30.0)
    )


def _backend(settings: Settings) -> str:
    url = settings.resolved_storage_url
    if url.startswith("sqlite:///"):
        return "sqlite"
    if url.startswith(("redis://", "rediss://")):
        return "redis"
    scheme = url.partition("://")[0]
    if scheme in ("redis+cluster", "rediss+cluster"):
        fail(
            "backup and restore do not cover a Redis Cluster store: back up the cluster "
            "itself (each master's AOF or RDB, e.g. redis-cli --cluster call HOST:PORT "
            "BGSAVE) and restore it as a whole; `identity log verify` and "
            "`identity log reconcile` check the result",
            EXIT_INVALID,
        )
    fail(f"backup and restore need a SQLite or Redis store, not {scheme}://", EXIT_INVALID)


@dataclass(frozen=True, slots=True)
class Verified:
    """What a restore verification established."""

    size: int
    root: str
    tiles: int


async def verify_log(settings: Settings) -> Verified:
    """Start the configured log (its own consistency checks), then audit every entry and
    tile of it with the independent auditor; raise on the first fault."""
    from identity.log.auditor import AuditState, audit_log
    from service.log import build_log

    log = build_log(settings, settings.master_secret_bytes())
    try:
        await log.start()
        await log.stop()
        reader = log.reader

        class Source:
            def checkpoint(self) -> bytes:
                return reader.checkpoint().note

            def tile(self, path: str) -> bytes:
                return reader.tile(path).data

        report = audit_log(Source(), log.signer.verifier, AuditState(), log.origin)
    finally:
        log.store.close()
    checkpoint = report.checkpoint.checkpoint
    return Verified(checkpoint.size, checkpoint.root.hex(), report.tiles_checked)


def backup(
    folder: Annotated[Path, typer.Argument(help="A new folder for the backup.")],
) -> None:
    """Back up the configured store while the service runs (a consistent snapshot)."""
    from identity.storage.backup import redis_export, sqlite_backup

    quiet_development_warnings()
    settings = Settings()
    backend = _backend(settings)
    if folder.exists() and any(folder.iterdir()):
        fail(f"{folder} is not empty; back up into a new folder", EXIT_INVALID)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "backend": backend,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "logOrigin": settings.log_origin,
    }

    async def main() -> dict[str, Path]:
        if backend == "sqlite":
            sources = sqlite_files(settings)
            if not sources["records"].exists():
                fail(f"no database at {sources['records']}: nothing to back up", EXIT_NOT_FOUND)
            return sqlite_backup({k: v for k, v in sources.items() if v.exists()}, folder)
        client = _redis_client(settings)
        try:
            manifest["prefix"] = settings.redis_prefix
            manifest["keys"] = redis_export(client, settings.redis_prefix, folder / REDIS_FILE)
        finally:
            client.close()
        return {"redis": folder / REDIS_FILE}

    written = run(main)
    manifest["files"] = {
        name: {"file": path.name, "sha256": sha256_file(path)} for name, path in written.items()
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    typer.echo(
        f"backed up {backend} store to {folder} ({', '.join(p.name for p in written.values())}); "
        "it holds no secrets: keep IDENTITY_MASTER_SECRET with it"
    )


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    except FileNotFoundError:
        fail(f"{folder} holds no manifest.json: not a backup folder", EXIT_INVALID)
    except json.JSONDecodeError:
        fail(f"{folder}/manifest.json is not JSON", EXIT_INVALID)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        fail(f"{folder} is not an {FORMAT} backup", EXIT_INVALID)
    for name, item in manifest["files"].items():
        path = folder / item["file"]
        if not path.is_file():
            fail(f"backup file {path} is missing", EXIT_INVALID)
        if sha256_file(path) != item["sha256"]:
            fail(f"backup file {path} does not match its SHA-256 in the manifest ({name})", 5)
    return manifest


def restore(
    folder: Annotated[Path, typer.Argument(help="A folder written by `identity backup`.")],
    replace: Annotated[
        bool, typer.Option(help="SQLite: replace existing database files (service stopped).")
    ] = False,
) -> None:
    """Restore a backup into the configured store, then verify it with the auditor."""
    from identity.storage.backup import redis_restore, sqlite_restore

    quiet_development_warnings()
    settings = Settings()
    backend = _backend(settings)
    manifest = _manifest(folder)
    if manifest["backend"] != backend:
        fail(
            f"the backup is of a {manifest['backend']} store but IDENTITY_STORAGE_URL names "
            f"a {backend} one",
            EXIT_INVALID,
        )

    async def main() -> tuple[str, Verified]:
        files = manifest["files"]
        if backend == "sqlite":
            targets = sqlite_files(settings)
            for name in files:
                if targets[name].exists() and not replace:
                    fail(f"{targets[name]} exists; move it away or pass --replace", 4)
            for name, item in files.items():
                sqlite_restore(folder / item["file"], targets[name], replace=replace)
            what = f"{len(files)} SQLite files"
        else:
            client = _redis_client(settings)
            try:
                count = redis_restore(
                    client, manifest["prefix"], settings.redis_prefix, folder / REDIS_FILE
                )
            finally:
                client.close()
            what = f"{count} Redis keys under {settings.redis_prefix!r}"
        try:
            return what, await verify_log(settings)
        except Exception as exc:
            detail = getattr(exc, "detail", None) or str(exc)
            fail(f"restored {what}, but it does not verify: {detail}", EXIT_FAULTS)

    what, verified = run(main)
    reconciled = _reconcile(settings, what)
    typer.echo(
        f"restored {what}; verified: log of {verified.size} entries consistent with its "
        f"signed checkpoint, audit ok ({verified.tiles} tiles), root {verified.root}; "
        f"{reconciled}"
    )


def _reconcile(settings: Settings, what: str) -> str:
    """``identity log reconcile`` on the restored store: its one-line verdict, or fail
    naming the first disagreements."""
    from service.log_cli import run_reconcile

    lines: list[str] = []
    if run_reconcile(settings, echo=lines.append) != 0:
        fail(f"restored {what}, but it does not reconcile: {'; '.join(lines[:5])}", EXIT_FAULTS)
    return lines[-1]
