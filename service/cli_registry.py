"""``identity accreditation …`` and ``identity type …``: the trust registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from service.cli_agencies import JsonOption
from service.cli_common import (
    EXIT_INVALID,
    UrlOption,
    console,
    echo_json,
    fail,
    make_table,
    open_api,
    run,
)

accreditation_app = typer.Typer(
    help="Accreditations: which agency may issue which credential types.", no_args_is_help=True
)
type_app = typer.Typer(help="Registered credential types.", no_args_is_help=True)


@accreditation_app.command("grant")
def grant(
    agency_id: Annotated[str, typer.Argument(help="The agency to accredit.")],
    types: Annotated[list[str], typer.Option("--type", help="A credential type (repeat).")],
    until: Annotated[str, typer.Option(help="End, e.g. 2030-01-01T00:00:00Z.")],
    since: Annotated[
        str | None, typer.Option("--from", help="Start (default now), e.g. 2026-01-01T00:00:00Z.")
    ] = None,
    parent: Annotated[str | None, typer.Option(help="Delegation: the parent id.")] = None,
    url: UrlOption = None,
) -> None:
    """Accredit an agency for credential types (an anchored act); print the accreditation."""
    body: dict[str, Any] = {"issuer": agency_id, "types": types, "validUntil": until}
    if since:
        body["validFrom"] = since
    if parent:
        body["parent"] = parent

    async def main() -> Any:
        async with open_api(url) as api:
            return await api.call("POST", "/accreditations", body)

    echo_json(run(main))


@accreditation_app.command("revoke")
def revoke(
    accreditation_id: Annotated[str, typer.Argument(help="The accreditation's id.")],
    url: UrlOption = None,
) -> None:
    """End an accreditation now (an anchored act)."""

    async def main() -> Any:
        async with open_api(url) as api:
            return await api.call("POST", f"/accreditations/{accreditation_id}/revoke")

    echo_json(run(main))


@accreditation_app.command("list")
def list_accreditations(
    agency_id: Annotated[str, typer.Argument(help="The agency's id.")],
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """An agency's accreditations, current and past."""

    async def main() -> Any:
        async with open_api(url) as api:
            await api.call("GET", f"/issuers/{agency_id}")  # an unknown agency is an error
            return await api.call("GET", f"/accreditations?issuer={agency_id}")

    items = run(main)
    if as_json:
        echo_json(items)
        return
    table = make_table("id", "types", "from", "until", "by", "revoked", title=f"{agency_id}")
    for a in items:
        table.add_row(
            a["id"],
            ", ".join(a["types"]),
            a["validFrom"],
            a["validUntil"],
            a["accreditedBy"],
            a["revoked"] or "",
        )
    console().print(table)


@type_app.command("list")
def list_types(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """The registered credential types."""

    async def main() -> Any:
        async with open_api(url) as api:
            return await api.call("GET", "/credential-types")

    items = run(main)
    if as_json:
        echo_json(items)
        return
    table = make_table("type", "title", "validity (days)", "suspendable", title="credential types")
    for t in items:
        table.add_row(t["type"], t["title"] or "", str(t["validityDays"]), str(t["suspendable"]))
    console().print(table)


@type_app.command("register")
def register(
    definition: Annotated[
        Path,
        typer.Argument(
            help='A JSON file: {"type", "schema", optional "title", "context", '
            '"validityDays", "suspendable"}.'
        ),
    ],
    url: UrlOption = None,
) -> None:
    """Register a credential type with its JSON Schema (an anchored act)."""
    try:
        body = json.loads(definition.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        fail(f"{definition}: not JSON ({exc.msg} at line {exc.lineno})", EXIT_INVALID)

    async def main() -> Any:
        async with open_api(url) as api:
            return await api.call("POST", "/credential-types", body)

    created = run(main)
    typer.echo(f"registered {created['type']} (log index {created['receipt']['index']})")
