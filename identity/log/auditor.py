"""A pure, independent auditor: replay a log from its tiles and check everything.

Given an :class:`AuditSource` (the log's checkpoint, hash tiles and entry bundles as
bytes; the HTTP wrapper is ``service/audit.py``) and the checkpoints seen before, the
auditor

1. verifies the latest checkpoint's signature and origin, and every earlier seen one's;
2. re-hashes every entry of every entry bundle (RFC 9162 §2.1.1) and rebuilds the tree,
   comparing each served hash tile, hash by hash, with the recomputed hashes;
3. checks the recomputed root at each seen checkpoint's size equals that checkpoint's
   root (a stronger form of consistency: the whole prefix is recomputed) and the latest
   root equals the latest checkpoint's.

It returns an :class:`AuditReport` with the new state, or raises
:class:`LogIntegrityError` naming the first inconsistency it met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from identity.errors import IdentityError, LogIntegrityError
from identity.log import tiles
from identity.log.checkpoint import NoteVerifier, SignedCheckpoint, open_checkpoint
from identity.log.hashing import HASH_SIZE
from identity.log.tree import Frontier, extend, leaf_hashes


class AuditSource(Protocol):
    """Where an auditor reads a log from: its checkpoint and tiles, as served (tlog-tiles)."""

    def checkpoint(self) -> bytes:
        """The log's latest signed checkpoint note."""
        ...

    def tile(self, path: str) -> bytes:
        """A tile or entry bundle by its tlog-tiles path, e.g. ``tile/0/x001/234``."""
        ...


@dataclass(frozen=True, slots=True)
class AuditState:
    """What the auditor has seen: the signed checkpoint notes, oldest first."""

    checkpoints: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What one audit proved: the verified latest checkpoint, how many entries, tiles and
    earlier checkpoints were checked, and the state to pass to the next audit."""

    checkpoint: SignedCheckpoint
    entries_checked: int
    tiles_checked: int
    checkpoints_checked: int
    state: AuditState


def _open(note: bytes, verifier: NoteVerifier, origin: str | None, what: str) -> SignedCheckpoint:
    try:
        return open_checkpoint(note, verifier, origin)
    except IdentityError as exc:
        raise LogIntegrityError(f"{what} does not verify: {exc.detail}", where=what) from exc


class _Replay:
    """Rebuilds the tree from entry bundles, checking tiles and roots as it goes."""

    def __init__(self, source: AuditSource, roots: dict[int, list[tuple[str, bytes]]]) -> None:
        self.source = source
        self.roots = roots
        self.frontier = Frontier(0, ())
        self.pending: dict[int, list[bytes]] = {}  # tile level -> hashes of its open tile
        self.done: dict[int, int] = {}  # tile level -> tiles already checked
        self.tiles_checked = 0

    def check_root(self) -> None:
        for what, root in self.roots.get(self.frontier.size, []):
            if self.frontier.root() != root:
                raise LogIntegrityError(
                    f"{what} root differs from the root recomputed at size {self.frontier.size}",
                    where=what,
                )

    def check_tile(self, tile: tiles.Tile) -> None:
        try:
            served = tiles.split_hashes(self.source.tile(tile.path), tile.width)
        except IdentityError as exc:
            raise LogIntegrityError(f"{tile.path}: {exc.detail}", where=tile.path) from exc
        mine = self.pending[tile.level][: tile.width]
        for position, (got, want) in enumerate(zip(served, mine, strict=True)):
            if got != want:
                raise LogIntegrityError(
                    f"{tile.path} hash {position} differs from the one recomputed from entries",
                    where=tile.path,
                    position=position,
                )
        self.tiles_checked += 1

    def add(self, leaves: list[bytes]) -> None:
        at = 0
        while at < len(leaves):  # stop at every seen size inside this bundle
            low, high = self.frontier.size, self.frontier.size + len(leaves) - at
            step = min((s - low for s in self.roots if low < s <= high), default=high - low)
            self.frontier, runs = extend(self.frontier, leaves[at : at + step])
            at += step
            for level, _start, run in runs:
                if level % tiles.TILE_HEIGHT == 0:
                    hashes = self.pending.setdefault(level // tiles.TILE_HEIGHT, [])
                    hashes.extend(run[i : i + HASH_SIZE] for i in range(0, len(run), HASH_SIZE))
            self.check_root()
        for tile_level, hashes in self.pending.items():
            while len(hashes) >= tiles.TILE_WIDTH:
                index = self.done.get(tile_level, 0)
                self.check_tile(tiles.Tile(tile_level, index))
                self.done[tile_level] = index + 1
                del hashes[: tiles.TILE_WIDTH]

    def finish(self) -> None:
        for tile_level, hashes in self.pending.items():
            if hashes:
                self.check_tile(tiles.Tile(tile_level, self.done.get(tile_level, 0), len(hashes)))


def audit_log(
    source: AuditSource, verifier: NoteVerifier, state: AuditState, origin: str | None = None
) -> AuditReport:
    """Audit the whole log behind ``source``; see the module docstring."""
    latest = _open(source.checkpoint(), verifier, origin, "latest checkpoint")
    seen = [
        _open(n, verifier, origin, f"seen checkpoint #{i}") for i, n in enumerate(state.checkpoints)
    ]
    size = latest.checkpoint.size
    roots: dict[int, list[tuple[str, bytes]]] = {}
    for i, old in enumerate(seen):
        if old.checkpoint.size > size:
            raise LogIntegrityError(
                f"latest checkpoint (size {size}) is older than seen checkpoint #{i}",
                where=f"seen checkpoint #{i}",
            )
        roots.setdefault(old.checkpoint.size, []).append(
            (f"seen checkpoint #{i}", old.checkpoint.root)
        )
    roots.setdefault(size, []).append(("latest checkpoint", latest.checkpoint.root))
    replay = _Replay(source, roots)
    replay.check_root()
    for bundle in tiles.tiles_for(size, tiles.ENTRIES):
        try:
            entries = tiles.decode_bundle(source.tile(bundle.path), bundle.width)
        except IdentityError as exc:
            raise LogIntegrityError(f"{bundle.path}: {exc.detail}", where=bundle.path) from exc
        replay.add(leaf_hashes(entries))
    replay.finish()
    known = state.checkpoints
    new_state = state if known and known[-1] == latest.note else AuditState((*known, latest.note))
    return AuditReport(latest, size, replay.tiles_checked, len(seen) + 1, new_state)
