"""``identity log reconcile`` and ``identity log verify``: checks anyone with store access runs.

Plain functions (testable without a CLI runner) and :func:`register`, which adds them to
the operator's typer app under ``log``. Both open the stores named by the settings
(``IDENTITY_*`` environment), read only, and exit 0 when everything agrees, 1 naming
every fault (one line each), 2 when the store cannot be opened.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from identity.errors import IdentityError
from identity.log.checkpoint import NoteVerifier
from identity.log.reconcile import reconcile
from identity.log.scrub import scrub
from service.log import log_key, open_log_store
from service.log_shards import build_shard_set
from service.settings import Settings
from service.storage import open_directory_store, open_store

Echo = Callable[[str], None]


def run_reconcile(settings: Settings, echo: Echo = typer.echo) -> int:
    """Compare the log's leaves with the stored records, both ways; the exit status. On a
    Redis Cluster the issuances left in flight are finished first (their outbox drained,
    identity/storage/redis_spread.py): they took effect, only their last steps were not run."""
    store = open_store(settings)
    directory = open_directory_store(settings)
    log = open_log_store(settings)
    key = log_key(settings.master_secret_bytes(), settings.log_origin).public_key()
    shard_set = build_shard_set(settings, NoteVerifier(settings.log_origin, key))
    try:
        finished = getattr(store, "drain_outbox", lambda: 0)()  # acts in flight (#16)
        if finished:
            echo(f"finished {finished} issuances left in flight before reconciling")
        # A sharded log (docs/log-shards.md): every shard the catalog lists, a frozen one
        # read from its exported files when it has them.
        shards = [(name, reader.store) for name, _, _, reader in shard_set.shard_readers()]
        findings = reconcile(log, store, directory, shards)
        size = log.entry_count() + sum(s.entry_count() for _, s in shards)
    except IdentityError as exc:
        echo(f"reconcile FAILED: {exc.detail}")
        return 2
    finally:
        shard_set.close()
        log.close()
        directory.close()
        store.close()
    for finding in findings:
        echo(str(finding))
    if findings:
        echo(f"reconcile FAILED: {len(findings)} disagreements over {size} log entries")
        return 1
    where = f" in the log and {len(shards)} shards" if shards else ""
    echo(f"reconcile ok: {size} log entries{where}, each an act in the store, each act in the log")
    return 0


def run_verify(settings: Settings, echo: Echo = typer.echo) -> int:
    """Scrub the stored tree, every level, against the entries; the exit status."""
    key = log_key(settings.master_secret_bytes(), settings.log_origin).public_key()
    verifier = NoteVerifier(settings.log_origin, key)
    log = open_log_store(settings)
    try:
        report = scrub(log, verifier, settings.log_origin)
    except IdentityError as exc:
        echo(f"verify FAILED: {exc.detail}")
        return 2
    finally:
        log.close()
    for fault in report.faults:
        echo(fault)
    if report.faults:
        echo(f"verify FAILED: {len(report.faults)} faults in a tree of {report.tree_size}")
        return 1
    echo(
        f"verify ok: tree of {report.tree_size} entries ({report.entries} sequenced), "
        f"{report.hashes_checked} stored hashes recomputed, counters and root agree"
    )
    return 0


def register(log_app: typer.Typer) -> None:
    """Add ``reconcile`` and ``verify`` to the CLI's ``log`` command group."""

    @log_app.command("reconcile")
    def reconcile_command() -> None:
        """Every leaf names a stored act, every stored act has one leaf; exit 1 naming
        every orphan leaf and unanchored record."""
        raise typer.Exit(run_reconcile(Settings()))

    @log_app.command("verify")
    def verify_command() -> None:
        """Recompute every stored hash at every level from the entries, check the
        counters, the root and the checkpoint's signature; exit 1 naming every fault."""
        raise typer.Exit(run_verify(Settings()))
