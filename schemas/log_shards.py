"""Response bodies of the log shard routes (``GET /log/shards``; docs/log-shards.md)."""

from __future__ import annotations

from pydantic import Field

from schemas.responses import Open


class LogShard(Open):
    """One shard of the log: its origin (checkpoints' first line), whether it is frozen
    (final checkpoint signed, no more entries), its signed size and root, the verifier
    key of its checkpoints, and the URL prefix its checkpoint and tiles are served under."""

    name: str
    origin: str
    frozen: bool
    treeSize: int | None = Field(description="null while the shard has no checkpoint yet")
    root: str | None = Field(description="hex root hash at treeSize")
    vkey: str
    prefix: str
    servedFrom: str = Field(description="'files' (an exported frozen shard) or 'store'")


class LogShards(Open):
    """Every shard of the log, oldest first."""

    shards: list[LogShard]
