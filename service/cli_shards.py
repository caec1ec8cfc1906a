"""``identity log drop-shard NAME``: delete a frozen log shard's live data, once its export
is proved (docs/log-shards.md, issue #16).

A frozen shard exported with ``identity log export --shards DIR`` is served from its files
(``IDENTITY_LOG_SHARDS_DIR``), and verifying a credential anchored there needs no live
store; its tables (SQLite) or keys (Redis) only cost space. This command drops them
(:attr:`~service.log_shards.ShardBackend.drop`) -- and refuses, with one line and an exit
code, unless all of this holds first:

* the catalog lists the shard (exit 3 otherwise) and it is frozen (exit 4: a writable or
  still freezing shard keeps its data);
* an export folder is given (``--from DIR``) or configured (``IDENTITY_LOG_SHARDS_DIR``;
  exit 2 when neither), and it holds the shard (``DIR/<name>/checkpoint``, exit 3);
* that export passes the full audit against the shard's final checkpoint in the catalog
  -- every entry re-hashed, every tile compared, the root checked
  (:func:`~identity.storage.static_log.load_static_log`; exit 1 when it does not verify).

A shard whose live data is gone already is a no-op (exit 0). Nothing is deleted before
every check passed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from identity.errors import IdentityError
from identity.log.checkpoint import NoteVerifier
from identity.storage.static_log import load_static_log
from service.audit import FolderAuditSource
from service.cli_common import (
    EXIT_CONFLICT,
    EXIT_FAULTS,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    fail,
    quiet_development_warnings,
)
from service.log_shards import ShardBackend, open_shard_backend, shard_verifier
from service.settings import Settings


def drop_shard_data(backend: ShardBackend, verifier: NoteVerifier, name: str, folder: Path) -> str:
    """Drop shard ``name``'s live data from ``backend`` after the checks of the module
    docstring (``verifier``: the log's, ``folder``: the exports); what was done, one line.
    Each refusal is a :class:`~service.cli_common.CliError` with its exit code."""
    record = next((r for r in backend.catalog.records() if r.name == name), None)
    if record is None:
        fail(f"no log shard {name} in the catalog", EXIT_NOT_FOUND)
    if record.final is None:
        state = "still freezing" if record.sealed else "not frozen"
        fail(
            f"log shard {name} is {state}: only a frozen shard's data can be dropped", EXIT_CONFLICT
        )
    exported = folder / name
    if not (exported / "checkpoint").is_file():
        fail(
            f"no export of log shard {name} in {folder} (identity log export --shards)",
            EXIT_NOT_FOUND,
        )
    try:
        reader = load_static_log(
            FolderAuditSource(exported),
            shard_verifier(verifier, record.origin),
            record.origin,
            record.final,
        )
    except IdentityError as exc:
        fail(
            f"the export of log shard {name} in {exported} does not verify: {exc.detail}",
            EXIT_FAULTS,
        )
    size = reader.checkpoint().checkpoint.size
    store = backend.open_store(name)
    try:
        live = store.latest_checkpoint()
    finally:
        store.close()
    backend.drop(name)  # also when dropped already: opening may have made empty tables
    if live is None:
        return f"log shard {name} has no live data (dropped already); its export verifies"
    return (
        f"dropped log shard {name}'s live data ({size} entries); its export in {exported} verifies"
    )


def drop_shard(
    name: Annotated[str, typer.Argument(help="The frozen shard, e.g. 2026 or 2026-03.1.")],
    folder: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="The export folder (identity log export --shards); "
            "default: IDENTITY_LOG_SHARDS_DIR.",
        ),
    ] = None,
) -> None:
    """Delete a frozen log shard's live data from the configured store, only once its export
    verifies against the shard's final checkpoint."""
    from service.log import log_key

    quiet_development_warnings()
    settings = Settings()
    where = folder or settings.log_shards_dir
    if where is None:
        fail("no export folder: give --from DIR or set IDENTITY_LOG_SHARDS_DIR", EXIT_USAGE)
    key = log_key(settings.master_secret_bytes(), settings.log_origin).public_key()
    backend = open_shard_backend(settings)
    try:
        done = drop_shard_data(backend, NoteVerifier(settings.log_origin, key), name, where)
    finally:
        backend.close()
    typer.echo(done)
