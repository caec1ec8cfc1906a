"""Redis :class:`~identity.directory_store.DirectoryStore`: the directory chain, scaled out.

Layout (every key starts with ``<prefix>dir:``, a namespace no key of
:class:`~identity.storage.redis.RedisStore` or the log store begins with):

* ``did:<did>`` -- list: the DID's operations, index = sequence;
* ``catalog:<id>`` -- list: the entry's versions, index = version - 1;
  ``catalog-latest`` -- hash: id → its latest version;
* ``request:<id>`` -- the request; ``events:<id>`` -- list: its events, index = sequence;
* ``about:<subject>`` and ``agency:<agency>`` -- sets of request ids (an agency's holds
  the requests it made or holds the data for);
* ``dids`` and ``requests`` -- sets of every DID and request id (for reconciliation);
* ``counts`` -- hash of the :meth:`~RedisDirectoryStore.sharing_counts` counters.

Records are JSON (datetimes as ISO 8601 with their offset and microseconds).

Atomicity: each write is one ``MULTI``/``EXEC`` guarded by ``WATCH`` on the history it
extends (:func:`identity.storage.redis.transact`), so of several clients -- threads or
replica processes -- naming the same sequence number exactly one succeeds; the others
re-read and get :class:`ConflictError`. Indexes and counters are updated in the same
``EXEC`` (counters by ``HINCRBY``, unwatched, so requests do not contend on them).
``requests_about``/``requests_of_agency`` read the index set and the requests in one
``WATCH``ed transaction, a consistent snapshot. A transaction spans several keys: on a
Redis Cluster they share the prefix's hash slot (:mod:`identity.storage.redis_cluster`). Durability
and failure reporting are those of :mod:`identity.storage.redis` (AOF; redis errors are
:class:`UnavailableError`).
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import datetime
from typing import Any, TypeVar

from redis.client import Pipeline

from identity.directory_store import (
    CatalogRecord,
    DidOperationRecord,
    SharingEvent,
    SharingRequest,
)
from identity.errors import ConflictError, NotFoundError
from identity.storage.redis import RedisRecords
from identity.storage.redis_base import pipe_mget
from identity.stores import Anchor

T = TypeVar("T")
Record = TypeVar("Record", DidOperationRecord, CatalogRecord, SharingRequest, SharingEvent)
_TIMES = frozenset({"time", "published", "created", "updated", "consent_expires"})


class RedisDirectoryStore(RedisRecords):
    """The directory records in one Redis database, under ``<prefix>dir:``.

    The client is the caller's (not closed by :meth:`close`) unless the store was made
    by :meth:`from_url`.
    """

    NAMESPACE = "dir:"

    def _list(self, cls: type[Record], key: str) -> list[Record]:
        return [_load(cls, raw) for raw in self._call(lambda r: r.lrange(key, 0, -1))]

    # -- DIDs -----------------------------------------------------------------------------

    def append_did_operation(
        self, record: DidOperationRecord, anchor: Anchor | None = None
    ) -> None:
        """One ``MULTI``/``EXEC`` watching ``did:<did>`` (and the log size with an anchor):
        ``ConflictError`` unless ``record.sequence`` is the list's ``LLEN``; ``RPUSH`` the
        operation, add the DID to ``dids``, admit the entry."""
        key = self._k(f"did:{record.did}")

        def body(pipe: Pipeline, first: int) -> None:
            stored = int(pipe.llen(key))
            if record.sequence != stored:
                raise ConflictError(
                    "the DID changed since this operation was made",
                    did=record.did,
                    expected=stored,
                )
            pipe.multi()
            pipe.rpush(key, _dump(replace(record, log_index=first) if anchor else record))
            pipe.sadd(self._k("dids"), record.did)

        self._transact_anchored([key], body, anchor)

    def did_operations(self, did: str) -> list[DidOperationRecord]:
        """``LRANGE`` of ``did:<did>``: the operations by sequence (empty for an unknown DID)."""
        return self._list(DidOperationRecord, self._k(f"did:{did}"))

    def dids(self) -> list[str]:
        """``SMEMBERS dids``, sorted."""
        return sorted(_str(d) for d in self._call(lambda r: r.smembers(self._k("dids"))))

    # -- catalog --------------------------------------------------------------------------

    def add_catalog_version(self, record: CatalogRecord, anchor: Anchor | None = None) -> None:
        """One ``MULTI``/``EXEC`` watching ``catalog:<id>``: ``ConflictError`` when version 1 has
        another publisher or ``record.version`` is not ``LLEN + 1``; ``RPUSH`` the version and
        set it in ``catalog-latest``."""
        key = self._k(f"catalog:{record.id}")

        def body(pipe: Pipeline, first: int) -> None:
            oldest = pipe.lindex(key, 0)
            if oldest is not None and _load(CatalogRecord, oldest).publisher != record.publisher:
                raise ConflictError("another agency publishes this catalog id", id=record.id)
            stored = int(pipe.llen(key))
            if record.version != stored + 1:
                raise ConflictError(
                    "the catalog entry changed since this version was made",
                    id=record.id,
                    expected=stored + 1,
                )
            raw = _dump(replace(record, log_index=first) if anchor else record)
            pipe.multi()
            pipe.rpush(key, raw)
            pipe.hset(self._k("catalog-latest"), record.id, raw)

        self._transact_anchored([key], body, anchor)

    def catalog_versions(self, entry_id: str) -> list[CatalogRecord]:
        """``LRANGE`` of ``catalog:<id>``: the versions in order (empty for an unknown id)."""
        return self._list(CatalogRecord, self._k(f"catalog:{entry_id}"))

    def latest_catalog(self) -> list[CatalogRecord]:
        """``HVALS catalog-latest``, sorted by id."""
        every = self._call(lambda r: r.hvals(self._k("catalog-latest")))
        return sorted((_load(CatalogRecord, raw) for raw in every), key=lambda c: c.id)

    # -- sharing --------------------------------------------------------------------------

    def create_request(
        self, request: SharingRequest, event: SharingEvent, anchor: Anchor | None = None
    ) -> None:
        """One ``MULTI``/``EXEC`` watching ``request:<id>``: ``ConflictError`` if it exists or the
        event is not its event 0; set the request, push the event, add it to ``requests`` and
        its ``about:``/``agency:`` sets, ``HINCRBY`` the ``counts``."""
        key = self._k(f"request:{request.id}")

        def body(pipe: Pipeline, first: int) -> None:
            if pipe.exists(key):
                raise ConflictError("sharing request id already exists", id=request.id)
            if request.events != 1 or event.sequence != 0 or event.request_id != request.id:
                raise ConflictError("a new request starts with its event 0", id=request.id)
            pipe.multi()
            pipe.set(key, _dump(request))
            pipe.rpush(
                self._k(f"events:{request.id}"),
                _dump(replace(event, log_index=first) if anchor else event),
            )
            pipe.sadd(self._k("requests"), request.id)
            for index in self._indexes(request):
                pipe.sadd(index, request.id)
            counts = self._k("counts")
            pipe.hincrby(counts, "requests", 1)
            pipe.hincrby(counts, f"state:{request.state}", 1)
            pipe.hincrby(counts, f"event:{event.kind}", 1)

        self._transact_anchored([key], body, anchor)

    def advance_request(
        self, request: SharingRequest, event: SharingEvent, anchor: Anchor | None = None
    ) -> None:
        """One ``MULTI``/``EXEC`` watching ``request:<id>``: ``NotFoundError`` for an unknown id,
        ``ConflictError`` unless the stored event count is one less and the event extends it;
        moves the id between index sets and the state counters as the request changed."""
        key = self._k(f"request:{request.id}")

        def body(pipe: Pipeline, first: int) -> None:
            raw = pipe.get(key)
            if raw is None:
                raise NotFoundError("no such sharing request", id=request.id)
            stored = _load(SharingRequest, raw)
            if (
                stored.events != request.events - 1
                or event.sequence != stored.events
                or event.request_id != request.id
            ):
                raise ConflictError("the request changed meanwhile; retry", id=request.id)
            before, after = self._indexes(stored), self._indexes(request)
            pipe.multi()
            pipe.set(key, _dump(request))
            pipe.rpush(
                self._k(f"events:{request.id}"),
                _dump(replace(event, log_index=first) if anchor else event),
            )
            for index in before - after:
                pipe.srem(index, request.id)
            for index in after - before:
                pipe.sadd(index, request.id)
            counts = self._k("counts")
            if stored.state != request.state:
                pipe.hincrby(counts, f"state:{stored.state}", -1)
                pipe.hincrby(counts, f"state:{request.state}", 1)
            pipe.hincrby(counts, f"event:{event.kind}", 1)

        self._transact_anchored([key], body, anchor)

    def _indexes(self, request: SharingRequest) -> set[str]:
        return {
            self._k(f"about:{request.subject}"),
            self._k(f"agency:{request.requester}"),
            self._k(f"agency:{request.holder}"),
        }

    def get_request(self, request_id: str) -> SharingRequest:
        """``GET request:<id>``; ``NotFoundError`` if none."""
        raw = self._call(lambda r: r.get(self._k(f"request:{request_id}")))
        if raw is None:
            raise NotFoundError("no such sharing request", id=request_id)
        return _load(SharingRequest, raw)

    def request_ids(self) -> list[str]:
        """``SMEMBERS requests``, sorted."""
        return sorted(_str(i) for i in self._call(lambda r: r.smembers(self._k("requests"))))

    def request_events(self, request_id: str) -> list[SharingEvent]:
        """``LRANGE`` of ``events:<id>``: the events by sequence (empty for an unknown id)."""
        return self._list(SharingEvent, self._k(f"events:{request_id}"))

    def requests_about(self, subject: str) -> list[SharingRequest]:
        """Requests in ``about:<subject>``, read with the set in one watched transaction, oldest
        ``created`` first (ties by id)."""
        return self._indexed(self._k(f"about:{subject}"))

    def requests_of_agency(self, agency: str) -> list[SharingRequest]:
        """Requests in ``agency:<agency>`` (made or held by it), read with the set in one watched
        transaction, oldest ``created`` first (ties by id)."""
        return self._indexed(self._k(f"agency:{agency}"))

    def _indexed(self, index: str) -> list[SharingRequest]:
        """The requests whose ids are in set ``index``, oldest first, read together with
        the set (``EXEC`` fails and the read is re-run when the set changed meanwhile)."""

        def body(pipe: Pipeline) -> list[Any]:
            ids = [_str(raw) for raw in pipe.smembers(index)]
            if not ids:
                return []
            pipe.multi()
            pipe_mget(pipe, [self._k(f"request:{i}") for i in ids])
            [found] = pipe.execute()
            return list(found)

        found = [_load(SharingRequest, raw) for raw in self._transact([index], body)]
        return sorted(found, key=lambda r: (r.created, r.id))

    def sharing_counts(self) -> dict[str, int]:
        """Counters kept in the writes' transactions; a state no request is in any more
        (counter 0) is left out, as the memory store does."""
        raw = self._call(lambda r: r.hgetall(self._k("counts")))
        counts = {"requests": 0}
        for name, value in raw.items():
            if int(value) > 0:
                counts[_str(name)] = int(value)
        return counts


def _str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _dump(record: DidOperationRecord | CatalogRecord | SharingRequest | SharingEvent) -> str:
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        out[f.name] = value.isoformat() if isinstance(value, datetime) else value
    return json.dumps(out)


def _load(cls: type[Record], raw: bytes | str) -> Record:
    data = json.loads(raw)
    for name in data.keys() & _TIMES:
        if data[name] is not None:
            data[name] = datetime.fromisoformat(data[name])
    if "fields" in data:
        data["fields"] = tuple(data["fields"])
    return cls(**data)
