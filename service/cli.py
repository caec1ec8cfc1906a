"""The operator's command line: the root that registers each command group.

``serve`` lives here; every other group is a small ``service/cli_*.py`` module (see
``docs/cli.md`` for the commands and their exit codes).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from service.cli_agencies import agency_app
from service.cli_audit import audit
from service.cli_backup import backup, restore
from service.cli_bulk import bulk_app
from service.cli_common import report_errors
from service.cli_export import export
from service.cli_registry import accreditation_app, type_app

app = typer.Typer(
    help="Identity and credential service: operator commands.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
log_app = typer.Typer(help="The transparency log: export it as static files.", no_args_is_help=True)
app.add_typer(agency_app, name="agency")
app.add_typer(agency_app, name="issuer", hidden=True)  # the older name, kept working
app.add_typer(accreditation_app, name="accreditation")
app.add_typer(type_app, name="type")
app.add_typer(bulk_app, name="bulk")
app.add_typer(log_app, name="log")
app.command()(audit)
app.command()(backup)
app.command()(restore)
log_app.command("export")(export)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"identity {version('identity-service')}")
        raise typer.Exit


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Operator commands; each error is one line with a documented exit code."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "0.0.0.0",  # noqa: S104
    port: Annotated[int | None, typer.Option(help="Port; default $PORT or 8000.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes; default $WEB_CONCURRENCY or 1.")
    ] = None,
) -> None:
    """Run the HTTP service with uvicorn (SQLite in $IDENTITY_DATA_DIR by default)."""
    import uvicorn

    from service.settings import Settings
    from service.storage import open_store

    settings = Settings()  # refuse early, with a clear message, on unsafe settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    open_store(settings).close()  # and on a store that does not answer
    uvicorn.run(
        "service.main:app",
        host=host,
        port=port or int(os.environ.get("PORT", "8000")),
        workers=workers or int(os.environ.get("WEB_CONCURRENCY", "1")),
        log_level="info",
        access_log=False,
        proxy_headers=True,
    )


def main() -> None:
    """The ``identity`` console script: every error one line (see ``docs/cli.md``)."""
    report_errors(lambda: app(standalone_mode=True))
