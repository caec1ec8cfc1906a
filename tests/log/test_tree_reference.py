"""The fast stored-hash tree against the slow recursive RFC 9162 reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from identity.log import proofs
from identity.log.tree import (
    EMPTY_FRONTIER,
    MerkleTree,
    NodeArray,
    extend,
    extend_one_by_one,
    leaf_hashes,
)
from tests.log import reference

leaves_st = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


@settings(max_examples=60, deadline=None)
@given(leaves_st)
def test_roots_and_proofs_at_every_size(leaves: list[bytes]) -> None:
    tree = MerkleTree()
    for leaf in leaves:
        tree.append(leaf)
    for n in range(len(leaves) + 1):
        root = reference.mth(leaves[:n])
        assert tree.root(n) == root
        for m in range(n):
            path = reference.path(m, leaves[:n])
            assert tree.inclusion_proof(m, n) == path
            leaf = reference.mth([leaves[m]])
            assert proofs.verify_inclusion(m, n, leaf, path, root) == root
        for m in range(1, n + 1):
            cons = reference.proof(m, leaves[:n])
            assert tree.consistency_proof(m, n) == cons
            assert proofs.verify_consistency(m, n, reference.mth(leaves[:m]), root, cons) == root


@settings(max_examples=40, deadline=None)
@given(leaves_st, st.lists(st.integers(1, 20), max_size=6))
def test_batched_extend_equals_single_appends(leaves: list[bytes], cuts: list[int]) -> None:
    """Extending in arbitrary batches writes the same stored hashes as one-by-one appends."""
    single = MerkleTree()
    for leaf in leaves:
        single.append(leaf)
    nodes, frontier, at = NodeArray(), EMPTY_FRONTIER, 0
    for cut in [*cuts, len(leaves)]:
        frontier, runs = extend(frontier, leaf_hashes(leaves[at : at + cut]))
        nodes.write(runs)
        at = min(len(leaves), at + cut)
    assert frontier.size == len(leaves)
    assert frontier.root() == reference.mth(leaves)
    assert nodes.levels == single.nodes.levels


def test_range_nodes_cover_the_range() -> None:
    for begin in range(40):
        for end in range(begin, 80):
            covered = []
            for level, index in proofs.range_nodes(begin, end):
                covered.extend(range(index << level, (index + 1) << level))
            assert covered == list(range(begin, end))


def test_inclusion_addresses_equal_the_rfc_plan() -> None:
    """The read path's bit-arithmetic addresses name exactly the ranges of RFC 9162
    §2.1.3.1's PATH, for every leaf of every size up to 300 and leaves of large sizes."""
    cases = [(i, n) for n in range(1, 301) for i in range(n)]
    cases += [(i, n) for n in (10_000_000, 2**23, 2**23 + 1, 2**40 - 3) for i in
              (0, 1, n // 3, n // 2, n - 2, n - 1)]  # fmt: skip
    for index, size in cases:
        path, edge = proofs.inclusion_addresses(index, size)
        plan = proofs.inclusion_plan(index, size)
        assert len(path) == len(plan)
        for address, (begin, end) in zip(path, plan, strict=True):
            if address is None:
                assert (begin, end) == edge and end == size
            else:
                level, node = address
                assert (node << level, (node + 1) << level) == (begin, end)
        assert (None in path) == (edge != (0, 0))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 600),
    st.lists(st.integers(0, 300), min_size=1, max_size=5),
)
def test_level_by_level_extend_equals_one_by_one(before: int, cuts: list[int]) -> None:
    """The fast :func:`extend` (a run per level) gives the frontier and the runs of the
    literal stack form, from any starting size and for any batch sizes."""
    data = leaf_hashes([b"%d" % i for i in range(before + sum(cuts))])
    fast, _ = extend(EMPTY_FRONTIER, data[:before])
    slow, _ = extend_one_by_one(EMPTY_FRONTIER, data[:before])
    assert fast == slow
    at = before
    for cut in cuts:
        fast, fast_runs = extend(fast, data[at : at + cut])
        slow, slow_runs = extend_one_by_one(slow, data[at : at + cut])
        assert fast == slow
        assert fast_runs == slow_runs
        at += cut
