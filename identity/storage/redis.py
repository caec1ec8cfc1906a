"""Redis backend, the scale-out store: several stateless API replicas share one Redis.

Atomicity: every write is a single Redis command (``SET NX``, ``HSETNX``, ``GETDEL``) or
one ``MULTI``/``EXEC`` transaction guarded by ``WATCH`` on everything it read: if another
client changed a watched key, nothing is written and the call is re-run from its reads
(at most :data:`MAX_ATTEMPTS` times, then :class:`UnavailableError`). A rejected call
(conflict, not found) writes nothing. No Lua is needed here, so the store also runs on
plain fakeredis.

Durability: a write that returned is as durable as the server's AOF makes it. With
``appendonly yes`` and ``appendfsync always`` Redis fsyncs the AOF before it replies, so
an acknowledged write survives a crash of the host; with ``everysec`` (Redis' default) up
to about one second of acknowledged writes can be lost on a power failure or kernel crash
(a crash of the Redis process alone loses nothing); without AOF, everything since the last
RDB snapshot. Replication to replicas is asynchronous: a failover can drop the last
acknowledged writes of the old primary -- unless the store is made with ``min_replicas``
(``IDENTITY_REDIS_MIN_REPLICAS``): then a write returns only once that many replicas
acknowledged it (``WAIT``), else :class:`UnavailableError`. On a Redis Cluster
(``redis+cluster://``) the credentials spread over the masters and everything else
shares the prefix's hash slot with the log; see :mod:`identity.storage.redis_cluster`.

Keys all start with ``prefix`` so several services can share one Redis:
``issuers``/``issuer-dids``/``api-keys``/``types``/``accreditations``/``status-groups``/
``status-open`` (hashes), ``credential:<id>``, ``digest:<hex>`` (first id with that
digest), ``subject:<id>`` (list of credential ids), ``credential-count``,
``challenge:<value>``, ``status-list:<group>:<purpose>`` (hash: issuer, bits, version),
``status-taken:<group>`` (bitmap of reserved indices) and ``trust-version`` (the
counter :meth:`RedisStore.trust_version` reads; on a cluster it shares the prefix's hash
slot with the records it versions, so each write's ``MULTI`` stays in one slot).

Any Redis failure (connection refused, timeout, server error) is raised as
:class:`UnavailableError` with ``retry_after`` seconds; never as a raw redis exception.

The plumbing (:func:`call`, :func:`transact`, :func:`check_client`,
:func:`unavailable_on_error`, :class:`RedisRecords`) is in
:mod:`identity.storage.redis_base` and re-exported here; the store's methods are grouped
by record family in :mod:`~identity.storage.redis_issuers` (issuers, API keys,
challenges), :mod:`~identity.storage.redis_credentials` (credentials, status lists) and
:mod:`~identity.storage.redis_registry` (credential types, accreditations).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from identity.storage.redis_base import (
    MAX_ATTEMPTS,
    TRUST_VERSION,
    RedisRecords,
    call,
    check_client,
    transact,
    unavailable_on_error,
)
from identity.storage.redis_credentials import RedisCredentials
from identity.storage.redis_issuers import RedisIssuers
from identity.storage.redis_registry import RedisRegistry
from identity.stores import StoreVersions, check_version_reads

__all__ = [
    "MAX_ATTEMPTS",
    "RedisRecords",
    "RedisStore",
    "call",
    "check_client",
    "transact",
    "unavailable_on_error",
]


class RedisStore(RedisIssuers, RedisCredentials, RedisRegistry):
    """The service's records in one Redis database, under key ``prefix``."""

    def ping(self) -> None:
        """``PING``; ``UnavailableError`` when Redis cannot be reached."""
        self._call(lambda r: r.ping())

    def trust_version(self) -> int:
        """The ``trust-version`` counter under the prefix (0 before the first trust write)."""
        return int(self._call(lambda r: r.get(self._k(TRUST_VERSION))) or 0)

    def read_versions(self, lists: Collection[tuple[str, str]]) -> StoreVersions:
        """One round trip: ``GET trust-version`` alone when no list is named, else one
        pipeline (no ``MULTI``) of it and ``HGET version`` of each
        ``status-list:<group>:<purpose>``. On a cluster all those keys carry the
        prefix's hash tag (:func:`~identity.storage.redis_cluster.key_prefix`): one slot,
        so redis-py sends the pipeline to that slot's node alone, in one write and one
        read of the replies."""
        check_version_reads(lists)
        pairs = list(lists)
        if not pairs:
            return StoreVersions(self.trust_version(), {})
        keys = [self._k(f"status-list:{group}:{purpose}") for group, purpose in pairs]

        def read(r: Any) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            pipe.get(self._k(TRUST_VERSION))
            for key in keys:
                pipe.hget(key, "version")
            replies: list[Any] = pipe.execute()
            return replies

        trust, *versions = self._call(read)
        found = {
            pair: int(version)
            for pair, version in zip(pairs, versions, strict=True)
            if version is not None
        }
        return StoreVersions(int(trust or 0), found)
