"""``identity agency …``: create, list and show agencies; add and revoke their API keys.
``identity verifier …``: create and revoke verifiers' API keys (scope ``verify``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from service.cli_common import UrlOption, console, echo_json, make_table, open_api, run

agency_app = typer.Typer(help="Agencies (issuers) and their API keys.", no_args_is_help=True)
key_app = typer.Typer(help="An agency's API keys.", no_args_is_help=True)
agency_app.add_typer(key_app, name="key")
verifier_app = typer.Typer(help="Verifiers' API keys (scope verify).", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@agency_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The agency's display name.")],
    agency_id: Annotated[str | None, typer.Option("--id", help="A short slug id.")] = None,
    url: UrlOption = None,
) -> None:
    """Create an agency with a fresh did:key (an anchored act); print it as JSON with its
    first API key, shown this once."""

    async def main() -> Any:
        async with open_api(url) as api:
            body = {"name": name} | ({"id": agency_id} if agency_id else {})
            return await api.call("POST", "/issuers", body)

    echo_json(run(main))


@agency_app.command("list")
def list_agencies(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """The agencies the service hosts, with their DIDs."""

    async def main() -> Any:
        async with open_api(url) as api:
            return await api.call("GET", "/issuers")

    agencies = run(main)
    if as_json:
        echo_json(agencies)
        return
    table = make_table("id", "name", "DID", "created", title=f"{len(agencies)} agencies")
    for agency in agencies:
        table.add_row(agency["id"], agency["name"], agency["did"], agency["created"])
    console().print(table)


@agency_app.command("show")
def show(
    agency_id: Annotated[str, typer.Argument(help="The agency's id.")],
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """One agency: its DIDs, verification method and accreditations."""

    async def main() -> tuple[Any, Any]:
        async with open_api(url) as api:
            agency = await api.call("GET", f"/issuers/{agency_id}")
            accreditations = await api.call("GET", f"/accreditations?issuer={agency_id}")
            return agency, accreditations

    agency, accreditations = run(main)
    if as_json:
        echo_json(agency | {"accreditations": accreditations})
        return
    table = make_table("field", "value", title=f"agency {agency_id}", show_header=False)
    for field, value in agency.items():
        table.add_row(field, str(value))
    for a in accreditations:
        state = "revoked " + a["revoked"] if a["revoked"] else f"until {a['validUntil']}"
        table.add_row("accreditation", f"{a['id']}: {', '.join(a['types'])} ({state})")
    console().print(table)


@key_app.command("add")
def add_key(
    agency_id: Annotated[str, typer.Argument(help="The agency's id.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(help="issue, revoke, read, accredit or share (repeat); default all three."),
    ] = None,
    url: UrlOption = None,
) -> None:
    """A further API key for the agency (rotation or narrower scopes); printed once."""

    async def main() -> Any:
        async with open_api(url) as api:
            body = {"scopes": scope} if scope else None
            return await api.call("POST", f"/issuers/{agency_id}/keys", body)

    echo_json(run(main))


@key_app.command("revoke")
def revoke_key(
    agency_id: Annotated[str, typer.Argument(help="The agency's id.")],
    key_id: Annotated[str, typer.Argument(help="The key id printed when it was made.")],
    url: UrlOption = None,
) -> None:
    """Revoke one of the agency's API keys; requests with it are refused from now on."""

    async def main() -> None:
        async with open_api(url) as api:
            await api.call("DELETE", f"/issuers/{agency_id}/keys/{key_id}")

    run(main)
    typer.echo(f"revoked key {key_id} of {agency_id}")


@verifier_app.command("create")
def create_verifier(
    name: Annotated[str, typer.Argument(help="Who the key is for, e.g. a counter's name.")],
    url: UrlOption = None,
) -> None:
    """A verifier API key (``POST /verifiers``); printed as JSON with its key id, shown
    this once."""

    async def main() -> Any:
        async with open_api(url) as api:
            return await api.call("POST", "/verifiers", {"name": name})

    echo_json(run(main))


@verifier_app.command("revoke")
def revoke_verifier(
    key_id: Annotated[str, typer.Argument(help="The key id printed when it was made.")],
    url: UrlOption = None,
) -> None:
    """Revoke a verifier API key (``DELETE /verifiers/{key_id}``); every replica refuses
    it from now on."""

    async def main() -> None:
        async with open_api(url) as api:
            await api.call("DELETE", f"/verifiers/{key_id}")

    run(main)
    typer.echo(f"revoked verifier key {key_id}")
