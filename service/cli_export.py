"""``identity log export DIR``: the log as static files (C2SP tlog-tiles layout).

``DIR`` becomes the log's prefix: ``DIR/checkpoint``, ``DIR/tile/<L>/<N>[.p/<W>]`` and
``DIR/tile/entries/<N>[.p/<W>]``, exactly the paths the service serves under ``/log/``.
Any web server or CDN can serve the folder (export to ``site/log`` and serve ``site/``
to mirror the service's URLs); ``identity audit DIR`` audits it offline.

Full tiles never change, so a later export into the same folder writes only new tiles.
Every file is written whole (temporary file, then rename) and the checkpoint last, so a
reader of the folder never sees a checkpoint whose tiles are missing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from identity.log import tiles
from identity.log.reader import LogReader
from service.cli_common import quiet_development_warnings, run


def write_file(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one rename (readers see the old or the new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def export_log(reader: LogReader, folder: Path) -> tuple[int, int, int]:
    """Write the tiles and checkpoint of ``reader``'s latest checkpoint into ``folder``;
    return (tree size, tiles written, tiles already there)."""
    signed = reader.checkpoint()
    size = signed.checkpoint.size
    written = kept = 0
    for level in [tiles.ENTRIES, *tiles.tile_levels(size)]:
        for tile in tiles.tiles_for(size, level):
            path = folder / tile.path
            if tile.is_full and path.is_file():
                kept += 1
                continue
            write_file(path, reader.tile(tile.path).data)
            written += 1
    write_file(folder / "checkpoint", signed.note)
    return size, written, kept


def export(
    folder: Annotated[Path, typer.Argument(help="The folder to write (the log's URL prefix).")],
    shards: Annotated[
        bool,
        typer.Option(
            "--shards",
            help="Export every log shard instead, each into FOLDER/<name>/ (a frozen one "
            "with its final checkpoint), and the list as FOLDER/shards.json.",
        ),
    ] = False,
) -> None:
    """Write the log (checkpoint, hash tiles, entry bundles) as static files into FOLDER,
    from the configured store."""
    from identity.log.checkpoint import NoteSigner
    from service.log import log_key, open_log_store
    from service.settings import Settings

    if shards:
        export_all_shards(folder)
        return

    async def main() -> tuple[int, int, int]:
        quiet_development_warnings()
        settings = Settings()
        signer = NoteSigner(
            settings.log_origin, log_key(settings.master_secret_bytes(), settings.log_origin)
        )
        store = open_log_store(settings)
        try:
            return export_log(LogReader(store, signer.verifier, settings.log_origin), folder)
        finally:
            store.close()

    size, written, kept = run(main)
    typer.echo(
        f"exported {size} entries to {folder}: {written} files written, "
        f"{kept} full tiles already there"
    )


def export_all_shards(folder: Path) -> None:
    """``identity log export --shards FOLDER``: every shard of the configured store."""
    from service.audit_shards import export_shards
    from service.log import log_key
    from service.log_shards import build_shard_set
    from service.settings import Settings

    quiet_development_warnings()
    settings = Settings()
    key = log_key(settings.master_secret_bytes(), settings.log_origin).public_key()
    from identity.log.checkpoint import NoteVerifier

    shard_set = build_shard_set(settings, NoteVerifier(settings.log_origin, key))
    try:
        done = export_shards(shard_set, folder)
    finally:
        shard_set.close()
    for name, size, written, kept in done:
        typer.echo(
            f"exported shard {name}: {size} entries to {folder / name}: {written} files "
            f"written, {kept} full tiles already there"
        )
    typer.echo(f"exported {len(done)} shards to {folder} (list: {folder / 'shards.json'})")
