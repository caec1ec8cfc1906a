"""Redis credentials and status lists (keys ``credential:<id>``, ``digest:<hex>``,
``subject:<id>``, ``credential-count``, ``status-groups``, ``status-open``,
``status-list:<group>:<purpose>`` and ``status-taken:<group>``).

A record family of :class:`~identity.storage.redis.RedisStore`, whose module states the
contract: each write is one ``MULTI``/``EXEC`` guarded by ``WATCH`` on what it read, so a
batch of credentials or of reserved status indices is stored whole or not at all.

On a Redis Cluster the credentials (records, digest and subject indexes) are spread over
the masters instead (:class:`~identity.storage.redis_spread.SpreadCredentials`: one
hash tag per bucket of credential id, digest and subject, an outbox making each issuance
exact); the status lists stay in the prefix's slot with the log, so a status change is
one transaction with its entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import cached_property

import redis
from redis.client import Pipeline

from identity.credentials.status import with_bit
from identity.errors import ConflictError, NotFoundError
from identity.storage.redis_base import RedisRecords, _blob, _dump, _load, _text, pipe_mget
from identity.storage.redis_cluster import is_cluster
from identity.storage.redis_spread import SpreadCredentials
from identity.stores import (
    Anchor,
    CredentialRecord,
    StatusListRecord,
    new_group_id,
    settle,
    shards_of,
)


class RedisCredentials(RedisRecords):
    """Issued credentials' records and the status lists their entries point into."""

    # -- credentials ----------------------------------------------------------------------

    @cached_property
    def _spread(self) -> SpreadCredentials | None:
        """The credentials spread over a cluster's masters; ``None`` on a standalone Redis."""
        if not is_cluster(self._client):
            return None
        base = self._prefix.removesuffix(self.NAMESPACE)[1:].rpartition("}")[0]
        return SpreadCredentials(
            self._client,
            base,
            self._log_of,
            retry_after=self._retry_after,
            replicas=lambda: (self._min_replicas, self._wait_timeout_ms),
        )

    def drain_outbox(self, older_than_s: float = 0.0) -> int:
        """Finish the issuances left in flight on a cluster (see
        :meth:`~identity.storage.redis_spread.SpreadCredentials.drain_outbox`); how many.
        Nothing to do on a standalone Redis (an issuance is one transaction there)."""
        return 0 if self._spread is None else self._spread.drain_outbox(older_than_s)

    def put_credential(self, record: CredentialRecord, anchor: Anchor | None = None) -> None:
        """:meth:`put_credentials` of one record; its ``ConflictError`` (id already recorded) is
        raised, with nothing written."""
        [outcome] = self.put_credentials([record], [anchor])
        if outcome is not None:
            raise outcome

    def put_credentials(
        self,
        records: Sequence[CredentialRecord],
        anchors: Sequence[Anchor | None] | None = None,
    ) -> list[ConflictError | None]:
        """One ``MULTI``/``EXEC`` for the whole batch, watching every id it checked (and
        the log's size when it admits entries)."""
        keys = [self._k(f"credential:{r.id}") for r in records]
        wanted = list(anchors) if anchors is not None else [None] * len(records)
        if self._spread is not None:
            return self._spread.put_credentials(records, wanted)
        admitted: dict[str | None, tuple[int, list[Anchor]]] = {}  # per log shard

        def body(pipe: Pipeline) -> list[ConflictError | None]:
            taken = {
                r.id for r, v in zip(records, pipe_mget(pipe, keys), strict=True) if v is not None
            }
            self._route(pipe, wanted)  # each shard's catalog record, watched
            firsts = {shard: self._next_entry(pipe, shard) for shard in shards_of(wanted)}
            admitted.clear()
            outcomes: list[ConflictError | None] = []
            pipe.multi()
            for given, key, anchor in zip(records, keys, wanted, strict=True):
                if given.id in taken:
                    outcomes.append(ConflictError("credential already recorded", id=given.id))
                    continue
                taken.add(given.id)
                record = given
                if anchor is not None:
                    first, mine = admitted.setdefault(anchor.shard, (firsts[anchor.shard], []))
                    record = replace(given, log_index=first + len(mine))
                    mine.append(anchor)
                pipe.set(key, _dump(record))
                pipe.set(self._k(f"digest:{record.digest.hex()}"), record.id, nx=True)
                if record.subject_id is not None:
                    pipe.rpush(self._k(f"subject:{record.subject_id}"), record.id)
                outcomes.append(None)
            pipe.incrby(self._k("credential-count"), outcomes.count(None))
            for first, mine in admitted.values():
                self._admit(pipe, first, mine)
            return outcomes

        if not records:
            return []
        outcomes = self._transact(self._watch(keys, any(wanted), wanted), body)
        for first, mine in admitted.values():
            settle(mine, first)
        return outcomes

    def iter_credentials(self) -> Iterator[CredentialRecord]:
        """Every record: the ``credential:*`` keys found by one ``SCAN``, then read by ``MGET``
        in batches of 500 (keys written after the scan are not seen); on a cluster, the spread
        buckets' records."""
        if self._spread is not None:
            yield from self._spread.iter_credentials()
            return
        pattern = self._k("credential:*")
        every = self._call(lambda r: list(r.scan_iter(pattern, count=1000)))
        for at in range(0, len(every), 500):
            part = every[at : at + 500]
            for raw in self._call(lambda r, part=part: r.mget(part)):  # type: ignore[misc]
                if raw is not None:
                    yield _load(CredentialRecord, raw)

    def get_credential(self, credential_id: str) -> CredentialRecord:
        """:meth:`find_credential`, or ``NotFoundError`` for an unknown id."""
        found = self.find_credential(credential_id)
        if found is None:
            raise NotFoundError("no such credential", id=credential_id)
        return found

    def find_credential(self, credential_id: str) -> CredentialRecord | None:
        """``GET credential:<id>`` (on a cluster, the id's bucket), or ``None``."""
        if self._spread is not None:
            return self._spread.find_credential(credential_id)
        raw = self._call(lambda r: r.get(self._k(f"credential:{credential_id}")))
        return None if raw is None else _load(CredentialRecord, raw)

    def credentials_of_subject(self, subject_id: str) -> list[CredentialRecord]:
        """The ids listed in ``subject:<id>`` read by one ``MGET``, sorted by ``issued_at``
        (stable: ties in write order)."""
        if self._spread is not None:
            return self._spread.credentials_of_subject(subject_id)

        def read(r: redis.Redis) -> list[bytes | str | None]:
            ids = r.lrange(self._k(f"subject:{subject_id}"), 0, -1)
            return r.mget([self._k(f"credential:{_text(i)}") for i in ids]) if ids else []

        found = [_load(CredentialRecord, raw) for raw in self._call(read)]
        return sorted(found, key=lambda c: c.issued_at)  # stable: ties stay in write order

    def find_credential_by_digest(self, digest: bytes) -> CredentialRecord | None:
        """The record ``digest:<hex>`` points to (the first one written with that digest, set
        ``NX``), or ``None``."""
        if self._spread is not None:
            return self._spread.find_credential_by_digest(digest)
        first = _text(self._call(lambda r: r.get(self._k(f"digest:{digest.hex()}"))))
        return None if first is None else self.find_credential(first)

    def count_credentials(self) -> int:
        """The ``credential-count`` counter, incremented in each batch's ``EXEC``."""
        if self._spread is not None:
            return self._spread.count_credentials()
        return int(self._call(lambda r: r.get(self._k("credential-count"))) or 0)

    # -- status lists ---------------------------------------------------------------------

    def reserve_status_indices(
        self,
        issuer_id: str,
        count: int,
        pick: Callable[[int], int],
        size: int,
        purposes: Sequence[str],
    ) -> list[tuple[str, int]]:
        """One ``MULTI``/``EXEC`` watching ``status-groups`` and ``status-open`` (and the open
        group's ``status-taken:<group>`` bitmap): pick free indices in the issuer's open group,
        opening a new group (zeroed list per purpose) once it is half taken."""
        groups, open_ = self._k("status-groups"), self._k("status-open")

        def body(pipe: Pipeline) -> list[tuple[str, int]]:
            group = _text(pipe.hget(open_, issuer_id))
            made = int(pipe.hlen(groups))
            created: list[str] = []
            out: list[tuple[str, int]] = []
            group_size, bits, taken = 0, bytearray(), 0
            if group is not None:
                pipe.watch(self._k(f"status-taken:{group}"))  # type: ignore[no-untyped-call]
                group_size = json.loads(_blob(pipe.hget(groups, group)))["size"]
                taken_raw = _blob(pipe.get(self._k(f"status-taken:{group}")) or b"")
                bits = bytearray(taken_raw.ljust(-(-group_size // 8), b"\0"))  # Redis trims
                taken = int.from_bytes(bits, "big").bit_count()
            while len(out) < count:
                if group is None or taken * 2 >= group_size:
                    group = new_group_id(issuer_id, made)
                    made += 1
                    created.append(group)
                    group_size, bits, taken = size, bytearray(-(-size // 8)), 0
                index = pick(group_size)
                mask = 0x80 >> (index % 8)
                if not bits[index // 8] & mask:
                    bits[index // 8] |= mask
                    taken += 1
                    out.append((group, index))
            pipe.multi()
            for new in created:
                pipe.hset(groups, new, json.dumps({"issuer": issuer_id, "size": size}))
                for purpose in purposes:
                    pipe.hset(
                        self._k(f"status-list:{new}:{purpose}"),
                        mapping={"issuer": issuer_id, "bits": bytes(size // 8), "version": 0},
                    )
            if created:  # untouched otherwise, so other issuers' reservations don't conflict
                pipe.hset(open_, issuer_id, created[-1])
            for reserved, index in out:
                pipe.setbit(self._k(f"status-taken:{reserved}"), index, 1)
            return out

        return self._transact([groups, open_], body)

    def get_status_list(self, group: str, purpose: str) -> StatusListRecord:
        """``HMGET`` of ``status-list:<group>:<purpose>``; ``NotFoundError`` if there is none."""
        key = self._k(f"status-list:{group}:{purpose}")
        issuer, bits, version = self._call(lambda r: r.hmget(key, ["issuer", "bits", "version"]))
        if bits is None:
            raise NotFoundError("no such status list", group=group, purpose=purpose)
        return StatusListRecord(
            group, purpose, _blob(issuer).decode(), _blob(bits), int(_blob(version))
        )

    def status_list_version(self, group: str, purpose: str) -> int:
        """``HGET version`` of ``status-list:<group>:<purpose>``; ``NotFoundError`` if none."""
        key = self._k(f"status-list:{group}:{purpose}")
        version = self._call(lambda r: r.hget(key, "version"))
        if version is None:
            raise NotFoundError("no such status list", group=group, purpose=purpose)
        return int(version)

    def set_status(
        self, group: str, purpose: str, index: int, value: bool, anchor: Anchor | None = None
    ) -> int:
        """One ``MULTI``/``EXEC`` watching the list (and the log size with an anchor):
        ``NotFoundError`` unless bit ``index`` is reserved in ``status-taken:<group>``; set the
        bit and bump ``version`` with the entry. An unchanged bit keeps the version (its
        anchor's entry is still admitted)."""
        key = self._k(f"status-list:{group}:{purpose}")
        anchors = [anchor] if anchor else []
        first = [0]

        def body(pipe: Pipeline) -> int:
            raw, version_raw = pipe.hmget(key, ["bits", "version"])
            if (
                raw is None
                or not 0 <= index < len(raw) * 8
                or not pipe.getbit(self._k(f"status-taken:{group}"), index)
            ):
                raise NotFoundError("no such status list entry", group=group, index=index)
            bits, version = with_bit(_blob(raw), index, value), int(_blob(version_raw))
            first[0] = self._first_of(pipe, anchor)
            if bits is None and not anchors:
                return version
            pipe.multi()
            self._admit(pipe, first[0], anchors)
            if bits is None:
                return version
            pipe.hset(key, mapping={"bits": bits, "version": version + 1})
            return version + 1

        version = self._transact(self._watch([key], bool(anchors), anchors), body)
        settle(anchors, first[0])
        return version
