"""Pure RFC 9162 proofs: generation from stored nodes, and verification.

Nodes are addressed like Go's ``sumdb/tlog`` stored hashes: ``(level, index)`` names the
root of the perfect subtree over leaves ``[index·2^level, (index+1)·2^level)``. Any
sub-range ``D[a:b]`` that appears in RFC 9162's definitions is the right fold of at most
``log2(b-a)`` such perfect subtrees (:func:`range_nodes`), so a proof needs O(log n) node
reads and never touches the leaves.

Generation works in two pure steps: a *plan* (which ranges, hence which nodes) and
:func:`resolve` (fold the hashes the caller read in one batch).

Verification follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) literally,
with this explicit edge-case policy (identical to transparency-dev/merkle's ``proof``
package; see ``tests/log/test_vectors.py`` for the one deliberate difference):

* every hash must be exactly 32 bytes, otherwise :class:`MalformedValueError`;
* inclusion: ``index >= size`` (hence any proof in the empty tree) is rejected;
* consistency: ``size1 > size2`` is rejected; ``size1 == 0`` is rejected (a proof from
  the empty tree is meaningless -- callers that want C2SP tlog-witness semantics, where
  the empty tree is consistent with everything, must special-case it); ``size1 == size2``
  verifies iff the proof is empty and the two roots are equal.

A failing proof raises :class:`LogProofError`; a passing one returns the root it proved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import sha256

from identity.errors import LogProofError
from identity.log.hashing import EMPTY_ROOT, NODE_PREFIX, check_hash, node_hash

Address = tuple[int, int]
"""``(level, index)`` of a stored perfect-subtree hash."""
NodeReader = Callable[[Sequence[Address]], list[bytes]]
"""Reads many stored hashes at once, in the order asked."""
Plan = list[tuple[int, int]]
"""Leaf ranges ``[begin, end)`` whose subtree hashes form a proof, in proof order."""


def _split(size: int) -> int:
    """RFC 9162 §2.1.1 k: the largest power of two below ``size`` (``size >= 2``)."""
    return 1 << ((size - 1).bit_length() - 1)


def range_nodes(begin: int, end: int) -> list[Address]:
    """The perfect subtrees, left to right, whose right fold is MTH(D[begin:end])."""
    nodes: list[Address] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold ``h0 ‖ (h1 ‖ (… ‖ hk))`` of perfect-subtree hashes (RFC 9162 §2.1.1 MTH)."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for h in reversed(hashes[:-1]):
        result = node_hash(h, result)
    return result


def root_plan(size: int) -> Plan:
    """The plan of MTH(D[size]): the one range ``[0, size)``, none for the empty tree."""
    return [(0, size)] if size else []


def inclusion_plan(index: int, size: int) -> Plan:
    """Ranges of PATH(m, D[n]) -- RFC 9162 §2.1.3.1 -- bottom-up."""
    if not 0 <= index < size:
        raise LogProofError("leaf index outside the tree", index=index, tree_size=size)
    ranges: Plan = []
    begin, end = 0, size
    while end - begin > 1:
        k = _split(end - begin)
        if index < begin + k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin += k
    ranges.reverse()
    return ranges


def inclusion_addresses(index: int, size: int) -> tuple[list[Address | None], tuple[int, int]]:
    """PATH(index, D[size]) as stored-node addresses, bottom-up, by bit arithmetic.

    Equal to :func:`inclusion_plan` (``tests/log/test_tree_reference.py`` proves it for
    every leaf of many sizes): with ``m = size - 1`` and ``inner`` the bit length of
    ``index ^ m`` (the level where the leaf's path meets the right edge), the path is the
    leaf's siblings below ``inner - 1`` (all complete), then the right sibling at
    ``inner - 1`` -- the range ``[r, min(size, r + 2^(inner-1)))``, a stored node when it
    is complete, else on the right edge and folded (its slot is ``None``; the range is
    returned, else ``(0, 0)``) --, then the left sibling at every level ``l >= inner``
    where bit ``l`` of ``m`` is set (RFC 9162 §2.1.3.1: a right-edge node without a right
    sibling is carried up unchanged).
    """
    if not 0 <= index < size:
        raise LogProofError("leaf index outside the tree", index=index, tree_size=size)
    last = size - 1
    inner = (index ^ last).bit_length()
    path: list[Address | None] = [(level, (index >> level) ^ 1) for level in range(inner - 1)]
    edge = (0, 0)
    if inner:
        level = inner - 1
        begin = ((index >> level) | 1) << level
        if begin + (1 << level) <= size:
            path.append((level, begin >> level))
        else:
            path.append(None)
            edge = (begin, size)
    level = inner
    rest = last >> inner
    while rest:
        if rest & 1:
            path.append((level, rest ^ 1))
        rest >>= 1
        level += 1
    return path, edge


def consistency_plan(size1: int, size2: int) -> Plan:
    """Ranges of PROOF(m, D[n]) = SUBPROOF(m, D[n], true) -- RFC 9162 §2.1.4.1.

    ``size1 == size2`` gives the empty proof; ``size1 == 0`` is refused (see module doc).
    """
    if not 0 < size1 <= size2:
        raise LogProofError("consistency needs 0 < first <= second", first=size1, second=size2)
    ranges: Plan = []
    begin, end, m, complete = 0, size2, size1, True
    while m != end - begin:
        k = _split(end - begin)
        if m <= k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin += k
            m -= k
            complete = False
    if not complete:
        ranges.append((begin, end))
    ranges.reverse()
    return ranges


def resolve(plan: Plan, read: NodeReader) -> list[bytes]:
    """Read every node the plan needs in one call and fold each range to its hash."""
    per_range = [range_nodes(b, e) for b, e in plan]
    hashes = read([a for nodes in per_range for a in nodes])
    out: list[bytes] = []
    at = 0
    for nodes in per_range:
        out.append(fold(hashes[at : at + len(nodes)]))
        at += len(nodes)
    return out


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2 steps 1-3: the root that ``proof`` implies for ``leaf``."""
    check_hash(leaf, "leaf_hash")
    for p in proof:
        check_hash(p, "proof hash")
    if index >= size or index < 0:
        raise LogProofError("leaf index outside the tree", index=index, tree_size=size)
    return root_from_path(index, size, leaf, proof)


def root_from_path(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """:func:`root_from_inclusion` without re-checking its inputs: for callers whose
    hashes are 32-byte values they read themselves (the log's own read path)."""
    fn, sn, r = index, size - 1, leaf
    sha, prefix = sha256, NODE_PREFIX  # node_hash without its length checks (see above)
    for p in proof:
        if sn == 0:
            raise LogProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = sha(prefix + p + r).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = sha(prefix + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise LogProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bytes:
    """RFC 9162 §2.1.3.2. Returns ``root`` or raises :class:`LogProofError`."""
    check_hash(root, "root")
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise LogProofError(
            "inclusion proof does not lead to the root", index=index, tree_size=size
        )
    return root


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bytes:
    """RFC 9162 §2.1.4.2 with the module's edge-case policy. Returns ``root2`` or raises."""
    check_hash(root1, "first root")
    check_hash(root2, "second root")
    for c in proof:
        check_hash(c, "proof hash")
    if size1 < 1 or size2 < size1:
        raise LogProofError("consistency needs 0 < first <= second", first=size1, second=size2)
    if size1 == size2:
        if proof or root1 != root2:
            raise LogProofError("equal sizes need an empty proof and equal roots")
        return root2
    if not proof:  # step 1
        raise LogProofError("consistency proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # step 2: first is an exact power of 2
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise LogProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:  # iii
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if fr != root1 or sr != root2 or sn != 0:  # step 7
        raise LogProofError("consistency proof does not verify", first=size1, second=size2)
    return root2
