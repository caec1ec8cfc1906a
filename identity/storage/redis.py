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
acknowledged writes of the old primary.

Keys all start with ``prefix`` so several services can share one Redis:
``issuers``/``issuer-dids``/``api-keys``/``types``/``accreditations``/``status-groups``/
``status-open`` (hashes), ``credential:<id>``, ``digest:<hex>`` (first id with that
digest), ``subject:<id>`` (list of credential ids), ``credential-count``,
``challenge:<value>``, ``status-list:<group>:<purpose>`` (hash: issuer, bits, version)
and ``status-taken:<group>`` (bitmap of reserved indices).

Any Redis failure (connection refused, timeout, server error) is raised as
:class:`UnavailableError` with ``retry_after`` seconds; never as a raw redis exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import datetime
from typing import Any, Self, TypeVar

import redis
from redis.client import Pipeline

from identity.credentials.status import with_bit
from identity.errors import ConflictError, InvalidChallengeError, NotFoundError, UnavailableError
from identity.registry.accreditation import Accreditation
from identity.registry.types import CredentialType
from identity.stores import (
    ApiKeyRecord,
    CredentialRecord,
    IssuerRecord,
    StatusListRecord,
    new_group_id,
)

T = TypeVar("T")
MAX_ATTEMPTS = 50
"""Optimistic transactions re-run at most this often under contention."""


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


def check_client(client: redis.Redis) -> None:
    """Refuse a client that decodes responses: the stores keep raw bytes."""
    if client.get_connection_kwargs().get("decode_responses"):
        raise ValueError("the Redis client must not decode responses (decode_responses=False)")


def call(client: redis.Redis, fn: Callable[[redis.Redis], T], retry_after: int) -> T:
    """``fn(client)``, with any redis error raised as :class:`UnavailableError`."""
    with unavailable_on_error(retry_after):
        return fn(client)


def transact(
    client: redis.Redis, watch: Sequence[str], body: Callable[[Pipeline], T], retry_after: int
) -> T:
    """Run ``body`` under ``WATCH watch``: it reads, calls ``multi()``, queues writes.

    The queued commands are executed after ``body`` returns (a body may also call
    ``pipe.execute()`` itself to read its replies). When a watched key changed, the whole
    call is re-run, at most :data:`MAX_ATTEMPTS` times, then :class:`UnavailableError`.
    Exceptions of ``body`` (conflict, not found) propagate with nothing written.
    """
    for _ in range(MAX_ATTEMPTS):
        with unavailable_on_error(retry_after), client.pipeline() as pipe:
            try:
                pipe.watch(*watch)  # type: ignore[no-untyped-call]
                result = body(pipe)
                if pipe.explicit_transaction:
                    pipe.execute()
                return result
            except redis.WatchError as exc:
                if isinstance(exc.__context__, redis.ConnectionError | redis.TimeoutError):
                    raise  # the connection died: EXEC may have run, so do not re-run
                continue
    raise UnavailableError("Redis store too contended", retry_after=retry_after)


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _blob(value: bytes | str | None) -> bytes:
    """A stored value that must exist, as bytes (clients never decode, see check_client)."""
    if value is None:
        raise UnavailableError("Redis store is missing a value it wrote")
    return value.encode() if isinstance(value, str) else value


class RedisRecords:
    """Plumbing every Redis store shares: a client, a key prefix, retried transactions.

    ``NAMESPACE`` keeps each store's keys apart under the operator's prefix.
    """

    NAMESPACE = ""

    def __init__(
        self, client: redis.Redis, prefix: str = "identity:", *, retry_after: int = 1
    ) -> None:
        check_client(client)
        self._client = client
        self._prefix = prefix + self.NAMESPACE
        self._retry_after = retry_after
        self._owns_client = False

    @classmethod
    def from_url(
        cls, url: str, prefix: str = "identity:", *, socket_timeout: float = 2.0
    ) -> Self:
        """A store on its own client for ``redis://host:port/db``; :meth:`close` closes it."""
        client = redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        store = cls(client, prefix)
        store._owns_client = True
        return store

    def _k(self, name: str) -> str:
        return self._prefix + name

    def _call(self, fn: Callable[[redis.Redis], T]) -> T:
        return call(self._client, fn, self._retry_after)

    def _transact(self, watch: Sequence[str], body: Callable[[Pipeline], T]) -> T:
        """Run ``body`` under ``WATCH watch``: it reads, calls ``multi()``, queues writes."""
        return transact(self._client, watch, body, self._retry_after)

    def close(self) -> None:
        if self._owns_client:
            self._call(lambda r: r.close())


class RedisStore(RedisRecords):
    """The service's records in one Redis database, under key ``prefix``."""

    def ping(self) -> None:
        self._call(lambda r: r.ping())

    # -- issuers --------------------------------------------------------------------------

    def create_issuer(self, issuer: IssuerRecord, api_key: ApiKeyRecord) -> None:
        issuers, dids, keys = self._k("issuers"), self._k("issuer-dids"), self._k("api-keys")

        def body(pipe: Pipeline) -> None:
            if pipe.hexists(issuers, issuer.id) or pipe.hexists(dids, issuer.did):
                raise ConflictError("issuer id or DID already exists", issuer=issuer.id)
            if pipe.hexists(keys, api_key.key_id):
                raise ConflictError("API key id already exists")
            pipe.multi()
            pipe.hset(issuers, issuer.id, _dump(issuer))
            pipe.hset(dids, issuer.did, issuer.id)
            pipe.hset(keys, api_key.key_id, _dump(api_key))

        self._transact([issuers, dids, keys], body)

    def get_issuer(self, issuer_id: str) -> IssuerRecord:
        raw = self._call(lambda r: r.hget(self._k("issuers"), issuer_id))
        if raw is None:
            raise NotFoundError("no such issuer", issuer=issuer_id)
        return _load(IssuerRecord, raw)

    def find_issuer_by_did(self, did: str) -> IssuerRecord | None:
        issuer_id = _text(self._call(lambda r: r.hget(self._k("issuer-dids"), did)))
        return None if issuer_id is None else self.get_issuer(issuer_id)

    def list_issuers(self) -> list[IssuerRecord]:
        found = [_load(IssuerRecord, v) for v in self._call(lambda r: r.hvals(self._k("issuers")))]
        return sorted(found, key=lambda i: (i.created, i.id))

    def add_api_key(self, api_key: ApiKeyRecord) -> None:
        keys = self._k("api-keys")

        def body(pipe: Pipeline) -> None:
            issuer_id = api_key.issuer_id
            if issuer_id is not None and not pipe.hexists(self._k("issuers"), issuer_id):
                raise NotFoundError("no such issuer", issuer=api_key.issuer_id)
            if pipe.hexists(keys, api_key.key_id):
                raise ConflictError("API key id already exists")
            pipe.multi()
            pipe.hset(keys, api_key.key_id, _dump(api_key))

        self._transact([keys], body)

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        raw = self._call(lambda r: r.hget(self._k("api-keys"), key_id))
        return None if raw is None else _load(ApiKeyRecord, raw)

    def revoke_api_key(self, key_id: str) -> None:
        keys = self._k("api-keys")

        def body(pipe: Pipeline) -> None:
            raw = pipe.hget(keys, key_id)
            if raw is None:
                raise NotFoundError("no such API key")
            pipe.multi()
            pipe.hset(keys, key_id, _dump(replace(_load(ApiKeyRecord, raw), revoked=True)))

        self._transact([keys], body)

    # -- credentials ----------------------------------------------------------------------

    def put_credential(self, record: CredentialRecord) -> None:
        [outcome] = self.put_credentials([record])
        if outcome is not None:
            raise outcome

    def put_credentials(self, records: Sequence[CredentialRecord]) -> list[ConflictError | None]:
        """One ``MULTI``/``EXEC`` for the whole batch, watching every id it checked."""
        keys = [self._k(f"credential:{r.id}") for r in records]

        def body(pipe: Pipeline) -> list[ConflictError | None]:
            taken = {r.id for r, v in zip(records, pipe.mget(keys), strict=True) if v is not None}
            outcomes: list[ConflictError | None] = []
            pipe.multi()
            for record, key in zip(records, keys, strict=True):
                if record.id in taken:
                    outcomes.append(ConflictError("credential already recorded", id=record.id))
                    continue
                taken.add(record.id)
                pipe.set(key, _dump(record))
                pipe.set(self._k(f"digest:{record.digest.hex()}"), record.id, nx=True)
                if record.subject_id is not None:
                    pipe.rpush(self._k(f"subject:{record.subject_id}"), record.id)
                outcomes.append(None)
            pipe.incrby(self._k("credential-count"), outcomes.count(None))
            return outcomes

        return self._transact(keys, body) if records else []

    def get_credential(self, credential_id: str) -> CredentialRecord:
        found = self.find_credential(credential_id)
        if found is None:
            raise NotFoundError("no such credential", id=credential_id)
        return found

    def find_credential(self, credential_id: str) -> CredentialRecord | None:
        raw = self._call(lambda r: r.get(self._k(f"credential:{credential_id}")))
        return None if raw is None else _load(CredentialRecord, raw)

    def credentials_of_subject(self, subject_id: str) -> list[CredentialRecord]:
        def read(r: redis.Redis) -> list[bytes | str | None]:
            ids = r.lrange(self._k(f"subject:{subject_id}"), 0, -1)
            return r.mget([self._k(f"credential:{_text(i)}") for i in ids]) if ids else []

        found = [_load(CredentialRecord, raw) for raw in self._call(read)]
        return sorted(found, key=lambda c: c.issued_at)  # stable: ties stay in write order

    def find_credential_by_digest(self, digest: bytes) -> CredentialRecord | None:
        first = _text(self._call(lambda r: r.get(self._k(f"digest:{digest.hex()}"))))
        return None if first is None else self.find_credential(first)

    def count_credentials(self) -> int:
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
        key = self._k(f"status-list:{group}:{purpose}")
        issuer, bits, version = self._call(lambda r: r.hmget(key, ["issuer", "bits", "version"]))
        if bits is None:
            raise NotFoundError("no such status list", group=group, purpose=purpose)
        return StatusListRecord(
            group, purpose, _blob(issuer).decode(), _blob(bits), int(_blob(version))
        )

    def status_list_version(self, group: str, purpose: str) -> int:
        key = self._k(f"status-list:{group}:{purpose}")
        version = self._call(lambda r: r.hget(key, "version"))
        if version is None:
            raise NotFoundError("no such status list", group=group, purpose=purpose)
        return int(version)

    def set_status(self, group: str, purpose: str, index: int, value: bool) -> int:
        key = self._k(f"status-list:{group}:{purpose}")

        def body(pipe: Pipeline) -> int:
            raw, version_raw = pipe.hmget(key, ["bits", "version"])
            if (
                raw is None
                or not 0 <= index < len(raw) * 8
                or not pipe.getbit(self._k(f"status-taken:{group}"), index)
            ):
                raise NotFoundError("no such status list entry", group=group, index=index)
            bits, version = with_bit(_blob(raw), index, value), int(_blob(version_raw))
            if bits is None:
                return version
            pipe.multi()
            pipe.hset(key, mapping={"bits": bits, "version": version + 1})
            return version + 1

        return self._transact([key], body)

    # -- registry -------------------------------------------------------------------------

    def create_type(self, credential_type: CredentialType) -> None:
        created = credential_type.created.isoformat() if credential_type.created else None
        raw = json.dumps({"definition": credential_type.to_json(), "created": created})
        if not self._call(lambda r: r.hsetnx(self._k("types"), credential_type.name, raw)):
            raise ConflictError("credential type already registered", type=credential_type.name)

    def find_type(self, name: str) -> CredentialType | None:
        raw = self._call(lambda r: r.hget(self._k("types"), name))
        return None if raw is None else _type(raw)

    def list_types(self) -> list[CredentialType]:
        found = [_type(v) for v in self._call(lambda r: r.hvals(self._k("types")))]
        return sorted(found, key=lambda t: t.name)

    def add_accreditation(self, accreditation: Accreditation) -> None:
        raw = json.dumps(accreditation.to_json())
        if not self._call(lambda r: r.hsetnx(self._k("accreditations"), accreditation.id, raw)):
            raise ConflictError("accreditation id already exists")

    def get_accreditation(self, accreditation_id: str) -> Accreditation:
        raw = self._call(lambda r: r.hget(self._k("accreditations"), accreditation_id))
        if raw is None:
            raise NotFoundError("no such accreditation", id=accreditation_id)
        return Accreditation.from_json(json.loads(raw))

    def accreditations_of(self, issuer_id: str) -> list[Accreditation]:
        every = self._call(lambda r: r.hvals(self._k("accreditations")))
        found = [Accreditation.from_json(json.loads(raw)) for raw in every]
        mine = [a for a in found if a.issuer_id == issuer_id]
        return sorted(mine, key=lambda a: (a.created, a.id))

    def revoke_accreditation(self, accreditation_id: str, at: datetime) -> Accreditation:
        key = self._k("accreditations")

        def body(pipe: Pipeline) -> Accreditation:
            raw = pipe.hget(key, accreditation_id)
            if raw is None:
                raise NotFoundError("no such accreditation", id=accreditation_id)
            current = Accreditation.from_json(json.loads(raw))
            if current.revoked_at is None:
                current = replace(current, revoked_at=at)
                pipe.multi()
                pipe.hset(key, accreditation_id, json.dumps(current.to_json()))
            return current

        return self._transact([key], body)

    # -- challenges -----------------------------------------------------------------------

    def create_challenge(self, value: str, expires: datetime) -> None:
        key = self._k(f"challenge:{value}")
        if not self._call(lambda r: r.set(key, expires.isoformat(), nx=True)):
            raise ConflictError("challenge already exists")

    def consume_challenge(self, value: str, now: datetime) -> None:
        expires = _text(self._call(lambda r: r.getdel(self._k(f"challenge:{value}"))))
        if expires is None:
            raise InvalidChallengeError("challenge unknown or already used", reason="unknown")
        if now > datetime.fromisoformat(expires):
            raise InvalidChallengeError("challenge expired", reason="expired")


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


def _type(raw: bytes | str) -> CredentialType:
    d = json.loads(raw)
    created = datetime.fromisoformat(d["created"]) if d["created"] else None
    return CredentialType.from_json(d["definition"], created)
