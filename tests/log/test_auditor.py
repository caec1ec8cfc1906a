"""The pure auditor replays a log from its tiles and names the first thing that is wrong."""

from __future__ import annotations

import asyncio

import pytest

from identity.errors import LogIntegrityError
from identity.log.auditor import AuditState, audit_log
from identity.log.checkpoint import NoteSigner
from identity.log.reader import LogReader
from identity.log.sequencer import TransparencyLog
from identity.storage.memory_log import MemoryLogStore


class ReaderSource:
    """Serves a log's tiles straight from its reader, like the HTTP router does."""

    def __init__(self, store: MemoryLogStore, reader: LogReader) -> None:
        self.store, self.reader = store, reader
        self.fetched: list[str] = []

    def checkpoint(self) -> bytes:
        return self.store.latest_checkpoint() or b""

    def tile(self, path: str) -> bytes:
        self.fetched.append(path)
        return self.reader.tile(path).data


def build(signer: NoteSigner, sizes: list[int]) -> tuple[MemoryLogStore, LogReader, list[bytes]]:
    store = MemoryLogStore()
    notes = []

    async def run() -> None:
        log = TransparencyLog(store, signer, max_delay_ms=0)
        await log.start()
        done = 0
        for size in sizes:
            await asyncio.gather(*(log.append(b"entry %d" % i) for i in range(done, size)))
            notes.append((await log.integrate()).note)
            done = size
        await log.stop()

    asyncio.run(run())
    return store, LogReader(store, signer.verifier), notes


SIZES = [3, 256, 600, 66000]


@pytest.fixture(scope="module")
def module_signer() -> NoteSigner:
    from tests.log.conftest import ORIGIN, Ed25519PrivateKey

    return NoteSigner(ORIGIN, Ed25519PrivateKey(bytes(range(32))))


def test_audit_passes_and_checks_every_tile(module_signer: NoteSigner) -> None:
    store, reader, notes = build(module_signer, SIZES)
    source = ReaderSource(store, reader)
    report = audit_log(source, module_signer.verifier, AuditState(tuple(notes[:-1])))
    assert report.entries_checked == 66000
    assert report.checkpoints_checked == len(SIZES)
    # 66000 = 257 full + 1 partial level-0 tiles, 1 + partial level-1, partial level-2
    assert report.tiles_checked == 258 + 2 + 1
    assert "tile/1/000" in source.fetched and "tile/2/000.p/1" in source.fetched
    assert report.state.checkpoints == tuple(notes)
    again = audit_log(source, module_signer.verifier, report.state)
    assert again.state == report.state


def _expect(store: MemoryLogStore, reader: LogReader, signer: NoteSigner, state: AuditState,
            message: str, where: str) -> None:  # fmt: skip
    with pytest.raises(LogIntegrityError) as caught:
        audit_log(ReaderSource(store, reader), signer.verifier, state)
    assert message in caught.value.detail
    assert caught.value.data["where"] == where


def test_catches_a_flipped_entry(module_signer: NoteSigner) -> None:
    store, reader, _notes = build(module_signer, [600])
    store.entries[300] = b"entry 30O"
    _expect(store, reader, module_signer, AuditState(), "hash 44 differs", "tile/0/001")


def test_catches_a_flipped_leaf_hash(module_signer: NoteSigner) -> None:
    store, reader, _ = build(module_signer, [600])
    store.nodes.levels[0][32 * 520 + 7] ^= 0x01
    _expect(store, reader, module_signer, AuditState(), "hash 8 differs", "tile/0/002.p/88")


def test_catches_a_flipped_interior_hash(module_signer: NoteSigner) -> None:
    store, reader, _ = build(module_signer, [66000])
    store.nodes.levels[8][32 * 200] ^= 0x80
    _expect(store, reader, module_signer, AuditState(), "hash 200 differs", "tile/1/000")


def test_catches_a_flipped_checkpoint(module_signer: NoteSigner) -> None:
    store, reader, _ = build(module_signer, [600])
    assert store.checkpoint is not None
    store.checkpoint = store.checkpoint.replace(b"\n600\n", b"\n599\n")
    _expect(store, reader, module_signer, AuditState(), "does not verify", "latest checkpoint")


def test_catches_a_rewritten_history(module_signer: NoteSigner) -> None:
    """A validly signed size-300 checkpoint seen earlier over *other* entries: the log
    now served has a different prefix (a fork), named as the seen checkpoint."""
    store, reader, notes = build(module_signer, [600])
    wrong = _sign_size_300_over_other_entries(module_signer)
    _expect(store, reader, module_signer, AuditState((wrong,)),
            "root differs", "seen checkpoint #0")  # fmt: skip
    _, _, honest = build(module_signer, [300])
    report = audit_log(
        ReaderSource(store, reader), module_signer.verifier, AuditState(tuple(honest))
    )
    assert report.state.checkpoints == (honest[0], notes[0])


def _sign_size_300_over_other_entries(signer: NoteSigner) -> bytes:
    store = MemoryLogStore()

    async def run() -> bytes:
        log = TransparencyLog(store, signer, max_delay_ms=0)
        await log.start()
        await asyncio.gather(*(log.append(b"other %d" % i) for i in range(300)))
        note = (await log.integrate()).note
        await log.stop()
        return note

    return asyncio.run(run())


def test_catches_a_shrunk_log(module_signer: NoteSigner) -> None:
    store, reader, _notes = build(module_signer, [600])
    _, _, bigger = build(module_signer, [700])
    _expect(
        store, reader, module_signer, AuditState((bigger[0],)), "older than", "seen checkpoint #0"
    )
