"""The operator's command line: the root that registers each command group.

``serve`` lives here; every other group is a small ``service/cli_*.py`` module (see
``docs/cli.md`` for the commands and their exit codes).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

import service.cli_wallet  # noqa: F401  (adds `wallet present` to the group)
from service.cli_agencies import agency_app, verifier_app
from service.cli_audit import audit
from service.cli_backup import backup, restore
from service.cli_bulk import bulk_app
from service.cli_common import report_errors
from service.cli_export import export
from service.cli_health import health
from service.cli_registry import accreditation_app, type_app
from service.cli_shards import drop_shard
from service.log_cli import register as register_log_checks
from service.wallet_cli import wallet_app

app = typer.Typer(
    help="Identity and credential service: operator commands.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
log_app = typer.Typer(
    help="The transparency log: export it as static files, reconcile and verify it.",
    no_args_is_help=True,
)
app.add_typer(agency_app, name="agency")
app.add_typer(agency_app, name="issuer", hidden=True)  # the older name, kept working
app.add_typer(accreditation_app, name="accreditation")
app.add_typer(type_app, name="type")
app.add_typer(bulk_app, name="bulk")
app.add_typer(log_app, name="log")
app.add_typer(wallet_app, name="wallet")  # issue #18: the reference wallet
app.add_typer(verifier_app, name="verifier")
app.command()(audit)
app.command()(health)
app.command()(backup)
app.command()(restore)
log_app.command("export")(export)
log_app.command("drop-shard")(drop_shard)  # issue #16: a frozen, exported shard's data
register_log_checks(log_app)


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
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind; default 127.0.0.1 (0.0.0.0 in production)."),
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port; default $PORT or 8000.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes; default $WEB_CONCURRENCY or 1.")
    ] = None,
    hold_on_refusal: Annotated[
        float,
        typer.Option(
            envvar="IDENTITY_HOLD_ON_REFUSAL",
            help="On a refused start, answer 503 with the reason for this many seconds "
            "before exiting (so a container's health check shows why).",
        ),
    ] = 0,
) -> None:
    """Run the HTTP service with uvicorn in the foreground (Ctrl-C stops it); SQLite in
    $IDENTITY_DATA_DIR by default."""
    import uvicorn

    from identity.errors import IdentityError
    from service.app import check_startup
    from service.observability.logs import configure as configure_logging
    from service.observability.logs import uvicorn_log_config
    from service.observability.multiprocess import metrics_directory
    from service.settings import Settings, SettingsError
    from service.startup import hold_refusal, one_line, public_url_for

    port = port or int(os.environ.get("PORT", "8000"))
    try:
        settings = Settings()  # refuse early, with a clear message, on unsafe settings
        host = host or settings.default_host
        served = public_url_for(settings, host, port)
        if served is not None:  # the workers read it from the environment
            os.environ["IDENTITY_PUBLIC_URL"] = served
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner-only (#12)
        configure_logging(settings)  # the start-up check logs as the workers will
        check_startup(settings)  # and on a store that does not answer, or another log's
    except (SettingsError, ValueError, IdentityError) as exc:
        # A SettingsError is already one line per setting, none with a value.
        said = str(exc) if isinstance(exc, SettingsError) else one_line(exc)
        typer.echo(f"identity: refusing to start: {said}", err=True)
        if hold_on_refusal > 0:
            hold_refusal(one_line(exc), host or "127.0.0.1", port, hold_on_refusal)
        raise typer.Exit(2) from None
    with metrics_directory():  # one shared metrics directory for all workers
        uvicorn.run(
            "service.main:app",
            host=host,
            port=port,
            workers=workers or int(os.environ.get("WEB_CONCURRENCY", "1")),
            log_config=uvicorn_log_config(settings),
            access_log=False,  # the service writes its own line per request
            proxy_headers=True,
        )


def main() -> None:
    """The ``identity`` console script: every error one line (see ``docs/cli.md``)."""
    report_errors(lambda: app(standalone_mode=True))
