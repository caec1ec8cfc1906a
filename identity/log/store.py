"""The storage contract of the transparency log.

A :class:`LogStore` keeps four things: the log's identity (origin and public key), the
sequenced entries, the stored hashes of :mod:`identity.log.tree`, and the latest signed
checkpoint. It does no hashing, signing or verification: that is the sequencer's job.

Contract every implementation must honour (``tests/log/test_store_contract.py``):

* **Identity.** :meth:`LogStore.open` binds the store to one log. The first call records
  ``origin`` and ``public_key``; every later call must pass the same pair, otherwise it
  raises :class:`LogIntegrityError` and the store must not be used.
* **Sequencing.** :meth:`LogStore.append_entries` is atomic and durable: when it returns,
  all entries of the batch are stored at contiguous indices starting at the returned
  value; if it raises, none is. Indices are never reused; entries never change.
* **Admission with an act** (issue #12). A record store that anchors acts admits the
  act's entry in the act's own transaction, beside this store's entries: SQLite -- the
  log's tables live in the same file as the records, and the act's transaction inserts
  into ``log_entries`` at ``max(idx) + 1``; Redis -- the act's ``MULTI``/``EXEC``
  ``WATCH``-es ``<prefix>log:size`` and advances it with the entry; memory -- under this
  store's lock. Such entries are indistinguishable from :meth:`append_entries`' and obey
  the same rules (contiguous, never reused, never changed); the integrator picks them up
  by :meth:`entry_count` like any other.
* **Integration.** :meth:`LogStore.integrate` is one atomic transaction that compares the
  stored checkpoint with ``expected`` (byte equality; ``None`` means "none yet") and, only
  if equal, appends the node runs and stores ``checkpoint``. A mismatch raises
  :class:`ConflictError` and writes nothing: two writers can never both advance the log
  from the same checkpoint, so the log cannot fork. Stored hashes only ever grow at the
  end of their level; a run that does not start exactly there raises
  :class:`LogIntegrityError`.
* **Reads** never block writers for long and return exactly what was committed. Reading
  an entry or hash that is not stored raises :class:`NotFoundError` (entries) or
  :class:`LogIntegrityError` (hashes the tree needs but the store lacks).
* Methods are blocking and thread-safe; async callers run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from identity.log.proofs import Address
from identity.log.tree import NodeRun


class LogStore(Protocol):
    """Durable storage of one Merkle log: entries, node hashes, the signed checkpoint.

    The contract is proved on every backend by ``tests/log/test_store_contract.py``;
    methods are blocking and thread-safe."""

    def open(self, origin: str, public_key: bytes) -> None:
        """Bind to the log ``origin`` signed by ``public_key``; refuse another log's store."""
        ...

    def append_entries(self, entries: Sequence[bytes]) -> int:
        """Store ``entries`` atomically and durably at contiguous indices; return the first."""
        ...

    def entry_count(self) -> int:
        """How many entries are sequenced (integrated or not)."""
        ...

    def read_entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``[start, end)``; :class:`NotFoundError` if any is not sequenced."""
        ...

    def read_nodes(self, addresses: Sequence[Address]) -> list[bytes]:
        """Stored hashes at ``(level, index)``, in order; :class:`LogIntegrityError` if absent."""
        ...

    def read_hash_tile(self, level: int, index: int) -> bytes:
        """Up to 256 concatenated hashes of tree ``level`` from index ``256·index`` (may be b"")."""
        ...

    def find_leaf(self, leaf_hash: bytes, below: int) -> int | None:
        """The lowest index ``< below`` whose integrated leaf hash is ``leaf_hash``, if any."""
        ...

    def stored_counts(self) -> dict[int, int]:
        """How many hashes each level holds, by the store's own bookkeeping (Redis: its
        ``levels`` counters; SQLite: the stored chunks' lengths). For a tree of size
        ``n`` under the stored checkpoint it must be ``n >> level`` for every level with
        a hash: the self-checks compare it (:mod:`identity.log.scrub`)."""
        ...

    def latest_checkpoint(self) -> bytes | None:
        """The signed note stored by the last successful :meth:`integrate`, if any."""
        ...

    def integrate(self, expected: bytes | None, checkpoint: bytes, runs: Sequence[NodeRun]) -> None:
        """Atomically: if the stored checkpoint is ``expected``, append ``runs`` and store
        ``checkpoint``; else raise :class:`ConflictError` and change nothing."""
        ...

    def close(self) -> None:
        """Release the store's connections; the store is unusable after."""
        ...
