"""Strict parsing of entries, checkpoints, notes, tile paths and bundles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from identity.errors import LogProofError, MalformedValueError, NotFoundError
from identity.log.checkpoint import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    parse_note,
    sign_checkpoint,
)
from identity.log.entries import KINDS, LogEntry
from identity.log.hashing import node_hash, parse_hex_hash
from identity.log.tiles import Tile, decode_bundle, encode_bundle

DIGEST = "sha256:" + "ab" * 32
WHEN = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_entry_round_trip_is_canonical_jcs() -> None:
    entry = LogEntry("credential.issued", WHEN, {"credential_digest": DIGEST, "issuer": "did:x"})
    data = entry.to_bytes()
    assert data.startswith(b'{"credential_digest":"sha256:abab')
    assert data.endswith(b'"kind":"credential.issued","time":"2026-05-01T12:00:00Z","v":1}')
    assert LogEntry.parse(data) == entry
    assert set(KINDS) >= {"credential.revoked", "did.deactivated", "data.accessed"}


@pytest.mark.parametrize(
    "data",
    [
        b'{"did":"did:x","kind":"did.deactivated","time":"2026-05-01T12:00:00Z","v":2}',
        b'{"did":"did:x","kind":"did.nope","time":"2026-05-01T12:00:00Z","v":1}',
        b'{"kind":"did.deactivated","time":"2026-05-01T12:00:00Z","v":1}',
        b'{"did":"did:x","kind":"did.deactivated","name":"Ann","time":"2026-05-01T12:00:00Z","v":1}',
        b'{"did":"did:x","kind":"did.deactivated","time":"2026-05-01T12:00:00.5Z","v":1}',
        b'{"did":"did:x","kind":"did.deactivated","time":"2026-13-01T12:00:00Z","v":1}',
        b'{"kind":"did.deactivated","did":"did:x","time":"2026-05-01T12:00:00Z","v":1}',
        b'{"did":1,"kind":"did.deactivated","time":"2026-05-01T12:00:00Z","v":1}',
        b'{"did":"did:x","did":"did:y","kind":"did.deactivated","time":"2026-05-01T12:00:00Z","v":1}',
        b"[]",
    ],
)
def test_entry_parse_rejects(data: bytes) -> None:
    with pytest.raises(MalformedValueError):
        LogEntry.parse(data)


def test_entry_rejects_bad_digest_and_local_time() -> None:
    with pytest.raises(MalformedValueError):
        LogEntry("did.created", WHEN, {"did": "did:x", "document_digest": "sha256:AB"})
    with pytest.raises(MalformedValueError):
        LogEntry("did.deactivated", datetime(2026, 5, 1), {"did": "did:x"})


def test_checkpoint_sign_open_and_strictness(signer: NoteSigner, other_signer: NoteSigner) -> None:
    cp = Checkpoint(signer.name, 5, b"\x01" * 32, ("ext line",))
    signed = sign_checkpoint(cp, signer)
    assert open_checkpoint(signed.note, signer.verifier).checkpoint == cp
    with pytest.raises(LogProofError):  # same name and key ID space, other key: unknown key
        open_checkpoint(signed.note, other_signer.verifier)
    body = cp.body()
    for bad in (body.replace("\n5\n", "\n05\n"), body.replace("\n5\n", "\n-5\n"), body[:-1],
                body.replace("AQEB", "AQE="), f"{signer.name}\n5\n"):  # fmt: skip
        with pytest.raises(MalformedValueError):
            Checkpoint.parse(bad)


def test_note_and_vkey_strictness(signer: NoteSigner) -> None:
    note = sign_checkpoint(Checkpoint(signer.name, 0, b"\x00" * 32), signer).note
    for bad in (note.replace(b"\xe2\x80\x94 ", b"-- "), note[:-1], note.replace(b"\n\n", b"\n"),
                note + b"junk\n", note.replace(b"=\n", b"\n")):  # fmt: skip
        with pytest.raises(MalformedValueError):
            parse_note(bad)
    vkey = signer.verifier.vkey
    assert NoteVerifier.from_vkey(vkey) == signer.verifier
    name, kid, key = vkey.split("+", 2)
    for bad in (
        f"{name}+{'0' * 8}+{key}",
        f"{name}+{kid.upper()}+{key}",
        f"{name}+{kid}",
        f"a b+{kid}+{key}",
    ):
        with pytest.raises(MalformedValueError):
            NoteVerifier.from_vkey(bad)


def test_tiles_and_bundles() -> None:
    assert Tile(3, 1000, 5).path == "tile/3/x001/000.p/5"
    assert Tile.parse("tile/entries/x001/000") == Tile(-1, 1000)
    for bad in ("tile/0/1", "tile/00/000", "tile/0/x000/001", "tile/0/000.p/0", "tile/0/000.p/256",
                "tile/0/000/", "tile/x/000"):  # fmt: skip
        with pytest.raises(MalformedValueError):
            Tile.parse(bad)
    with pytest.raises(NotFoundError):
        Tile(0, 1).check_within(511)
    Tile(0, 1).check_within(512)
    bundle = encode_bundle([b"", b"ab", b"x" * 300])
    assert bundle[:4] == b"\x00\x00\x00\x02" and decode_bundle(bundle, 3)[2] == b"x" * 300
    for bad, count in ((bundle, 2), (bundle[:-1], 3), (bundle + b"\x00", 3)):
        with pytest.raises(MalformedValueError):
            decode_bundle(bad, count)


def test_hash_strictness() -> None:
    with pytest.raises(MalformedValueError):
        node_hash(b"\x00" * 31, b"\x00" * 32)
    with pytest.raises(MalformedValueError):
        parse_hex_hash("g" * 64)
    assert parse_hex_hash("AB" * 32) == b"\xab" * 32
