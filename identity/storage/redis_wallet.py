"""Redis wallet store, under ``<prefix>wallet:``.

* ``entry:<credential id>`` -- JSON ``{subject_id, sealed (hex), kept_at}``;
* ``of:<subject id>`` -- list of the subject's credential ids, in the order kept.

:meth:`RedisWalletStore.keep_many` (and :meth:`~RedisWalletStore.keep`, a batch of one) is
one ``WATCH``/``MULTI``/``EXEC`` on the entry keys, so of two writers of one id exactly one
succeeds and the entries and the index change together.
Entries are never deleted, so reading the index and then the entries is consistent. As
the directory store, it needs a standalone Redis (a transaction spans two keys).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from redis.client import Pipeline

from identity.errors import ConflictError
from identity.storage.redis_base import RedisRecords, _blob, pipe_mget
from identity.wallet_store import WalletEntry


def _load(credential_id: str, raw: bytes | str | None) -> WalletEntry:
    data = json.loads(_blob(raw))
    return WalletEntry(
        credential_id,
        data["subject_id"],
        bytes.fromhex(data["sealed"]),
        datetime.fromisoformat(data["kept_at"]),
    )


def _value(entry: WalletEntry) -> str:
    """The stored JSON of ``entry`` (its id is in the key)."""
    return json.dumps(
        {
            "subject_id": entry.subject_id,
            "sealed": entry.sealed.hex(),
            "kept_at": entry.kept_at.isoformat(),
        }
    )


class RedisWalletStore(RedisRecords):
    """:class:`~identity.wallet_store.WalletStore` in Redis (see the module for keys)."""

    NAMESPACE = "wallet:"

    def keep(self, entry: WalletEntry) -> None:
        """One ``MULTI``/``EXEC`` watching ``entry:<credential id>``: ``ConflictError`` if kept
        (by any subject); else set it and ``RPUSH`` the id to ``of:<subject>``."""
        [refused] = self.keep_many([entry])
        if refused is not None:
            raise refused

    def keep_many(self, entries: Sequence[WalletEntry]) -> list[ConflictError | None]:
        """One ``MULTI``/``EXEC`` watching every ``entry:<credential id>`` (read by one
        ``MGET``): an id already kept, or earlier in ``entries``, is a ``ConflictError``
        in its slot; the others are set and ``RPUSH``ed to ``of:<subject>`` together."""
        keys = [self._k("entry:" + e.credential_id) for e in entries]
        if not entries:
            return []

        def body(pipe: Pipeline) -> list[ConflictError | None]:
            present = pipe_mget(pipe, keys)
            outcomes: list[ConflictError | None] = []
            taken: set[str] = set()
            pipe.multi()
            for entry, key, there in zip(entries, keys, present, strict=True):
                if there is not None or key in taken:
                    outcomes.append(
                        ConflictError("credential already kept", id=entry.credential_id)
                    )
                    continue
                taken.add(key)
                pipe.set(key, _value(entry))
                pipe.rpush(self._k("of:" + entry.subject_id), entry.credential_id)
                outcomes.append(None)
            return outcomes

        return self._transact(keys, body)

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
