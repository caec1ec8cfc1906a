"""The Merkle tree's write path: a compact range ("frontier") and the stored-hash layout.

Stored-hash layout (as Go's ``sumdb/tlog`` and C2SP tlog-tiles): every *complete*
perfect subtree is stored once at ``(level, index)``; level 0 holds the leaf hashes.
A tree of size ``n`` holds ``n >> level`` hashes at each level, about ``2n`` in all, and
a hash never changes once written. Appending a leaf writes the leaf hash and one hash per
subtree it completes: O(1) amortised.

The :class:`Frontier` is the right edge of the tree: the ``popcount(n)`` perfect
subtrees whose right fold is the root (RFC 9162 §2.1.1). :func:`extend` is pure: it
returns the new frontier and the new hashes as contiguous *runs*, one per level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256

from identity.errors import LogIntegrityError, MalformedValueError, RangeError
from identity.log import proofs
from identity.log.hashing import HASH_SIZE, LEAF_PREFIX, NODE_PREFIX

NodeRun = tuple[int, int, bytes]
"""``(level, first_index, concatenated 32-byte hashes)``: new stored hashes at one level."""


@dataclass(frozen=True, slots=True)
class Frontier:
    """The perfect subtrees on the right edge of a tree of ``size`` leaves, left to right."""

    size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if self.size < 0:
            raise RangeError("a tree size is never negative")
        if len(self.hashes) != self.size.bit_count():
            raise MalformedValueError("a frontier holds one hash per set bit of the size")
        if any(len(h) != HASH_SIZE for h in self.hashes):
            raise MalformedValueError("a Merkle tree hash is exactly 32 bytes")

    @staticmethod
    def addresses(size: int) -> list[proofs.Address]:
        """Where the frontier of a tree of ``size`` leaves is stored."""
        return proofs.range_nodes(0, size)

    def root(self) -> bytes:
        """MTH of the whole tree: the right fold of the frontier (RFC 9162 §2.1.1)."""
        return proofs.fold(self.hashes)


EMPTY_FRONTIER = Frontier(0, ())


def leaf_hashes(entries: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.1 leaf hashes of ``entries``."""
    return [sha256(LEAF_PREFIX + e).digest() for e in entries]


def extend(frontier: Frontier, leaves: Sequence[bytes]) -> tuple[Frontier, list[NodeRun]]:
    """Append leaf hashes; return the new frontier and the new stored hashes.

    Level by level, a whole run at a time: level ``L``'s new hashes (preceded by the
    frontier's hash at ``L`` when the old size has bit ``L`` set -- the left sibling of
    the first one) are hashed in pairs into level ``L + 1``'s; an unpaired last hash is
    the new frontier's at ``L``. The same hashes, in the same order, as appending one
    leaf at a time (:func:`extend_one_by_one`, the literal form; proved equal by
    ``tests/log/test_tree_reference.py``), without a Python step per leaf and level."""
    if any(len(leaf) != HASH_SIZE for leaf in leaves):
        raise MalformedValueError("a leaf hash is exactly 32 bytes")
    size = frontier.size
    old = dict(zip(_set_bits(size), frontier.hashes, strict=True))
    new_frontier: dict[int, bytes] = {}
    runs: list[NodeRun] = []
    data, level, sha, prefix = b"".join(leaves), 0, sha256, NODE_PREFIX
    while data:
        start = size >> level
        runs.append((level, start, data))
        seq = old[level] + data if start & 1 else data
        pairs = len(seq) // (2 * HASH_SIZE) * (2 * HASH_SIZE)
        if len(seq) > pairs:
            new_frontier[level] = seq[pairs:]
        data = b"".join([sha(prefix + seq[at : at + 64]).digest() for at in range(0, pairs, 64)])
        level += 1
    for high, value in old.items():  # the levels the new leaves did not reach
        if high >= level:
            new_frontier[high] = value
    ordered = tuple(new_frontier[lvl] for lvl in sorted(new_frontier, reverse=True))
    return Frontier(size + len(leaves), ordered), runs


def _set_bits(size: int) -> list[int]:
    """The set bits of ``size``, highest first: the levels of its frontier's hashes."""
    return [lvl for lvl in range(size.bit_length() - 1, -1, -1) if size >> lvl & 1]


def extend_one_by_one(
    frontier: Frontier, leaves: Sequence[bytes]
) -> tuple[Frontier, list[NodeRun]]:
    """:func:`extend` one leaf at a time, as a stack: the literal form it is proved
    equal to (kept for the tests and the benchmark's comparison)."""
    stack = list(frontier.hashes)
    size = frontier.size
    runs: list[bytearray] = [bytearray()]
    prefix = NODE_PREFIX
    for leaf in leaves:
        if len(leaf) != HASH_SIZE:
            raise MalformedValueError("a leaf hash is exactly 32 bytes")
        runs[0] += leaf
        h, i, level = leaf, size, 0
        while i & 1:  # the new leaf completes the subtree to its left
            h = sha256(prefix + stack.pop() + h).digest()
            i >>= 1
            level += 1
            if level == len(runs):
                runs.append(bytearray())
            runs[level] += h
        stack.append(h)
        size += 1
    new = [(lvl, frontier.size >> lvl, bytes(run)) for lvl, run in enumerate(runs) if run]
    return Frontier(size, tuple(stack)), new


class NodeArray:
    """Stored hashes in memory: one ``bytearray`` per level. Used by the memory store."""

    def __init__(self) -> None:
        self.levels: list[bytearray] = []

    def count(self, level: int) -> int:
        """How many hashes ``level`` holds (0 for a level never written)."""
        return len(self.levels[level]) // HASH_SIZE if level < len(self.levels) else 0

    def write(self, runs: Sequence[NodeRun]) -> None:
        """Append runs; each must start exactly where its level ends (hashes never change)."""
        for level, start, data in runs:
            while len(self.levels) <= level:
                self.levels.append(bytearray())
            if start != self.count(level) or len(data) % HASH_SIZE:
                raise LogIntegrityError(
                    "stored hashes must grow contiguously", level=level, start=start
                )
        for level, _start, data in runs:
            self.levels[level] += data

    def read(self, addresses: Sequence[proofs.Address]) -> list[bytes]:
        """The hashes at ``(level, index)``, in order; ``LogIntegrityError`` for any not stored."""
        out = []
        levels = self.levels
        for level, index in addresses:
            at = index * HASH_SIZE
            if level >= len(levels) or at + HASH_SIZE > len(levels[level]):
                raise LogIntegrityError("a needed stored hash is missing", level=level, index=index)
            out.append(bytes(levels[level][at : at + HASH_SIZE]))
        return out


class MerkleTree:
    """An in-memory RFC 9162 tree with O(1) amortised append and O(log n) proofs."""

    def __init__(self) -> None:
        self.nodes = NodeArray()
        self._stack: list[bytes] = []
        self.size = 0

    def append(self, entry: bytes) -> int:
        """Add one entry; return its index."""
        levels = self.nodes.levels
        h = sha256(LEAF_PREFIX + entry).digest()
        index = i = self.size
        if not levels:
            levels.append(bytearray())
        levels[0] += h
        level = 0
        stack = self._stack
        while i & 1:
            h = sha256(NODE_PREFIX + stack.pop() + h).digest()
            i >>= 1
            level += 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += h
        stack.append(h)
        self.size = index + 1
        return index

    def frontier(self) -> Frontier:
        """The tree's frontier: its size and the roots of its perfect subtrees, left to right."""
        return Frontier(self.size, tuple(self._stack))

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise RangeError("tree size beyond the tree", tree_size=size, size=self.size)

    def root(self, size: int | None = None) -> bytes:
        """MTH(D[size]) (default: the whole tree) from stored hashes, RFC 9162 §2.1.1;
        ``RangeError`` beyond the tree."""
        size = self.size if size is None else size
        self._check_size(size)
        return (
            proofs.resolve(proofs.root_plan(size), self.nodes.read)[0] if size else proofs.fold(())
        )

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) -- RFC 9162 §2.1.3.1 --, bottom-up; ``RangeError`` for a size
        beyond the tree or an index outside it."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise RangeError("leaf index outside the tree", index=index, tree_size=size)
        return proofs.resolve(proofs.inclusion_plan(index, size), self.nodes.read)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """PROOF(size1, D[size2]) -- RFC 9162 §2.1.4.1 --; ``RangeError`` unless
        ``0 < size1 <= size2 <= size``."""
        size2 = self.size if size2 is None else size2
        self._check_size(size2)
        if not 0 < size1 <= size2:
            raise RangeError("consistency needs 0 < first <= second", first=size1, second=size2)
        return proofs.resolve(proofs.consistency_plan(size1, size2), self.nodes.read)
