"""``identity audit SOURCE``: an outside audit of the log, from a URL or a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli_common import EXIT_FAULTS, EXIT_UNAVAILABLE, fail


def audit(
    source: Annotated[
        str,
        typer.Argument(
            help="The service's URL (https://id.city.gov), a mirror's log URL ending in /log, "
            "or a folder written by `identity log export`."
        ),
    ],
    vkey: Annotated[
        str,
        typer.Option(
            help="The log's verifier key to pin, or the URL of GET /log/key to read it from."
        ),
    ],
    state: Annotated[
        Path, typer.Option(help="Local state file of checkpoints seen (and the key used).")
    ] = Path("audit-state.json"),
    cache: Annotated[
        Path | None, typer.Option(help="Tile cache folder; default <state>.tiles beside it.")
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Fetch every tile again (the cache is not read, only refreshed)."
        ),
    ] = False,
    shards: Annotated[
        bool,
        typer.Option(
            "--shards",
            help="Audit every shard of a sharded log (GET /log/shards, or a folder's "
            "shards.json), each under the pinned key renamed to the shard's origin.",
        ),
    ] = False,
) -> None:
    """Mirror the log from its tiles (fetching only tiles not seen before), recompute every
    hash, check every checkpoint's signature and its consistency with all earlier ones;
    exit 1 naming the first fault."""
    import httpx

    from identity.errors import IdentityError, UnavailableError
    from service.audit import audit_counted, fetch_vkey

    if not source.startswith(("http://", "https://")) and not Path(source).is_dir():
        fail(f"{source} is neither an http(s) URL nor a folder", EXIT_FAULTS)
    try:
        with httpx.Client(timeout=30.0) as client:
            key = fetch_vkey(vkey, client) if vkey.startswith(("http://", "https://")) else vkey
            tiles = cache or state.with_name(state.name + ".tiles")
            if shards:
                _audit_shards(source, state, key, client, tiles, full)
                return
            report, counts = audit_counted(
                source, state, key, client=client, cache=tiles, refetch=full
            )
    except UnavailableError as exc:
        fail(f"audit could not run: {exc.detail}", EXIT_UNAVAILABLE)
    except IdentityError as exc:
        fail(f"audit FAILED: {exc.detail}", EXIT_FAULTS)
    size = report.checkpoint.checkpoint.size
    fetched = ""
    if counts.cached or counts.fetched:
        fetched = f" ({counts.fetched} fetched, {counts.cached} from cache)"
    typer.echo(
        f"audit ok: {size} entries, {report.tiles_checked} tiles{fetched}, "
        f"{report.checkpoints_checked} checkpoints consistent; root "
        f"{report.checkpoint.checkpoint.root.hex()}"
    )


def _audit_shards(
    source: str, state: Path, key: str, client: object, tiles: Path, full: bool
) -> None:
    """``identity audit --shards``: one line per shard, then the total."""
    import httpx

    from service.audit_shards import audit_shards

    assert isinstance(client, httpx.Client)
    audits = audit_shards(source, state, key, client=client, cache=tiles, refetch=full)
    for done in audits:
        checkpoint = done.report.checkpoint.checkpoint
        typer.echo(
            f"audit ok: shard {done.name} ({checkpoint.origin}): {checkpoint.size} entries, "
            f"{done.report.tiles_checked} tiles, {done.report.checkpoints_checked} checkpoints "
            f"consistent; root {checkpoint.root.hex()}"
        )
    typer.echo(f"audit ok: {len(audits)} shards")
