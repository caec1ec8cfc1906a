"""Redis wallet store, under ``<prefix>wallet:``.

* ``entry:<credential id>`` -- JSON ``{subject_id, sealed (hex), kept_at}``;
* ``of:<subject id>`` -- list of the subject's credential ids, in the order kept.

:meth:`RedisWalletStore.keep` is one ``WATCH``/``MULTI``/``EXEC`` on the entry key, so of
two writers of one id exactly one succeeds and the entry and the index change together.
Entries are never deleted, so reading the index and then the entries is consistent. As
the directory store, it needs a standalone Redis (a transaction spans two keys).
"""

from __future__ import annotations

import json
from datetime import datetime

from redis.client import Pipeline

from identity.errors import ConflictError
from identity.storage.redis_base import RedisRecords, _blob
from identity.wallet_store import WalletEntry


def _load(credential_id: str, raw: bytes | str | None) -> WalletEntry:
    data = json.loads(_blob(raw))
    return WalletEntry(
        credential_id,
        data["subject_id"],
        bytes.fromhex(data["sealed"]),
        datetime.fromisoformat(data["kept_at"]),
    )


class RedisWalletStore(RedisRecords):
    """:class:`~identity.wallet_store.WalletStore` in Redis (see the module for keys)."""

    NAMESPACE = "wallet:"

    def keep(self, entry: WalletEntry) -> None:
        """One ``MULTI``/``EXEC`` watching ``entry:<credential id>``: ``ConflictError`` if kept
        (by any subject); else set it and ``RPUSH`` the id to ``of:<subject>``."""
        key = self._k("entry:" + entry.credential_id)
        value = json.dumps(
            {
                "subject_id": entry.subject_id,
                "sealed": entry.sealed.hex(),
                "kept_at": entry.kept_at.isoformat(),
            }
        )

        def body(pipe: Pipeline) -> None:
            if pipe.exists(key):
                raise ConflictError("credential already kept", id=entry.credential_id)
            pipe.multi()
            pipe.set(key, value)
            pipe.rpush(self._k("of:" + entry.subject_id), entry.credential_id)

        self._transact([key], body)

    def find(self, subject_id: str, credential_id: str) -> WalletEntry | None:
        """``GET entry:<credential id>``, ``None`` unless that subject kept it."""
        raw = self._call(lambda r: r.get(self._k("entry:" + credential_id)))
        if raw is None:
            return None
        entry = _load(credential_id, raw)
        return entry if entry.subject_id == subject_id else None

    def of_subject(self, subject_id: str) -> list[WalletEntry]:
        """The ids of ``of:<subject>`` read by one ``MGET``, oldest ``kept_at`` first (stable)."""
        ids = [
            i.decode() if isinstance(i, bytes) else str(i)
            for i in self._call(lambda r: r.lrange(self._k("of:" + subject_id), 0, -1))
        ]
        if not ids:
            return []
        raws = self._call(lambda r: r.mget([self._k("entry:" + i) for i in ids]))
        entries = [_load(i, raw) for i, raw in zip(ids, raws, strict=True)]
        return sorted(entries, key=lambda e: e.kept_at)


def beside(store: RedisRecords) -> RedisWalletStore:
    """A wallet store on ``store``'s client and key prefix (the client stays ``store``'s:
    closing the wallet store does not close it)."""
    root = store._prefix.removesuffix(store.NAMESPACE)
    return RedisWalletStore(store._client, root, retry_after=store._retry_after)
