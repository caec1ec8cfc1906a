"""The read side of a log: checkpoint, entries, proofs and tiles, all from stored data.

Everything is answered relative to the latest *signed* checkpoint in the store: entries
that are sequenced but not yet integrated are invisible. Proofs read O(log n) stored
hashes (:mod:`identity.log.proofs`); tiles are slices of stored levels.

**Nothing unverified is served** (issue #12). Every proof is checked against the signed
root before it is returned (for an older tree size, that size's root is itself proved
consistent with the signed one), and every entry against its stored leaf hash. A stored
hash or entry that fails is never handed out: :class:`LogIntegrityError`, and
:attr:`LogReader.corruption` keeps the first such finding (the log's health reports it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256

from identity.errors import LogIntegrityError, LogProofError, NotFoundError, RangeError
from identity.log import proofs, tiles
from identity.log.checkpoint import Checkpoint, NoteVerifier, SignedCheckpoint, open_checkpoint
from identity.log.hashing import HASH_SIZE, check_hash, leaf_hash, node_hash
from identity.log.store import LogStore

FOLD_CACHE = 4096
"""Right-edge range hashes remembered (a few per tree size), each once a proof through
it verified against a signed root."""
ANCHOR_LEVEL = 10
"""Height of the subtrees whose verified hashes let a proof be checked from its leaf up
to them only (``2^10`` leaves each: 9,766 of them at 10⁷)."""
ANCHOR_CACHE = 1 << 15
"""Anchor hashes, and paths above an anchor per tree size, remembered (each bound)."""
ROOT_CACHE = 1024
"""Roots of older tree sizes remembered once proved consistent with a signed root."""


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """RFC 9162 §4.6-style inclusion proof of ``leaf_index`` in a tree of ``tree_size``."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    path: tuple[bytes, ...]

    def __post_init__(self) -> None:
        check_hash(self.leaf_hash, "leaf_hash")
        if not 0 <= self.leaf_index < self.tree_size:
            raise RangeError("leaf index outside the tree")

    def verify(self, root: bytes) -> bytes:
        """Check the path leads from the leaf to ``root`` (RFC 9162 §2.1.3.2); return ``root``
        or raise ``LogProofError``."""
        return proofs.verify_inclusion(
            self.leaf_index, self.tree_size, self.leaf_hash, self.path, root
        )


@dataclass(frozen=True, slots=True)
class TileData:
    """Tile bytes and whether they can be cached forever (full tiles never change)."""

    data: bytes
    immutable: bool


def _fold_up(index: int, leaf: bytes, siblings: Sequence[bytes]) -> bytes:
    """The hash of the subtree of height ``ANCHOR_LEVEL`` holding leaf ``index``, from
    the leaf and its first ``ANCHOR_LEVEL`` siblings (bottom-up, RFC 9162 §2.1.1)."""
    r, prefix = leaf, b"\x01"
    for level in range(ANCHOR_LEVEL):
        sibling = siblings[level]
        r = sha256(prefix + sibling + r if (index >> level) & 1 else prefix + r + sibling).digest()
    return r


class LogReader:
    """Read-only view of a log in ``store``, trusting only checkpoints ``verifier`` signed."""

    def __init__(self, store: LogStore, verifier: NoteVerifier, origin: str | None = None) -> None:
        self.store = store
        self.verifier = verifier
        self.origin = verifier.name if origin is None else origin
        self._cached: SignedCheckpoint | None = None
        self._folds: dict[tuple[int, int], bytes] = {}
        self._roots: dict[int, bytes] = {}
        self._anchors: dict[int, bytes] = {}
        self._uppers: dict[tuple[int, int], tuple[bytes, ...]] = {}
        self.corruption: str | None = None
        """The first damage a read found in the store (``None`` while none was)."""

    def _damaged(self, what: str, **data: object) -> LogIntegrityError:
        if self.corruption is None:
            self.corruption = f"the log store is damaged: {what}"
        return LogIntegrityError(f"the log store is damaged: {what}", **data)

    def _signed_root(self, size: int, signed: Checkpoint | None = None) -> bytes:
        """The root of the tree of ``size`` leaves, proved against the signed checkpoint
        (directly at its size; else by a consistency proof read from the store)."""
        signed = signed or self._signed_for(size)
        if size == signed.size:
            return signed.root
        proved = self._roots.get(size)
        if proved is not None:
            return proved
        root = (
            proofs.resolve(proofs.root_plan(size), self.store.read_nodes)[0]
            if size
            else (proofs.fold(()))
        )
        if size:
            proof = proofs.resolve(
                proofs.consistency_plan(size, signed.size), self.store.read_nodes
            )
            try:
                proofs.verify_consistency(size, signed.size, root, signed.root, proof)
            except LogProofError:
                raise self._damaged(
                    "stored hashes disagree with the signed root", tree_size=size
                ) from None
        if len(self._roots) >= ROOT_CACHE:
            self._roots.clear()
        self._roots[size] = root  # proved against a signed root: the log only grows
        return root

    def _checked_entry(self, index: int, data: bytes) -> bytes:
        if self.store.read_nodes([(0, index)])[0] != leaf_hash(data):
            raise self._damaged("an entry does not match its stored leaf hash", index=index)
        return data

    def checkpoint(self) -> SignedCheckpoint:
        """The latest signed checkpoint, verified (the parse is cached per note)."""
        note = self.store.latest_checkpoint()
        if note is None:
            raise NotFoundError("the log has no checkpoint yet")
        cached = self._cached
        if cached is None or cached.note != note:
            cached = open_checkpoint(note, self.verifier, self.origin)
            self._cached = cached
        return cached

    def _signed_for(self, tree_size: int | None) -> Checkpoint:
        """A signed checkpoint that covers ``tree_size``: the one verified last when it
        does (a tree of that size is inside it for good: the log only grows), else the
        store's latest (``tree_size`` ``None`` always asks the store)."""
        cached = self._cached
        if tree_size is not None and cached is not None and tree_size <= cached.checkpoint.size:
            return cached.checkpoint
        return self.checkpoint().checkpoint

    def _size(self, tree_size: int | None) -> int:
        size = self._signed_for(tree_size).size
        if tree_size is None:
            return size
        if not 0 <= tree_size <= size:
            raise RangeError("tree size beyond the latest checkpoint", tree_size=tree_size)
        return tree_size

    def entry(self, index: int) -> bytes:
        """The entry at ``index`` of the latest checkpoint's tree, checked against its stored
        leaf hash. ``NotFoundError`` past the tree, ``LogIntegrityError`` if they differ."""
        size = self._size(None)
        if not 0 <= index < size:
            raise NotFoundError("no integrated entry at that index", index=index, tree_size=size)
        return self._checked_entry(index, self.store.read_entries(index, index + 1)[0])

    def root(self, tree_size: int | None = None) -> bytes:
        """The root of the tree of ``tree_size`` leaves (default: the latest checkpoint's),
        proved against a signed checkpoint. ``RangeError`` beyond the latest checkpoint."""
        return self._signed_root(self._size(tree_size))

    def leaf_index(self, leaf_hash: bytes, tree_size: int | None = None) -> int:
        """The index of the first leaf with ``leaf_hash`` in the tree of ``tree_size`` leaves;
        ``NotFoundError`` if none, ``RangeError`` beyond the latest checkpoint."""
        size = self._size(tree_size)
        index = self.store.find_leaf(check_hash(leaf_hash, "leaf_hash"), size)
        if index is None:
            raise NotFoundError("no leaf with that hash in the tree", tree_size=size)
        return index

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> InclusionProof:
        """PATH(index, D[tree_size]) -- RFC 9162 §2.1.3.1 -- verified against the signed (or
        proved) root before it is returned. ``RangeError`` for a size or index outside the
        tree; ``LogIntegrityError`` when stored hashes do not lead to the root."""
        signed = self._signed_for(tree_size)
        size = signed.size if tree_size is None else tree_size
        if not 0 <= size <= signed.size:
            raise RangeError("tree size beyond the latest checkpoint", tree_size=tree_size)
        if not 0 <= index < size:
            raise RangeError("leaf index outside the tree", index=index, tree_size=size)
        anchored = self._anchored_proof(index, size)
        if anchored is not None:
            return anchored
        path, leaf, fresh = self._path_and_edge(index, size)
        proof = InclusionProof(index, size, leaf, path)
        checked = self._checked_proof(proof, self._signed_root(size, signed))
        self._remember_fold(fresh)
        self._remember_anchor(checked)
        return checked

    def _anchored(self, index: int, size: int) -> int | None:
        """The anchor subtree ``(ANCHOR_LEVEL, a)`` of ``index`` when it is complete and
        not the last one of the tree (so the path's first ``ANCHOR_LEVEL`` nodes are its
        siblings inside it), else ``None``."""
        anchor = index >> ANCHOR_LEVEL
        return anchor if anchor < (size - 1) >> ANCHOR_LEVEL else None

    def _remember_anchor(self, proof: InclusionProof) -> None:
        """After ``proof`` verified against a signed root: keep the hash of its leaf's
        anchor subtree (immutable: a complete subtree of an append-only log) and the
        path above it for this tree size."""
        anchor = self._anchored(proof.leaf_index, proof.tree_size)
        if anchor is None:
            return
        if len(self._anchors) >= ANCHOR_CACHE:
            self._anchors.clear()
        if len(self._uppers) >= ANCHOR_CACHE:
            self._uppers.clear()
        self._anchors[anchor] = _fold_up(proof.leaf_index, proof.leaf_hash, proof.path)
        self._uppers[(proof.tree_size, anchor)] = proof.path[ANCHOR_LEVEL:]

    def _anchored_proof(self, index: int, size: int) -> InclusionProof | None:
        """The proof of ``index`` from ``ANCHOR_LEVEL`` stored siblings hashed up to the
        verified hash of its anchor subtree, plus the verified path above it for this
        size -- ``None`` (the full check then runs) unless both are known and the
        stored nodes lead exactly to the anchor. Every node served is thus verified:
        the lower ones by the hash chain to a verified subtree hash, the upper ones by
        an earlier check against the signed root of this very tree size."""
        anchor = self._anchored(index, size)
        if anchor is None:
            return None
        known = self._anchors.get(anchor)
        upper = self._uppers.get((size, anchor))
        if known is None or upper is None:
            return None
        addresses = [(level, (index >> level) ^ 1) for level in range(ANCHOR_LEVEL)]
        addresses.append((0, index))
        *lower, leaf = self.store.read_nodes(addresses)
        if _fold_up(index, leaf, lower) != known:
            return None  # the full check names the damage
        return InclusionProof(index, size, leaf, (*lower, *upper))

    def _path(self, index: int, size: int) -> tuple[tuple[bytes, ...], bytes]:
        """PATH(index, D[size]) and the leaf hash, in one store read.

        Equal to ``proofs.resolve(proofs.inclusion_plan(index, size), read_nodes)``
        (tests/log/test_self_check.py proves it): see :meth:`_path_and_edge`.
        """
        path, leaf, _edge = self._path_and_edge(index, size)
        return path, leaf

    def _path_and_edge(
        self, index: int, size: int
    ) -> tuple[tuple[bytes, ...], bytes, tuple[tuple[int, int], bytes] | None]:
        """The path by :func:`proofs.inclusion_addresses`: every complete node and the
        leaf hash in one store read; the one range on the right edge (if any) is folded
        from the store, or taken from the folds remembered after a proof through them
        verified (MTH(D[begin:end]) of an integrated range never changes). The level-1
        sibling is hashed from its two leaves, which lie in the leaf's own level-0 chunk:
        one stored row fewer per proof (those leaves are covered by the same check
        against the signed root as every other node read). Returns the path, the leaf
        hash and the fold to remember once the proof verifies."""
        addresses, edge = proofs.inclusion_addresses(index, size)
        first, second = ([*addresses, None, None])[:2]
        pair = first is not None and second is not None and first[0] == 0 and second[0] == 1
        if pair:  # the level-1 sibling from its two leaves, in the leaf's own chunk
            sibling = second[1]  # type: ignore[index]
            wanted = [a for a in addresses[2:] if a is not None]
            wanted += [(0, 2 * sibling), (0, 2 * sibling + 1), (0, index ^ 1), (0, index)]
        else:
            wanted = [a for a in addresses if a is not None]
            wanted.append((0, index))
        hashes = self.store.read_nodes(wanted)
        if pair:
            hashes = [hashes[-2], node_hash(hashes[-4], hashes[-3]), *hashes[:-4], hashes[-1]]
        fresh: tuple[tuple[int, int], bytes] | None = None
        folded = b""
        if edge[1]:
            known = self._folds.get(edge)
            if known is None:
                [folded] = proofs.resolve([edge], self.store.read_nodes)
                fresh = (edge, folded)
            else:
                folded = known
        it = iter(hashes)
        path = tuple(folded if a is None else next(it) for a in addresses)
        return path, hashes[-1], fresh

    def _remember_fold(self, fresh: tuple[tuple[int, int], bytes] | None) -> None:
        if fresh is not None:
            if len(self._folds) >= FOLD_CACHE:
                self._folds.clear()
            self._folds[fresh[0]] = fresh[1]

    def _checked_proof(self, proof: InclusionProof, root: bytes | None = None) -> InclusionProof:
        expected = root if root is not None else self._signed_root(proof.tree_size)
        if (
            proofs.root_from_path(proof.leaf_index, proof.tree_size, proof.leaf_hash, proof.path)
            != expected
        ):
            raise self._damaged(
                "an inclusion proof from stored hashes misses the signed root",
                index=proof.leaf_index,
                tree_size=proof.tree_size,
            )
        return proof

    def inclusion_proofs(self, indices: Sequence[int], tree_size: int) -> list[InclusionProof]:
        """Proofs for many leaves of one tree, read from the store in one call."""
        size = self._size(tree_size)
        plans = []
        for index in indices:
            if not 0 <= index < size:
                raise RangeError("leaf index outside the tree", index=index, tree_size=size)
            plans.append(proofs.inclusion_plan(index, size))
        flat = [r for plan in plans for r in plan]
        # One store read for every path node and every leaf hash (a leaf is range i..i+1).
        hashes = proofs.resolve(flat + [(i, i + 1) for i in indices], self.store.read_nodes)
        leaf_hashes = hashes[len(flat) :]
        out, at = [], 0
        root = self._signed_root(size)
        for index, plan, leaf in zip(indices, plans, leaf_hashes, strict=True):
            proof = InclusionProof(index, size, leaf, tuple(hashes[at : at + len(plan)]))
            out.append(self._checked_proof(proof, root))
            at += len(plan)
        return out

    def entries(self, indices: Sequence[int]) -> list[bytes]:
        """The integrated entries at ``indices`` (each read once, in one range read when
        they are dense enough)."""
        size = self._size(None)
        if any(not 0 <= i < size for i in indices):
            raise NotFoundError("no integrated entry at some index", tree_size=size)
        if not indices:
            return []
        low, high = min(indices), max(indices) + 1
        if high - low <= 4 * len(indices):
            span = self.store.read_entries(low, high)
            found = [span[i - low] for i in indices]
        else:
            found = [self.store.read_entries(i, i + 1)[0] for i in indices]
        stored = self.store.read_nodes([(0, i) for i in indices])
        for index, data, leaf in zip(indices, found, stored, strict=True):
            if leaf_hash(data) != leaf:
                raise self._damaged("an entry does not match its stored leaf hash", index=index)
        return found

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(first, D[second]) -- RFC 9162 §2.1.4.1 -- verified from the stored root of
        ``first`` to the signed root of ``second`` (default: the latest checkpoint's).
        ``RangeError`` unless ``0 < first <= second``; ``LogIntegrityError`` if it fails."""
        size2 = self._size(second)
        if not 0 < first <= size2:
            raise RangeError("consistency needs 0 < first <= second", first=first, second=size2)
        # The proof and the stored root of ``first`` in one store read.
        *proof, first_root = proofs.resolve(
            proofs.consistency_plan(first, size2) + proofs.root_plan(first), self.store.read_nodes
        )
        try:
            # A verified proof from the stored root of ``first`` to the signed (or proved)
            # root of ``size2`` proves the first root too: one check, not two.
            proofs.verify_consistency(first, size2, first_root, self._signed_root(size2), proof)
        except LogProofError:
            raise self._damaged(
                "a consistency proof from stored hashes does not verify", first=first, second=size2
            ) from None
        return proof

    def tile(self, path: str) -> TileData:
        """A hash tile, partial tile or entry bundle inside the latest checkpoint's tree."""
        tile = tiles.Tile.parse(path)
        size = self._size(None)
        tile.check_within(size)
        if tile.level == tiles.ENTRIES:
            entries = self.store.read_entries(tile.first, tile.first + tile.width)
            return TileData(tiles.encode_bundle(entries), tile.is_full)
        data = self.store.read_hash_tile(tile.tree_level, tile.index)[: tile.width * HASH_SIZE]
        if len(data) != tile.width * HASH_SIZE:
            raise LogIntegrityError("the store lacks a tile inside the tree", path=tile.path)
        return TileData(data, tile.is_full)
