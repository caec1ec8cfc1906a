"""Open the backend named by the storage URL in settings, refusing bad set-ups loudly."""

from __future__ import annotations

from pathlib import Path

from identity.directory_store import DirectoryStore
from identity.errors import UnavailableError
from identity.storage.memory import MemoryStore
from identity.storage.memory_directory import MemoryDirectoryStore
from identity.storage.redis import RedisStore
from identity.storage.redis_directory import RedisDirectoryStore
from identity.storage.sqlite import SqliteStore
from identity.storage.sqlite_directory import SqliteDirectoryStore
from identity.stores import Store
from service.settings import Settings, SettingsError


def sqlite_path(url: str, name: str | None = None) -> Path:
    """The database file of a ``sqlite:///`` URL (or ``name`` beside it), its folder made."""
    path = Path(url.removeprefix("sqlite:///"))
    if name is not None:
        path = path.parent / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def open_store(settings: Settings) -> Store:
    url = settings.resolved_storage_url
    if url.startswith("sqlite:///"):
        return SqliteStore(sqlite_path(url), synchronous=settings.sqlite_synchronous)
    if url.startswith(("redis://", "rediss://")):
        store = RedisStore.from_url(
            url, settings.redis_prefix, socket_timeout=settings.redis_timeout_s
        )
        try:
            store.ping()
            empty = not store.list_issuers() and not store.list_types()
        except UnavailableError as exc:
            store.close()
            raise SettingsError(
                f"IDENTITY_STORAGE_URL: Redis at {redact(url)} does not answer ({exc.detail}); "
                "check the URL and that Redis is running"
            ) from None
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
        "(use sqlite:///, redis://, rediss:// or memory://)"
    )


def open_directory_store(settings: Settings) -> DirectoryStore:
    """The directory chain's records, in the same database as the main store."""
    url = settings.resolved_storage_url
    if url.startswith("sqlite:///"):
        return SqliteDirectoryStore(sqlite_path(url), synchronous=settings.sqlite_synchronous)
    if url.startswith(("redis://", "rediss://")):
        return RedisDirectoryStore.from_url(
            url, settings.redis_prefix, socket_timeout=settings.redis_timeout_s
        )
    return MemoryDirectoryStore()


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}://{rest}"
