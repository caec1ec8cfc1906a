"""Redis plumbing shared by the Redis stores: clients, key prefixes, retried transactions.

The contract (atomicity, durability, key layout, failure reporting) is stated in
:mod:`identity.storage.redis`; this module implements it: :func:`unavailable_on_error`
and :func:`call` turn redis errors into :class:`UnavailableError`, :func:`transact` runs
one ``WATCH``/``MULTI``/``EXEC`` transaction re-run under contention, and
:class:`RedisRecords` is the base of every Redis store and of each record-family mixin
of :class:`~identity.storage.redis.RedisStore`. The records' JSON form (:func:`_dump`,
:func:`_load`) is shared by those mixins.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from typing import Any, Self, TypeVar

import redis
from redis.client import Pipeline

from identity.errors import UnavailableError
from identity.log.tiles import TILE_WIDTH, encode_bundle
from identity.storage.redis_cluster import (
    AnyRedis,
    connect,
    is_cluster,
    key_prefix,
    wait_for_replicas,
)
from identity.storage.redis_log_keys import (
    LOG_NAMESPACE,
    LogKeys,
    log_keys,
    shard_catalog_key,
    shard_log_keys,
)
from identity.storage.shard_admission import queue_new_shards, route_redis
from identity.stores import Anchor, ApiKeyRecord, CredentialRecord, IssuerRecord, shards_of

T = TypeVar("T")
MAX_ATTEMPTS = 50
"""Optimistic transactions re-run at most this often under contention."""
MAX_REROUTES = 40
"""A transaction refused by a cluster (redirected, slot migrating, cluster down, or its
connection lost before ``EXEC``) is re-run at most this often, :data:`REROUTE_PAUSE_S`
apart (about the time a replica takes to be promoted)."""
REROUTE_PAUSE_S = 0.1
_REROUTABLE = (
    redis.exceptions.MovedError,
    redis.exceptions.AskError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.SlotNotCoveredError,
    redis.exceptions.MasterDownError,
)


def log_prefix(client: object, prefix: str) -> str:
    """Where the log store keeps its keys for the operator's ``prefix``: ``<prefix>log:``,
    hash-tagged on a cluster (:func:`~identity.storage.redis_cluster.key_prefix`) so the
    log shares the slot of the records whose acts it admits."""
    return key_prefix(client, prefix) + LOG_NAMESPACE


@contextmanager
def unavailable_on_error(retry_after: int) -> Iterator[None]:
    """Turn any redis error (except a ``WATCH`` abort) into :class:`UnavailableError`.

    After a timeout or a lost connection the write may or may not have been applied; the
    caller gets :class:`UnavailableError` either way (as with any networked store).
    """
    try:
        yield
    except redis.WatchError as exc:
        if not isinstance(exc.__context__, redis.ConnectionError | redis.TimeoutError):
            raise
        raise UnavailableError("Redis connection lost", retry_after=retry_after) from exc
    except redis.RedisError as exc:
        raise UnavailableError(
            f"Redis is unavailable: {type(exc).__name__}", retry_after=retry_after
        ) from exc


def check_client(client: AnyRedis) -> None:
    """Refuse a client that decodes responses (the stores keep raw bytes), and a cluster
    client that re-sends commands by itself: redis-py's cluster pipeline re-sends a
    command after a redirection or a lost connection on a NEW connection, where the
    transaction's ``WATCH`` is gone -- two writers could then both commit on one read
    (a lost update: two acts on one log index). :func:`transact` re-runs safely instead."""
    if client.get_encoder().decode_responses:
        raise ValueError("the Redis client must not decode responses (decode_responses=False)")
    if is_cluster(client) and client.retry.get_retries() != 0:  # type: ignore[union-attr]
        raise ValueError(
            "the Redis Cluster client must not retry by itself: "
            "RedisCluster(..., retry=Retry(NoBackoff(), 0)) (see redis_cluster.connect)"
        )


def call(client: AnyRedis, fn: Callable[[Any], T], retry_after: int) -> T:
    """``fn(client)``, with any redis error raised as :class:`UnavailableError`."""
    with unavailable_on_error(retry_after):
        return fn(client)


def transact(
    client: AnyRedis, watch: Sequence[str], body: Callable[[Pipeline], T], retry_after: int
) -> T:
    """Run ``body`` under ``WATCH watch``: it reads, calls ``multi()``, queues writes.

    The queued commands are executed after ``body`` returns (a body may also call
    ``pipe.execute()`` itself to read its replies). When a watched key changed, the whole
    call is re-run, at most :data:`MAX_ATTEMPTS` times, then :class:`UnavailableError`.
    On a cluster, a transaction refused before it ran (see :data:`MAX_REROUTES`) is re-run
    too. Exceptions of ``body`` (conflict, not found) propagate with nothing written.
    """
    return transact_wrote(client, watch, body, retry_after)[0]


def transact_wrote(
    client: AnyRedis, watch: Sequence[str], body: Callable[[Pipeline], T], retry_after: int
) -> tuple[T, bool]:
    """:func:`transact`, also saying whether the transaction wrote (ran ``EXEC``)."""
    contended = rerouted = 0
    while contended < MAX_ATTEMPTS:
        sent = False
        try:
            with unavailable_on_error(retry_after), client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(*watch)
                    result = body(pipe)
                    wrote = _in_multi(pipe)
                    if wrote:
                        sent = True
                        pipe.execute()
                    return result, wrote
                except redis.WatchError as exc:
                    if isinstance(exc.__context__, redis.ConnectionError | redis.TimeoutError):
                        raise  # the connection died: EXEC may have run, so do not re-run
                    contended += 1
                    continue
        except UnavailableError as exc:
            cause = exc.__cause__
            safe = isinstance(cause, _REROUTABLE) or (
                not sent and isinstance(cause, redis.ConnectionError | redis.TimeoutError)
            )
            if not (is_cluster(client) and safe) or rerouted >= MAX_REROUTES:
                raise
            rerouted += 1
            time.sleep(REROUTE_PAUSE_S)
    raise UnavailableError("Redis store too contended", retry_after=retry_after)


def _in_multi(pipe: Any) -> bool:
    """Whether ``pipe`` is in ``MULTI`` (a standalone or a cluster pipeline)."""
    if hasattr(pipe, "explicit_transaction"):
        return bool(pipe.explicit_transaction)
    return bool(getattr(pipe._execution_strategy, "_explicit_transaction", False))


def pipe_mget(pipe: Pipeline, keys: Sequence[str]) -> Any:
    """``MGET`` in a transaction (a cluster pipeline refuses its ``mget`` method; the keys
    of one transaction share a slot, so the command itself is fine)."""
    return pipe.execute_command("MGET", *keys)  # type: ignore[no-untyped-call]


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _blob(value: bytes | str | None) -> bytes:
    """A stored value that must exist, as bytes (clients never decode, see check_client)."""
    if value is None:
        raise UnavailableError("Redis store is missing a value it wrote")
    return value.encode() if isinstance(value, str) else value


TRUST_VERSION = "trust-version"
"""The key (under the store's prefix, so on a cluster in the prefix's hash slot with the
issuers, API keys, types and accreditations it versions) of the trust version: ``INCR``
queued in the ``MULTI``/``EXEC`` of every write that changes one of those."""


class RedisRecords:
    """Plumbing every Redis store shares: a client, a key prefix, retried transactions.

    ``NAMESPACE`` keeps each store's keys apart under the operator's prefix.
    """

    NAMESPACE = ""

    def __init__(
        self,
        client: AnyRedis,
        prefix: str = "identity:",
        *,
        retry_after: int = 1,
        min_replicas: int = 0,
        wait_timeout_ms: int = 1000,
    ) -> None:
        check_client(client)
        self._client = client
        self._prefix = key_prefix(client, prefix) + self.NAMESPACE
        self._tagged = key_prefix(client, prefix)
        self._log_keys = log_keys(self._tagged)
        self._log_size = self._log_keys.size
        self._shard_keys: dict[str | None, LogKeys] = {None: self._log_keys}
        self._fence = key_prefix(client, prefix) + "replicated"
        self._retry_after = retry_after
        self._min_replicas = min_replicas
        self._wait_timeout_ms = wait_timeout_ms
        self._owns_client = False

    @classmethod
    def from_url(
        cls,
        url: str,
        prefix: str = "identity:",
        *,
        socket_timeout: float = 2.0,
        min_replicas: int = 0,
        wait_timeout_ms: int = 1000,
    ) -> Self:
        """A store on its own client for ``redis://host:port/db`` or
        ``redis+cluster://host:port,…`` (:func:`~identity.storage.redis_cluster.connect`);
        :meth:`close` closes it. ``min_replicas``: see :meth:`_replicated`."""
        client = connect(url, socket_timeout)
        store = cls(client, prefix, min_replicas=min_replicas, wait_timeout_ms=wait_timeout_ms)
        store._owns_client = True
        return store

    def _replicated(self) -> None:
        """After a write: return once ``min_replicas`` replicas acknowledged it, else
        :class:`UnavailableError` (never an acknowledged write a failover can lose)."""
        wait_for_replicas(
            self._client,
            self._fence,
            self._min_replicas,
            self._wait_timeout_ms,
            self._retry_after,
        )

    def _k(self, name: str) -> str:
        return self._prefix + name

    def _call(self, fn: Callable[[Any], T]) -> T:
        return call(self._client, fn, self._retry_after)

    def _write(self, fn: Callable[[Any], T]) -> T:
        """:meth:`_call` for a single-command write, acknowledged by the replicas."""
        result = call(self._client, fn, self._retry_after)
        self._replicated()
        return result

    def _transact(self, watch: Sequence[str], body: Callable[[Pipeline], T]) -> T:
        """Run ``body`` under ``WATCH watch``: it reads, calls ``multi()``, queues writes;
        a write returns once the replicas acknowledged it (:meth:`_replicated`)."""
        result, wrote = transact_wrote(self._client, watch, body, self._retry_after)
        if wrote:
            self._replicated()
        return result

    def _log_of(self, shard: str | None) -> LogKeys:
        """The keys of log ``shard`` (``None``: the unsharded log), in the records' slot."""
        keys = self._shard_keys.get(shard)
        if keys is None:
            keys = self._shard_keys[shard] = shard_log_keys(self._tagged, shard)
        return keys

    def _watch(
        self, keys: Sequence[str], anchored: bool, anchors: Sequence[Anchor | None] = ()
    ) -> list[str]:
        """``keys``, plus the log's size when the write admits log entries (the size of
        every log shard named -- or first picked -- by ``anchors``, when given, and the
        shard catalog)."""
        if not anchored:
            return list(keys)
        shards = list(shards_of(anchors))
        shards += [a.picked for a in anchors if a is not None and a.picked not in (None, *shards)]
        sizes = [self._log_of(s).size for s in shards] or [self._log_size]
        catalog = [self._catalog_key] if any(s is not None for s in shards) else []
        return [*keys, *sizes, *catalog]

    @property
    def _catalog_key(self) -> str:
        """The log-shard catalog hash (``<prefix>log:shards``, in the records' slot)."""
        return shard_catalog_key(self._tagged)

    def _route(self, pipe: Pipeline, anchors: Sequence[Anchor | None]) -> None:
        """Route the anchors naming a log shard (before ``multi()``; :meth:`_watch` watched
        the catalog): :func:`~identity.storage.shard_admission.route_redis` -- a frozen
        shard refuses the act, a full one spills it into the next split."""
        if any(a is not None and a.shard is not None for a in anchors):
            route_redis(pipe, self._catalog_key, self._log_of, anchors)

    def _first_of(self, pipe: Pipeline, anchor: Anchor | None) -> int:
        """The index ``anchor``'s entry gets in its (routed) log, 0 without an anchor."""
        if anchor is None:
            return 0
        self._route(pipe, [anchor])
        return self._next_entry(pipe, anchor.shard)

    def _next_entry(self, pipe: Pipeline, shard: str | None = None) -> int:
        """The next index of log ``shard`` (read before ``multi()``; :meth:`_watch` made
        it watched)."""
        return int(pipe.get(self._log_of(shard).size) or 0)

    def _admit(self, pipe: Pipeline, first: int, anchors: Sequence[Anchor]) -> None:
        """Queue (after ``multi()``) the entries of ``anchors`` -- all of one log shard --
        at ``first, first + 1, …``: the same bundles and counter as
        :class:`~identity.storage.redis_log.RedisLogStore`."""
        if not anchors:
            return
        queue_new_shards(pipe, self._catalog_key)  # catalog-first, in the same EXEC
        [shard] = shards_of(anchors)
        keys = self._log_of(shard)
        for offset, anchor in enumerate(anchors):
            chunk = (first + offset) // TILE_WIDTH
            pipe.append(keys.entry_bundle(chunk), encode_bundle([anchor.entry]))
        pipe.set(keys.size, first + len(anchors))

    def _transact_anchored(
        self,
        watch: Sequence[str],
        body: Callable[[Pipeline, int], T],
        anchor: Anchor | None,
    ) -> T:
        """:meth:`_transact` for an act: ``body(pipe, first)`` reads, calls ``multi()``
        and queues the record's writes, knowing ``first``, the log index its entry gets;
        the entry is queued in the same ``EXEC`` and ``anchor`` settled once it ran. A
        body that writes nothing (returns before ``multi()``) admits nothing."""
        first = [0]
        wrote = [False]

        def run(pipe: Pipeline) -> T:
            first[0] = self._first_of(pipe, anchor)
            result = body(pipe, first[0])
            wrote[0] = _in_multi(pipe)
            if anchor is not None and wrote[0]:
                self._admit(pipe, first[0], [anchor])
            return result

        result = self._transact(self._watch(watch, anchor is not None, [anchor]), run)
        if anchor is not None and wrote[0]:
            anchor.index = first[0]
        return result

    def close(self) -> None:
        """Close the client only if this store made it (:meth:`from_url`); a shared client given
        to the constructor stays open for its owner."""
        if self._owns_client:
            self._call(lambda r: r.close())


# -- records as JSON: bytes as hex, datetimes as ISO 8601, scopes as a sorted list ----------

Record = TypeVar("Record", IssuerRecord, ApiKeyRecord, CredentialRecord)
_BYTES = frozenset({"sealed_key", "secret_hash", "digest"})
_TIMES = frozenset({"created", "issued_at"})


def _dump(record: IssuerRecord | ApiKeyRecord | CredentialRecord) -> str:
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, bytes):
            value = value.hex()
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, frozenset):
            value = sorted(value)
        out[f.name] = value
    return json.dumps(out)


def _load(cls: type[Record], raw: bytes | str | None) -> Record:
    data = json.loads(_blob(raw))
    for name in data.keys() & _BYTES:
        data[name] = bytes.fromhex(data[name])
    for name in data.keys() & _TIMES:
        data[name] = datetime.fromisoformat(data[name])
    if "scopes" in data:
        data["scopes"] = frozenset(data["scopes"])
    return cls(**data)
