"""What every CLI command shares: exit codes, one-line errors, and the API client.

Operator commands are clients of the service's own HTTP API, so they run exactly the
handlers a request runs (validation, anchoring, problem+json). The client has two
transports:

* **local** (default): the app is built in-process on the store the settings name
  (``IDENTITY_STORAGE_URL`` / ``IDENTITY_DATA_DIR``) and called through ASGI, with the
  admin token from the settings. Safe beside a running service: the store is shared the
  way replicas share it.
* **remote** (``--url`` or ``$IDENTITY_URL``): a running service over HTTP, with
  ``$IDENTITY_ADMIN_TOKEN`` (or an agency's ``$IDENTITY_API_KEY`` where one is needed).

Every failure is one line on stderr, ``identity: <what went wrong>``, and one of the exit
codes below (documented in ``docs/cli.md``); never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any, NoReturn, TypeVar

import httpx
import typer
from rich.console import Console
from rich.table import Table

from identity.errors import IdentityError

T = TypeVar("T")

EXIT_OK = 0
EXIT_FAULTS = 1
"""The command ran and found faults: an audit failed, a bulk run had failed rows, a
restored backup did not verify."""
EXIT_USAGE = 2
"""A wrong command line or settings the service refuses (fix the command or environment)."""
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
"""It already exists, or the state does not allow it (e.g. an agency id taken)."""
EXIT_INVALID = 5
"""The input (a file, a value) is malformed or refused by validation."""
EXIT_DENIED = 6
"""Authentication or permission refused (a wrong admin token or API key)."""
EXIT_UNAVAILABLE = 7
"""The store or the service does not answer; retry later."""
EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C); a bulk run can be resumed by running it again."""

STATUS_EXIT = {404: EXIT_NOT_FOUND, 409: EXIT_CONFLICT, 401: EXIT_DENIED, 403: EXIT_DENIED}

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="IDENTITY_URL",
        help="A running service's base URL; default: work in-process on the configured store.",
    ),
]


class CliError(Exception):
    """A failure to report as one line with an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAULTS) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def exit_code_for_status(status: int) -> int:
    """The exit code for an HTTP status the service answered with."""
    if status in STATUS_EXIT:
        return STATUS_EXIT[status]
    if status in (400, 413, 415, 422):
        return EXIT_INVALID
    if status in (429, 502, 503, 504):
        return EXIT_UNAVAILABLE
    return EXIT_FAULTS


def exit_code_for(exc: IdentityError) -> int:
    """The exit code for a domain error, through the service's one status table."""
    from service.problems import status_for

    return exit_code_for_status(status_for(exc))


def describe_problem(body: Any, status: int) -> str:
    """One line from a problem+json body: its detail and the fields that name the thing."""
    if not isinstance(body, dict):
        return f"HTTP {status}"
    detail = str(body.get("detail") or body.get("title") or f"HTTP {status}")
    skip = {"type", "title", "status", "detail", "instance", "problemDetails", "errors"}
    extras = [f"{k}={v}" for k, v in body.items() if k not in skip and isinstance(v, str | int)]
    for err in body.get("errors") or []:
        if isinstance(err, dict):
            extras.append(f"{'.'.join(map(str, err.get('loc', [])))}: {err.get('msg', '')}")
    return detail + (f" ({', '.join(extras)})" if extras else "")


def fail(message: str, code: int = EXIT_FAULTS) -> NoReturn:
    """Print ``identity: message`` on stderr and exit with ``code``."""
    raise CliError(message, code)


def console(*, stderr: bool = False) -> Console:
    """A rich console that prints text as is (no emoji codes: ``did:key:`` stays text)."""
    return Console(stderr=stderr, emoji=False, highlight=False, markup=False)


def make_table(*headers: str, title: str, show_header: bool = True) -> Table:
    """A table whose long values (DIDs, ids) wrap whole instead of being cut off."""
    table = Table(title=title, show_header=show_header)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def quiet_development_warnings() -> None:
    """The CLI's own commands skip the development-mode warnings ``serve`` prints."""
    logging.getLogger("identity.settings").setLevel(logging.ERROR)


def echo_json(value: Any) -> None:
    """Print ``value`` to stdout as JSON indented by two, non-ASCII characters as they are: how
    commands that answer with a document print it."""
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a command's coroutine; errors become :class:`CliError` (one line, exit code)."""
    try:
        return asyncio.run(main())
    except IdentityError as exc:
        raise CliError(exc.detail, exit_code_for(exc)) from None


def report_errors(command: Callable[[], None]) -> None:
    """Call ``command``; turn the errors every command can meet into one line and a code."""
    from pydantic import ValidationError

    from service.settings import SettingsError

    try:
        command()
    except CliError as exc:
        typer.echo(f"identity: {exc.message}", err=True)
        sys.exit(exc.code)
    except (SettingsError, ValidationError) as exc:
        from service.startup import one_line

        typer.echo(f"identity: refusing to start: {one_line(exc)}", err=True)
        sys.exit(EXIT_USAGE)
    except IdentityError as exc:
        typer.echo(f"identity: {exc.detail}", err=True)
        sys.exit(exit_code_for(exc))
    except KeyboardInterrupt:
        typer.echo("identity: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except OSError as exc:  # a file that cannot be read or written
        typer.echo(f"identity: {exc.strerror or exc}: {exc.filename or ''}".rstrip(), err=True)
        sys.exit(EXIT_INVALID if isinstance(exc, FileNotFoundError) else EXIT_FAULTS)
    except Exception as exc:  # a bug: still one line; IDENTITY_DEBUG=1 shows the traceback
        if os.environ.get("IDENTITY_DEBUG"):
            raise
        typer.echo(f"identity: unexpected error ({type(exc).__name__}: {exc})", err=True)
        sys.exit(EXIT_FAULTS)


class Api:
    """The service's API as the operator (or an agency) calls it; problems raise CliError."""

    def __init__(
        self, client: httpx.AsyncClient, admin_token: str | None, services: Any = None
    ) -> None:
        self.client = client
        self.admin_token = admin_token
        self.services = services
        """In-process only: the app's :class:`~service.container.Services`."""

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
    ) -> Any:
        """One request; the JSON answer, or :class:`CliError` naming the problem."""
        response = await self.send(method, path, body, token=token)
        if response.status_code not in ok:
            raise CliError(
                describe_problem(_json_or_none(response), response.status_code),
                exit_code_for_status(response.status_code),
            )
        return _json_or_none(response)

    async def send(
        self, method: str, path: str, body: Any = None, *, token: str | None = None
    ) -> httpx.Response:
        """One request, its raw response (for callers that sort outcomes themselves)."""
        bearer = token or self.admin_token
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        try:
            return await self.client.request(
                method, path, json=body if body is not None else None, headers=headers
            )
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach the service: {exc}", EXIT_UNAVAILABLE) from None


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


@asynccontextmanager
async def open_api(url: str | None, *, concurrency: int = 16) -> AsyncIterator[Api]:
    """The API client: remote when ``url`` is given, else the app in-process (see above)."""
    if url:
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=60, limits=limits) as c:
            yield Api(c, os.environ.get("IDENTITY_ADMIN_TOKEN"))
        return
    from service.app import create_app
    from service.settings import Settings

    quiet_development_warnings()
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://identity.local", timeout=60
        ) as client:
            services = app.state.services
            yield Api(client, services.admin_token, services)
