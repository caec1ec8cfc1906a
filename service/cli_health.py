"""``identity health``: the container's health check, with the reason when unhealthy."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from service.cli_common import EXIT_FAULTS, describe_problem, fail


def health(
    url: Annotated[
        str | None,
        typer.Option(help="The service's base URL; default http://127.0.0.1:$PORT."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 4.0,
) -> None:
    """GET /health: print "healthy", or "unhealthy: <why>" and exit 1 (a store that does
    not answer, a start refused and why, nothing listening)."""
    import httpx

    base = url or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    try:
        response = httpx.get(base.rstrip("/") + "/health", timeout=timeout)
    except httpx.HTTPError as exc:
        fail(f"unhealthy: nothing answers at {base} ({type(exc).__name__})", EXIT_FAULTS)
    if response.status_code != 200:
        try:
            body = response.json()
        except ValueError:
            body = None
        fail(f"unhealthy: {describe_problem(body, response.status_code)}", EXIT_FAULTS)
    typer.echo(f"healthy: {response.text}")
