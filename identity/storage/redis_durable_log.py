"""The Redis log store on a Redis Cluster or with replica acknowledgement.

:class:`DurableRedisLogStore` is :class:`~identity.storage.redis_log.RedisLogStore` (its
keys hash-tagged on a cluster, :func:`~identity.storage.redis_base.log_prefix`) whose
writes -- appended entries, integrated hashes and the signed checkpoint -- return only
once ``min_replicas`` replicas acknowledged them
(:func:`~identity.storage.redis_cluster.wait_for_replicas`). So a checkpoint the
sequencer publishes is on a replica before anyone sees it: a failover cannot take the
log back behind a checkpoint already handed out, which would let the next one fork.
"""

from __future__ import annotations

from collections.abc import Sequence

from identity.log.tree import NodeRun
from identity.storage.redis_base import log_prefix
from identity.storage.redis_cluster import AnyRedis, connect, wait_for_replicas
from identity.storage.redis_log import RedisLogStore
from identity.storage.redis_log_keys import LogKeys


class DurableRedisLogStore(RedisLogStore):
    """A :class:`RedisLogStore` whose writes wait for ``min_replicas`` replicas."""

    def __init__(
        self,
        client: AnyRedis,
        prefix: str = "identity:",
        *,
        retry_after: int = 1,
        min_replicas: int = 0,
        wait_timeout_ms: int = 1000,
        keys: LogKeys | None = None,
    ) -> None:
        super().__init__(client, prefix, retry_after=retry_after, keys=keys)  # type: ignore[arg-type]
        self._fence = (keys.base if keys else log_prefix(client, prefix)) + "replicated"
        self._min_replicas = min_replicas
        self._wait_timeout_ms = wait_timeout_ms
        self._any_client = client

    @classmethod
    def open_url(
        cls,
        url: str,
        prefix: str = "identity:",
        *,
        socket_timeout: float = 2.0,
        min_replicas: int = 0,
        wait_timeout_ms: int = 1000,
    ) -> DurableRedisLogStore:
        """A log store on its own client for a ``redis://`` or ``redis+cluster://`` URL;
        :meth:`close` closes it."""
        store = cls(
            connect(url, socket_timeout),
            prefix,
            min_replicas=min_replicas,
            wait_timeout_ms=wait_timeout_ms,
        )
        store._owns_client = True
        return store

    def _replicated(self) -> None:
        wait_for_replicas(
            self._any_client,
            self._fence,
            self._min_replicas,
            self._wait_timeout_ms,
            self._retry_after,
        )

    def open(self, origin: str, public_key: bytes) -> None:
        """:meth:`RedisLogStore.open`, then wait for ``min_replicas`` replicas to hold it
        (``UnavailableError`` after ``wait_timeout_ms``; the write itself stays)."""
        super().open(origin, public_key)
        self._replicated()

    def append_entries(self, entries: Sequence[bytes]) -> int:
        """:meth:`RedisLogStore.append_entries`, returning only once ``min_replicas`` replicas
        hold the entries (``UnavailableError`` on timeout: the entries are stored, unconfirmed)."""
        first = super().append_entries(entries)
        self._replicated()
        return first

    def integrate(self, expected: bytes | None, checkpoint: bytes, runs: Sequence[NodeRun]) -> None:
        """:meth:`RedisLogStore.integrate`, returning only once ``min_replicas`` replicas hold the
        new checkpoint, so no failover can hand out a smaller one after it."""
        super().integrate(expected, checkpoint, runs)
        self._replicated()
