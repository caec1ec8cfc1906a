"""The operator's command line: ``identity serve``, ``identity issuer create``, ``audit``."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer

app = typer.Typer(help="Identity and credential service: operator commands.", no_args_is_help=True)
issuer_app = typer.Typer(
    help="Manage agencies (issuers) directly in the store.", no_args_is_help=True
)
app.add_typer(issuer_app, name="issuer")


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
) -> None:
    """Run the HTTP service with uvicorn (SQLite in $IDENTITY_DATA_DIR by default)."""
    import uvicorn

    from service.app import check_startup
    from service.observability.logs import uvicorn_log_config
    from service.observability.multiprocess import metrics_directory
    from service.settings import Settings

    settings = Settings()  # refuse early, with a clear message, on unsafe settings
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner-only (#12)
    check_startup(settings)  # and on a store that does not answer, or another log's
    with metrics_directory():  # one shared metrics directory for all workers
        uvicorn.run(
            "service.main:app",
            host=host or settings.default_host,
            port=port or int(os.environ.get("PORT", "8000")),
            workers=workers or int(os.environ.get("WEB_CONCURRENCY", "1")),
            log_config=uvicorn_log_config(settings),
            access_log=False,  # the service writes its own line per request
            proxy_headers=True,
        )


@issuer_app.command("create")
def issuer_create(
    name: Annotated[str, typer.Argument(help="The agency's display name.")],
    issuer_id: Annotated[str | None, typer.Option("--id", help="A short slug id.")] = None,
) -> None:
    """Create an agency with a did:key; prints its DID and a one-time API key as JSON."""
    import asyncio

    from schemas.api import CreatedIssuer, CreateIssuerRequest
    from service.container import Services
    from service.routers.issuers import create_agency
    from service.settings import Settings

    async def run() -> CreatedIssuer:
        svc = Services.build(Settings())
        await svc.start()
        try:
            return await create_agency(svc, CreateIssuerRequest(name=name, id=issuer_id))
        finally:
            await svc.aclose()

    created = asyncio.run(run())
    typer.echo(json.dumps(created.model_dump(), indent=2))


@app.command()
def audit(
    base_url: Annotated[
        str, typer.Argument(help="The log's service URL, e.g. https://id.city.gov")
    ],
    vkey: Annotated[str, typer.Option(help="The log's verifier key (GET /log/key), pinned.")],
    state: Annotated[
        str, typer.Option(help="Local state file of checkpoints seen.")
    ] = "audit-state.json",
) -> None:
    """Mirror the log from its tiles, recompute every hash, check every checkpoint's
    signature and its consistency with all earlier ones; exit 1 naming the first fault."""
    from identity.errors import IdentityError
    from service.audit import audit as run_audit

    try:
        report = run_audit(base_url.rstrip("/"), state, vkey)
    except IdentityError as exc:
        typer.echo(f"audit FAILED: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    size = report.checkpoint.checkpoint.size
    typer.echo(
        f"audit ok: {size} entries, {report.tiles_checked} tiles, "
        f"{report.checkpoints_checked} checkpoints consistent; root "
        f"{report.checkpoint.checkpoint.root.hex()}"
    )


def _register_log_commands() -> None:
    from service.log_cli import register

    register(app)


_register_log_commands()


def main() -> None:
    try:
        app()
    except Exception as exc:  # settings refusals: one clear line, not a traceback
        from service.settings import SettingsError

        if isinstance(exc, SettingsError) or type(exc).__name__ == "ValidationError":
            typer.echo(f"identity: refusing to start: {exc}", err=True)
            sys.exit(2)
        raise
