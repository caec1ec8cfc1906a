"""Auditing and exporting every shard of a sharded log (docs/log-shards.md).

:func:`audit_shards` follows every shard of a service (``GET /log/shards``) or of an
export folder (``shards.json``, written by :func:`export_shards`): each is audited in
full from its tiles (identity/log/auditor.py), with the log's ONE pinned verifier key
renamed to the shard's origin -- a listing cannot introduce a key, and a shard whose
origin is not ``<pinned origin>/<name>`` is a fault. Each shard keeps its own state file
(``<state>.<name>``: the checkpoints seen), so a shard that forks after an audit is caught
by the next one, as for the unsharded log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx

from identity.errors import LogIntegrityError
from identity.log.auditor import AuditReport, AuditSource, audit_log
from identity.log.checkpoint import NoteVerifier
from identity.log.shards import SHARD_NAME
from service.audit import (
    CachedAuditSource,
    FolderAuditSource,
    HttpAuditSource,
    TileCounts,
    get_ok,
    load_state,
    log_prefix,
    pinned_vkey,
    save_state,
)
from service.cli_export import export_log, write_file
from service.log_shards import ShardedLogLike, shard_verifier

LISTING = "shards.json"
"""The shard list an export folder carries (what ``GET /log/shards`` answers)."""


@dataclass(frozen=True, slots=True)
class ShardAudit:
    """One shard's audit: its name, the report, and where its tiles came from."""

    name: str
    report: AuditReport
    counts: TileCounts


def _listing(source: str, client: httpx.Client) -> list[str]:
    if source.startswith(("http://", "https://")):
        url = log_prefix(source) + "/shards"
        body = get_ok(client, url, url, where=url).json()
    else:
        path = Path(source) / LISTING
        try:
            body = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise LogIntegrityError(f"{LISTING} missing from {source}", where=LISTING) from None
    try:
        names = [str(s["name"]) for s in body["shards"]]
    except (KeyError, TypeError) as exc:
        raise LogIntegrityError("the shard list is not {shards: [{name}]}") from exc
    for name in names:
        if not SHARD_NAME.fullmatch(name):
            raise LogIntegrityError(f"the shard list names {name[:40]!r}", where=LISTING)
    return names


def audit_shards(
    source: str,
    state_path: Path,
    vkey: str,
    *,
    client: httpx.Client,
    cache: Path | None = None,
    refetch: bool = False,
) -> list[ShardAudit]:
    """Audit every shard listed at ``source`` (URL of the service or a folder); raise
    :class:`LogIntegrityError` naming the shard and the first fault."""
    pinned = NoteVerifier.from_vkey(vkey)
    audits = []
    for name in _listing(source, client):
        origin = f"{pinned.name}/{name}"
        verifier = shard_verifier(pinned, origin)
        state = state_path.with_name(f"{state_path.name}.{name}")
        known = pinned_vkey(state)
        if known is not None and known != verifier.vkey:
            raise LogIntegrityError(f"shard {name}: the key differs from {state}'s", where=name)
        shard_source: AuditSource
        cached: CachedAuditSource | None = None
        if source.startswith(("http://", "https://")):
            shard_source = HttpAuditSource(f"{log_prefix(source)}/{name}", client)
            if cache is not None:
                cached = CachedAuditSource(shard_source, cache / name, read=not refetch)
                shard_source = cached
        else:
            shard_source = FolderAuditSource(Path(source) / name)
        try:
            report = audit_log(shard_source, verifier, load_state(state), origin)
        except LogIntegrityError as exc:
            if cached is not None:
                cached.forget_fetched()
            raise LogIntegrityError(f"shard {name}: {exc.detail}", shard=name) from exc
        save_state(state, report.state, verifier.vkey)
        counts = TileCounts(len(cached.fetched), cached.hits) if cached else TileCounts()
        audits.append(ShardAudit(name, report, counts))
    return audits


def export_shards(log: ShardedLogLike, folder: Path) -> list[tuple[str, int, int, int]]:
    """Export every shard's tiles and checkpoint into ``folder/<name>/`` (a frozen shard
    with its final checkpoint) and the list as ``folder/shards.json``; return (name,
    tree size, tiles written, tiles kept) per shard."""
    done, listing = [], []
    for name, origin, frozen, reader in log.shard_readers():
        size, written, kept = export_log(reader, folder / name)
        done.append((name, size, written, kept))
        listing.append({"name": name, "origin": origin, "frozen": frozen, "prefix": f"{name}/"})
    write_file(folder / LISTING, json.dumps({"shards": listing}, indent=1).encode())
    return done
