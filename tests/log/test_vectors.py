"""Conformance with the shared vectors (read in place from ../shared/vectors).

Deliberate difference from transparency-dev/merkle: the probe
``consistency/additional/sizes-are-equal-one-and-proof-is-empty.json`` expects equal
11-byte "roots" to be accepted for size1 == size2 == 1; we reject every hash that is not
32 bytes (MalformedValueError), so that one probe is asserted to be rejected.
"""

from __future__ import annotations

from typing import Any

import pytest

from identity.errors import IdentityError, LogProofError, MalformedValueError
from identity.log import proofs
from identity.log.checkpoint import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    open_note,
    parse_note,
    sign_note,
    verify_cosignature,
)
from identity.log.hashing import leaf_hash
from identity.log.tiles import Tile, encode_index, tile_levels, tiles_for
from identity.log.tree import MerkleTree
from tests.log.conftest import load_vectors

DELIBERATE = {"consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"}


def _h(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


@pytest.fixture(scope="module")
def tree8() -> Any:
    return load_vectors("merkle/rfc6962_tree8.json")


@pytest.fixture(scope="module")
def built(tree8: Any) -> MerkleTree:
    tree = MerkleTree()
    for leaf in tree8["leaves"]:
        tree.append(bytes.fromhex(leaf))
    return tree


def test_leaf_hashes_and_roots_byte_exact(tree8: Any, built: MerkleTree) -> None:
    assert [leaf_hash(bytes.fromhex(x)).hex() for x in tree8["leaves"]] == tree8["leaf_hashes"]
    assert {str(n): built.root(n).hex() for n in range(9)} == tree8["roots"]


def test_all_inclusion_proofs_byte_exact(tree8: Any, built: MerkleTree) -> None:
    assert len(tree8["inclusion"]) == 36
    for case in tree8["inclusion"]:
        got = built.inclusion_proof(case["index"], case["size"])
        assert [h.hex() for h in got] == case["path"], case
        root = bytes.fromhex(case["root"])
        leaf = bytes.fromhex(case["leaf_hash"])
        assert proofs.verify_inclusion(case["index"], case["size"], leaf, got, root) == root


def test_all_consistency_proofs_byte_exact(tree8: Any, built: MerkleTree) -> None:
    assert len(tree8["consistency"]) == 36
    for case in tree8["consistency"]:
        got = built.consistency_proof(case["size1"], case["size2"])
        assert [h.hex() for h in got] == case["path"], case
        r1, r2 = bytes.fromhex(case["root1"]), bytes.fromhex(case["root2"])
        assert proofs.verify_consistency(case["size1"], case["size2"], r1, r2, got) == r2


def _run(kind: str, p: dict[str, Any]) -> None:
    if kind == "inclusion":
        proofs.verify_inclusion(
            p["leafIdx"], p["treeSize"], bytes.fromhex(p["leafHash"]), _h(p["proof"]),
            bytes.fromhex(p["root"]),
        )  # fmt: skip
    else:
        proofs.verify_consistency(
            p["size1"], p["size2"], bytes.fromhex(p["root1"]), bytes.fromhex(p["root2"]),
            _h(p["proof"]),
        )  # fmt: skip


@pytest.mark.parametrize("kind", ["inclusion", "consistency"])
def test_transparency_dev_probes(kind: str) -> None:
    probes = load_vectors("merkle/transparency-dev-merkle-probes.json")[kind]
    assert len(probes) == 98
    for p in probes:
        if p["source"] in DELIBERATE:
            with pytest.raises(MalformedValueError):
                _run(kind, p)
        elif p["wantErr"]:
            with pytest.raises(IdentityError):
                _run(kind, p)
        else:
            _run(kind, p)  # returns or raises: must return


@pytest.fixture(scope="module")
def notes() -> Any:
    return load_vectors("merkle/tlog_note_vectors.json")


def test_c2sp_signed_note_example(notes: Any) -> None:
    case = notes["signed_note_c2sp_example"]
    verifier = NoteVerifier.from_vkey(case["vkey"])
    assert verifier.key_id.hex() == case["key_id_derived"]
    assert verifier.vkey == case["vkey"]
    note = open_note(case["note"].encode(), [verifier])
    assert note.text == "This is an example message.\n"
    tampered = case["note"].replace("example", "exemplary", 1).encode()
    with pytest.raises(LogProofError):
        open_note(tampered, [verifier])


def test_go_note_resigned_byte_for_byte(notes: Any) -> None:
    case = notes["signed_note_go_peterneumann"]
    signer = NoteSigner.from_skey(case["skey"])
    assert signer.verifier.vkey == case["vkey"]
    assert sign_note(case["text"], [signer]) == case["note"].encode()
    assert (
        open_note(case["note"].encode(), [NoteVerifier.from_vkey(case["vkey"])]).text
        == case["text"]
    )


def test_real_sumdb_checkpoint_and_negative_example(notes: Any) -> None:
    case = notes["checkpoint_sumdb_real"]
    verifier = NoteVerifier.from_vkey(case["vkey"])
    signed = open_checkpoint(case["note"].encode(), verifier, "go.sum database tree")
    assert signed.checkpoint.size == 20852163
    negative = notes["checkpoint_c2sp_example_negative"]["note"].encode()
    with pytest.raises(IdentityError):
        open_checkpoint(negative, verifier, "example.com/behind-the-sofa")
    assert parse_note(negative).signatures[0].key_id.hex() == "033de0ae"


def test_go_format_tree(notes: Any) -> None:
    case = notes["go_tlog_format_tree"]
    record = leaf_hash(case["record"].encode())
    assert record.hex() == case["record_hash_hex"]
    assert Checkpoint("go.sum database tree", 123456789012, record).body() == case["text"]
    assert Checkpoint.parse(case["text"]).size == 123456789012


def test_cosignature_vectors(notes: Any) -> None:
    case = notes["cosignature_v1_ed25519_selfgen"]
    cosigner = NoteVerifier.from_vkey(case["vkey"])
    assert cosigner.public_key.raw.hex() == case["cosigner_pub_hex"]
    signature = parse_note(("x\n\n" + case["signature_line"] + "\n").encode()).signatures[0]
    body = case["signed_message"].split("\n", 2)[2]
    assert verify_cosignature(body, signature, cosigner) == case["timestamp"]
    with pytest.raises(LogProofError):
        verify_cosignature(body.replace("20852163", "20852164"), signature, cosigner)
    decoded = notes["cosignature_c2sp_example_decoded"]
    assert len(decoded["key_id_hex"]) == 8


def test_tile_paths(notes: Any) -> None:
    case = notes["tile_paths"]
    assert encode_index(1234067) == case["index_1234067"]
    for size in (70000, 256):
        expected = case[f"tree_{size}"]
        got = []
        for level in tile_levels(size):
            found = tiles_for(size, level)
            full = sum(t.is_full for t in found)
            partial = found[-1].width if found and not found[-1].is_full else 0
            got.append({"level": level, "full_tiles": full, "partial_width": partial})
        assert got == expected
    assert Tile(0, 0).path == "tile/0/000"
    assert Tile.parse("tile/0/x001/x234/067.p/8") == Tile(0, 1234067, 8)
