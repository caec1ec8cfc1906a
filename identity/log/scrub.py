"""Scrub the stored log, every level, against its entries (``identity log verify``).

The stored hashes of :mod:`identity.log.tree` are derived data: every one can be
recomputed from the entries. :func:`scrub` recomputes them all, streaming chunk by chunk
(one stored chunk per level at a time, so memory stays flat at 10⁷ entries), and reports every
disagreement it finds, not just the first:

* the latest checkpoint's signature and origin;
* the entry count is at least the checkpoint's size;
* every stored hash, at every level, is the one recomputed from the entries (RFC 9162
  leaf and node hashes, rebuilt bottom-up with one pending hash per level), so a fault
  is named at the node that is wrong, not at its ancestors;
* every level holds exactly ``size >> l`` hashes -- by the stored chunks and by the
  store's own counters (:meth:`~identity.log.store.LogStore.stored_counts`);
* the right edge folds to the signed root.

So a changed byte anywhere -- entry, leaf hash, a node at any level, a counter, the
checkpoint -- is named with its place. It does no I/O of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from hashlib import sha256

from identity.errors import IdentityError
from identity.log import proofs
from identity.log.checkpoint import NoteVerifier, open_checkpoint
from identity.log.hashing import HASH_SIZE, NODE_PREFIX
from identity.log.store import LogStore
from identity.log.tiles import TILE_WIDTH
from identity.log.tree import leaf_hashes

MAX_FAULTS = 1000
"""Stop listing after this many (a wholly damaged store would list millions)."""


@dataclass
class ScrubReport:
    """What :func:`scrub` checked and every fault it found (``faults`` empty: all good)."""

    tree_size: int = 0
    entries: int = 0
    hashes_checked: int = 0
    faults: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the scrub found no fault."""
        return not self.faults

    def fault(self, text: str) -> None:
        """Record one fault; after ``MAX_FAULTS`` further ones are counted out, not listed."""
        if len(self.faults) < MAX_FAULTS:
            self.faults.append(text)


def _split(blob: bytes) -> list[bytes]:
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob) - HASH_SIZE + 1, HASH_SIZE)]


def _chunk(store: LogStore, level: int, chunk: int) -> bytes:
    return store.read_hash_tile(level, chunk)


def scrub(store: LogStore, verifier: NoteVerifier, origin: str | None = None) -> ScrubReport:
    """Recompute and compare every stored hash; see the module docstring."""
    report = ScrubReport()
    note = store.latest_checkpoint()
    if note is None:
        report.fault("checkpoint: none stored")
        return report
    try:
        signed = open_checkpoint(note, verifier, origin)
    except IdentityError as exc:
        report.fault(f"checkpoint: does not verify ({exc.detail})")
        return report
    size = report.tree_size = signed.checkpoint.size
    report.entries = store.entry_count()
    if report.entries < size:
        report.fault(f"entries: {report.entries} stored, the checkpoint covers {size}")
        return report
    _scrub_tree(store, size, report)
    _scrub_counts(store, size, report)
    try:
        right_edge = store.read_nodes(proofs.range_nodes(0, size))
        if proofs.fold(right_edge) != signed.checkpoint.root:
            report.fault("root: the stored right edge does not fold to the signed root")
    except IdentityError as exc:
        report.fault(f"root: {exc.detail}")
    return report


class _Recompute:
    """Rebuilds the tree bottom-up from the leaves, one pending hash per level (flat
    memory), and compares every node it completes with the stored one: a fault is named
    where it is, not at its ancestors (they are compared with the recomputed truth)."""

    def __init__(self, store: LogStore, report: ScrubReport) -> None:
        self.store, self.report = store, report
        self.pending: dict[int, bytes] = {}
        self.chunks: dict[int, tuple[int, list[bytes]]] = {}

    def stored(self, level: int, index: int) -> bytes | None:
        chunk = index // TILE_WIDTH
        cached = self.chunks.get(level)
        if cached is None or cached[0] != chunk:
            cached = (chunk, _split(_chunk(self.store, level, chunk)))
            self.chunks[level] = cached
        hashes = cached[1]
        return hashes[index % TILE_WIDTH] if index % TILE_WIDTH < len(hashes) else None

    def emit(self, level: int, index: int, value: bytes) -> None:
        stored = self.stored(level, index)
        self.report.hashes_checked += 1
        if stored is None:
            self.report.fault(f"level {level} hash {index}: missing")
        elif stored != value:
            what = f"is not the leaf hash of entry {index}" if level == 0 else "is wrong"
            self.report.fault(f"level {level} hash {index}: {what} (recomputed from entries)")
        if index % 2:
            left = self.pending.pop(level)
            self.emit(level + 1, index // 2, sha256(NODE_PREFIX + left + value).digest())
        else:
            self.pending[level] = value


def _scrub_tree(store: LogStore, size: int, report: ScrubReport) -> None:
    tree = _Recompute(store, report)
    for start in range(0, size, TILE_WIDTH):
        end = min(size, start + TILE_WIDTH)
        try:
            leaves = leaf_hashes(store.read_entries(start, end))
        except IdentityError as exc:
            report.fault(f"entries {start}..{end - 1}: {exc.detail}")
            return
        for offset, leaf in enumerate(leaves):
            tree.emit(0, start + offset, leaf)


def _scrub_counts(store: LogStore, size: int, report: ScrubReport) -> None:
    counted = store.stored_counts()
    level = 0
    while size >> level or counted.get(level):
        want = size >> level
        have = counted.get(level, 0)
        if have != want:
            report.fault(f"level {level} counter: says {have} hashes, the tree has {want}")
        last = -(-want // TILE_WIDTH) - 1 if want else -1
        if want:
            tail = len(_chunk(store, level, last)) // HASH_SIZE
            if tail != want - last * TILE_WIDTH:
                report.fault(f"level {level}: the last chunk holds {tail} hashes")
        if len(_chunk(store, level, last + 1)):
            report.fault(f"level {level}: hashes stored beyond the signed tree")
        level += 1
