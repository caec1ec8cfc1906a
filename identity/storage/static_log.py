"""A frozen log shard read back from its exported static tiles: no live store needed.

:func:`load_static_log` takes the shard's tiles (any
:class:`~identity.log.auditor.AuditSource`: a folder written by ``identity log export``,
a mirror over HTTP), audits them in full against the final checkpoint -- every entry
re-hashed, every hash tile compared, the recomputed root equal to the signed one -- and
only then rebuilds the tree in memory and returns a
:class:`~identity.log.reader.LogReader` over it. Inclusion proofs, entries and tiles of
the frozen shard are then answered as by the live log, and each proof is checked against
the signed final root before it is handed out, as always.

The rebuild holds the shard in memory (32 bytes per hash, about 64 per leaf, plus the
entries): sized for shards of up to some millions of entries per process.
"""

from __future__ import annotations

from identity.errors import LogIntegrityError
from identity.log import tiles
from identity.log.auditor import AuditSource, AuditState, audit_log
from identity.log.checkpoint import NoteVerifier
from identity.log.reader import LogReader
from identity.log.tree import EMPTY_FRONTIER, extend, leaf_hashes
from identity.storage.memory_log import MemoryLogStore


def load_static_log(
    source: AuditSource, verifier: NoteVerifier, origin: str, final: bytes | None = None
) -> LogReader:
    """The log behind ``source`` as a reader, after a full audit; ``final`` (the shard's
    final checkpoint as the catalog or a receipt pinned it) must then be the served one.

    :class:`LogIntegrityError` naming the first fault, or when the served checkpoint is
    not ``final``."""
    report = audit_log(source, verifier, AuditState(), origin)
    note = report.checkpoint.note
    if final is not None and note != final:
        raise LogIntegrityError(
            "the exported checkpoint is not the shard's final one", origin=origin
        )
    size = report.checkpoint.checkpoint.size
    entries: list[bytes] = []
    for bundle in tiles.tiles_for(size, tiles.ENTRIES):
        entries.extend(tiles.decode_bundle(source.tile(bundle.path), bundle.width))
    store = MemoryLogStore()
    store.open(origin, verifier.public_key.raw)
    if entries:
        store.append_entries(entries)
    frontier, runs = extend(EMPTY_FRONTIER, leaf_hashes(entries))
    if frontier.root() != report.checkpoint.checkpoint.root:  # read twice: must not change
        raise LogIntegrityError("the exported tiles changed while they were read", origin=origin)
    store.integrate(None, note, runs)
    return LogReader(store, verifier, origin)
