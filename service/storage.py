"""Open the backend named by the storage URL in settings, refusing bad set-ups loudly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
from redis.exceptions import RedisClusterException

from identity.directory_store import DirectoryStore
from identity.errors import UnavailableError
from identity.log.store import LogStore
from identity.storage.memory import MemoryStore
from identity.storage.memory_directory import MemoryDirectoryStore
from identity.storage.memory_log import MemoryLogStore
from identity.storage.redis import RedisStore
from identity.storage.redis_cluster import CLUSTER_SCHEMES, cluster_enabled
from identity.storage.redis_directory import RedisDirectoryStore
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_directory import SqliteDirectoryStore
from identity.stores import Store
from service.file_modes import owner_only
from service.settings import Settings, SettingsError


def sqlite_path(url: str, name: str | None = None, data_dir: Path | None = None) -> Path:
    """The database file of a ``sqlite:///`` URL (or ``name`` beside it), its folder made,
    owner-only (:func:`service.file_modes.owner_only`; the folder is tightened too when it
    is ``data_dir``)."""
    path = Path(url.removeprefix("sqlite:///"))
    if name is not None:
        path = path.parent / name
    ours = data_dir is not None and path.parent.resolve() == data_dir.resolve()
    owner_only(path, directory_is_ours=ours)
    return path


REDIS_SCHEMES = ("redis://", "rediss://", *CLUSTER_SCHEMES)
"""Storage URL schemes of the Redis backends (standalone, and Redis Cluster)."""


def redis_options(settings: Settings) -> dict[str, Any]:
    """The Redis stores' ``from_url`` options from the settings (timeouts, replicas)."""
    return {
        "socket_timeout": settings.redis_timeout_s,
        "min_replicas": settings.redis_min_replicas,
        "wait_timeout_ms": settings.redis_wait_timeout_ms,
    }


def _open_redis(settings: Settings, url: str) -> RedisStore:
    """The Redis store, refused with one clear line when the server does not answer, is
    no cluster for a ``redis+cluster://`` URL, or is one for a plain ``redis://`` URL."""
    try:
        store = RedisStore.from_url(url, settings.redis_prefix, **redis_options(settings))
    except (redis.RedisError, RedisClusterException, ValueError) as exc:
        raise SettingsError(
            f"IDENTITY_STORAGE_URL: no Redis Cluster answers at {redact(url)} ({exc}); "
            "check the nodes named and that they run with cluster-enabled yes"
        ) from None
    try:
        store.ping()
        if not url.startswith(CLUSTER_SCHEMES) and cluster_enabled(store._client):  # type: ignore[arg-type]
            store.close()
            raise SettingsError(
                f"IDENTITY_STORAGE_URL: Redis at {redact(url)} is a node of a Redis Cluster; "
                "use redis+cluster://host:port[,host:port...]"
            )
        store.list_types()
    except (UnavailableError, redis.RedisError) as exc:
        store.close()
        detail = exc.detail if isinstance(exc, UnavailableError) else type(exc).__name__
        raise SettingsError(
            f"IDENTITY_STORAGE_URL: Redis at {redact(url)} does not answer ({detail}); "
            "check the URL and that Redis is running"
        ) from None
    return store


def open_store(settings: Settings) -> Store:
    """The store ``settings`` name: SQLite (``sqlite:///``), Redis or Redis Cluster (checked to
    answer), or ``memory://`` (nothing kept across restarts). A Redis namespace that holds
    nothing is refused in production unless ``redis_initialize``; every refusal is a
    :class:`SettingsError` whose message hides the URL's credentials."""
    url = settings.resolved_storage_url
    if url.startswith("sqlite:///"):
        path = sqlite_path(url, data_dir=settings.data_dir)
        return SqliteStore(path, synchronous=settings.sqlite_synchronous)
    if url.startswith(REDIS_SCHEMES):
        store = _open_redis(settings, url)
        empty = not store.list_issuers() and not store.list_types()
        if empty and settings.env == "production" and not settings.redis_initialize:
            store.close()
            raise SettingsError(
                f"IDENTITY_REDIS_PREFIX: Redis at {redact(url)} holds nothing under prefix "
                f"{settings.redis_prefix!r}: a wrong prefix? For the very first start set "
                "IDENTITY_REDIS_INITIALIZE=true"
            )
        return store
    if url.startswith("memory://"):
        return MemoryStore()
    raise SettingsError(
        f"IDENTITY_STORAGE_URL: unsupported scheme {url.split('://')[0]}:// "
        "(use sqlite:///, redis://, rediss://, redis+cluster:// or memory://)"
    )


def open_directory_store(settings: Settings) -> DirectoryStore:
    """The directory chain's records, in the same database as the main store."""
    url = settings.resolved_storage_url
    if url.startswith("sqlite:///"):
        path = sqlite_path(url, data_dir=settings.data_dir)
        return SqliteDirectoryStore(path, synchronous=settings.sqlite_synchronous)
    if url.startswith(REDIS_SCHEMES):
        return RedisDirectoryStore.from_url(url, settings.redis_prefix, **redis_options(settings))
    return MemoryDirectoryStore()


def share_memory_log(
    store: Store, directory: DirectoryStore, log_store: LogStore | None
) -> LogStore | None:
    """Memory backends admit acts to the log object they hold: give the record stores
    and the log one and the same (the log store given, else the main store's)."""
    if not isinstance(store, MemoryStore):
        return log_store
    shared = log_store if isinstance(log_store, MemoryLogStore) else store.log
    store.log = shared
    if isinstance(directory, MemoryDirectoryStore):
        directory.log = shared
    return shared


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}://{rest}"
