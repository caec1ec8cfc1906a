"""Redis Cluster and replica acknowledgement for the Redis stores.

**URLs.** ``redis+cluster://[user:password@]host:port[,host:port…]`` (``rediss+cluster://``
with TLS) names some nodes of one Redis Cluster; redis-py's :class:`RedisCluster` finds
the rest, follows ``MOVED``/``ASK`` redirections and refreshes its slot map after a
failover. :func:`connect` opens either kind of URL.

**Hash slots.** Every ``MULTI``/``EXEC`` and every Lua script of the stores touches keys
of ONE hash slot, as Redis Cluster requires. Two layouts share that rule:

* the prefix's own tag (:func:`key_prefix`: ``identity:`` becomes ``{identity}:``) for the
  log and for the acts that admit their log entry in their own transaction (issuers,
  credential types, accreditations, status lists, the directory chain, the wallet) and
  for ``trust-version``, which the writes of issuers, API keys, types and accreditations
  grow in their own ``MULTI`` (:meth:`~identity.storage.redis.RedisStore.trust_version`):
  co-located with the log by the shared tag, each such act stays one transaction;
* the credentials -- the bulk of the records -- spread over :data:`~identity.storage.
  redis_spread.SPREAD_BUCKETS` tags ``{identity~N}:`` chosen per credential id, digest
  and subject, so they fall on every master; an issuance is then a transaction in the
  record's slot plus an idempotent admission into the log's slot through an outbox
  (:mod:`identity.storage.redis_spread`), exact under crashes and failovers.

``docs/scaling.md`` has the measured cost and the capacity model.

**Failures.** The cluster client does not re-send commands on its own (``retries=0``): a
transaction whose ``EXEC`` was sent may have run, and re-sending it (without its
``WATCH``) could apply an act twice. :func:`identity.storage.redis_base.transact` re-runs a
transaction itself when that is safe (a redirection, ``TRYAGAIN`` during a slot
migration, ``CLUSTERDOWN``, or a lost connection before ``EXEC``), with a short backoff;
everything else is :class:`~identity.errors.UnavailableError` (HTTP 503 with
``Retry-After``) while no master serves the slot.

**Replica acknowledgement.** With ``min_replicas`` > 0 a write returns only once at
least that many replicas acknowledged it (:func:`wait_for_replicas`: Redis ``WAIT``);
when they do not within ``wait_timeout_ms`` the write raises
:class:`~identity.errors.UnavailableError` -- the act may still take effect (it is on the
master, and it is whole: record and log entry), but it is never acknowledged as durable.
With 0 (the default) an acknowledged write may be lost when its master fails before the
replica received it (Redis replication is asynchronous).
"""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry

from identity.errors import UnavailableError

CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
"""URL schemes of a Redis Cluster."""

AnyRedis = redis.Redis | RedisCluster
"""A client of a standalone Redis or of a Redis Cluster."""


def is_cluster_url(url: str) -> bool:
    """Whether ``url`` names a Redis Cluster (:data:`CLUSTER_SCHEMES`)."""
    return url.startswith(CLUSTER_SCHEMES)


def is_cluster(client: object) -> bool:
    """Whether ``client`` is a Redis Cluster client."""
    return isinstance(client, RedisCluster)


def key_prefix(client: object, prefix: str) -> str:
    """The prefix the stores' keys really start with: ``prefix`` on a standalone Redis
    (keys unchanged), ``{prefix-without-colon}:`` on a cluster (one hash slot)."""
    if not is_cluster(client):
        return prefix
    return "{" + prefix.rstrip(":") + "}:"


def connect(url: str, socket_timeout: float = 2.0) -> AnyRedis:
    """A client for a ``redis://``/``rediss://`` or ``redis+cluster://`` URL.

    Raises :class:`ValueError` for a cluster URL without nodes, and redis errors when no
    node named answers (the caller turns those into one clear line).
    """
    timeouts: dict[str, Any] = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_timeout,
    }
    if not is_cluster_url(url):
        return redis.Redis.from_url(url, **timeouts)
    rest = url.partition("://")[2].partition("/")[0].partition("?")[0]
    userinfo, _, hosts = rest.rpartition("@")
    username, _, password = userinfo.partition(":")
    nodes = []
    for item in filter(None, hosts.split(",")):
        host, _, port = item.rpartition(":")
        nodes.append(ClusterNode(host or "127.0.0.1", int(port or 6379)))  # type: ignore[no-untyped-call]
    if not nodes:
        raise ValueError("a redis+cluster:// URL names at least one host:port")
    credentials: dict[str, Any] = {}
    if username:
        credentials["username"] = _unquote(username)
    if password:
        credentials["password"] = _unquote(password)
    return RedisCluster(
        startup_nodes=nodes,
        ssl=url.startswith("rediss+"),
        retry=Retry(NoBackoff(), 0),
        **credentials,
        **timeouts,
    )


def _unquote(text: str) -> str:
    """Percent-decoding of a URL's user or password (RFC 3986 section 2.1)."""
    raw = text.encode()
    out, at = bytearray(), 0
    while at < len(raw):
        if raw[at] == ord("%") and at + 2 < len(raw):
            out.append(int(raw[at + 1 : at + 3], 16))
            at += 3
        else:
            out.append(raw[at])
            at += 1
    return out.decode()


def cluster_enabled(client: redis.Redis) -> bool:
    """Whether the standalone-looking server behind ``client`` is a cluster node (a plain
    ``redis://`` URL pointed at one node of a cluster, refused at start)."""
    info = client.info("cluster")
    return bool(info.get("cluster_enabled"))


def wait_for_replicas(
    client: AnyRedis, fence_key: str, min_replicas: int, timeout_ms: int, retry_after: int
) -> None:
    """Return once ``min_replicas`` replicas hold every write made so far to the master
    serving ``fence_key``'s slot; else :class:`UnavailableError`.

    ``WAIT`` counts the writes of its own connection, and the transaction that wrote ran
    on a pooled one: so this writes ``fence_key`` (``INCR``) and ``WAIT`` s on one
    connection. The master's replication stream is ordered, so a replica that has the
    fence has every write the master made before it.
    """
    if min_replicas <= 0:
        return
    try:
        node_client = (
            client.get_node_from_key(fence_key).redis_connection  # type: ignore[no-untyped-call]
            if isinstance(client, RedisCluster)
            else client
        )
        if node_client is None:
            raise UnavailableError("no master serves the slot", retry_after=retry_after)
        with node_client.pipeline(transaction=False) as pipe:
            pipe.incr(fence_key)
            pipe.execute_command("WAIT", min_replicas, timeout_ms)
            _, acknowledged = pipe.execute()
    except redis.RedisError as exc:
        raise UnavailableError(
            f"Redis is unavailable: {type(exc).__name__}", retry_after=retry_after
        ) from exc
    if int(acknowledged) < min_replicas:
        raise UnavailableError(
            f"the write reached {int(acknowledged)} of the {min_replicas} replicas required "
            f"within {timeout_ms} ms",
            retry_after=retry_after,
        )
