"""Open the backend named by the storage URL in settings."""

from __future__ import annotations

from identity.storage.memory import MemoryStore
from identity.storage.sqlite import SqliteStore
from identity.stores import Store
from service.settings import Settings, SettingsError


def open_store(settings: Settings) -> Store:
    url = settings.resolved_storage_url
    if url.startswith("sqlite:///"):
        from pathlib import Path

        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStore(path, synchronous=settings.sqlite_synchronous)
    if url.startswith("memory://"):
        return MemoryStore()
    raise SettingsError(f"unsupported storage URL scheme in {url.split('://')[0]}://")
