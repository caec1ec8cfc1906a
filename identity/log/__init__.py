"""The transparency log: RFC 9162 Merkle tree, C2SP checkpoints and tiles, sequencer.

Modules: :mod:`~identity.log.hashing` (§2.1 hashes), :mod:`~identity.log.proofs` (pure
proof generation and verification), :mod:`~identity.log.tree` (stored-hash layout,
append), :mod:`~identity.log.checkpoint` (signed notes, checkpoints),
:mod:`~identity.log.tiles` (tlog-tiles), :mod:`~identity.log.entries` (leaf format),
:mod:`~identity.log.store` (storage contract), :mod:`~identity.log.reader` (read path),
:mod:`~identity.log.sequencer` (group commit, integration), :mod:`~identity.log.auditor`.
Nothing is built at import.
"""
