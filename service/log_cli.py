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
from identity.log.reconcile import reconcile
from service.log import open_log_store
from service.settings import Settings
from service.storage import open_directory_store, open_store

Echo = Callable[[str], None]


def run_reconcile(settings: Settings, echo: Echo = typer.echo) -> int:
    """Compare the log's leaves with the stored records, both ways; the exit status."""
    store = open_store(settings)
    directory = open_directory_store(settings)
    log = open_log_store(settings)
    try:
        findings = reconcile(log, store, directory)
        size = log.entry_count()
    except IdentityError as exc:
        echo(f"reconcile FAILED: {exc.detail}")
        return 2
    finally:
        log.close()
        directory.close()
        store.close()
    for finding in findings:
        echo(str(finding))
    if findings:
        echo(f"reconcile FAILED: {len(findings)} disagreements over {size} log entries")
        return 1
    echo(f"reconcile ok: {size} log entries, each an act in the store, each act in the log")
    return 0


def register(app: typer.Typer) -> None:
    """Add the ``log`` command group to the operator's CLI."""
    log_app = typer.Typer(help="Check the transparency log against its store.")

    @log_app.command("reconcile")
    def reconcile_command() -> None:
        """Every leaf names a stored act, every stored act has one leaf; exit 1 naming
        every orphan leaf and unanchored record."""
        raise typer.Exit(run_reconcile(Settings()))

    app.add_typer(log_app, name="log")
