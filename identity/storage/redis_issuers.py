"""Redis issuers, API keys and challenges (keys ``issuers``, ``issuer-dids``, ``api-keys``
and ``challenge:<value>``).

A record family of :class:`~identity.storage.redis.RedisStore`, whose module states the
contract: each write is one ``MULTI``/``EXEC`` guarded by ``WATCH`` on what it read, or a
single command (``SET NX`` for a challenge, one script to consume it only for its own
purpose), so a rejected call writes nothing and a challenge is consumed at most once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from redis.client import Pipeline

from identity.errors import ConflictError, NotFoundError
from identity.storage.redis_base import TRUST_VERSION, RedisRecords, _dump, _load, _text
from identity.stores import (
    CHALLENGE_RETENTION,
    Anchor,
    ApiKeyRecord,
    IssuerRecord,
    check_challenge,
    settle,
)


class RedisIssuers(RedisRecords):
    """Issuers and their API keys, and the one-time challenges of holder proofs."""

    # -- issuers --------------------------------------------------------------------------

    def create_issuer(
        self, issuer: IssuerRecord, api_key: ApiKeyRecord, anchor: Anchor | None = None
    ) -> None:
        """One ``MULTI``/``EXEC`` watching ``issuers``, ``issuer-dids`` and ``api-keys`` (and the
        log size with an anchor): ``ConflictError`` for an issuer id, DID or key id already
        there; else write all three, ``INCR trust-version`` and admit the entry."""
        issuers, dids, keys = self._k("issuers"), self._k("issuer-dids"), self._k("api-keys")
        anchors = [anchor] if anchor else []

        def body(pipe: Pipeline) -> int:
            if pipe.hexists(issuers, issuer.id) or pipe.hexists(dids, issuer.did):
                raise ConflictError("issuer id or DID already exists", issuer=issuer.id)
            if pipe.hexists(keys, api_key.key_id):
                raise ConflictError("API key id already exists")
            first = self._first_of(pipe, anchor)
            pipe.multi()
            pipe.hset(issuers, issuer.id, _dump(issuer))
            pipe.hset(dids, issuer.did, issuer.id)
            pipe.hset(keys, api_key.key_id, _dump(api_key))
            pipe.incr(self._k(TRUST_VERSION))
            self._admit(pipe, first, anchors)
            return first

        watch = self._watch([issuers, dids, keys], bool(anchors), anchors)
        settle(anchors, self._transact(watch, body))

    def get_issuer(self, issuer_id: str) -> IssuerRecord:
        """``HGET issuers <id>``; ``NotFoundError`` if none."""
        raw = self._call(lambda r: r.hget(self._k("issuers"), issuer_id))
        if raw is None:
            raise NotFoundError("no such issuer", issuer=issuer_id)
        return _load(IssuerRecord, raw)

    def find_issuer_by_did(self, did: str) -> IssuerRecord | None:
        """The issuer ``issuer-dids`` maps ``did`` to, or ``None``."""
        issuer_id = _text(self._call(lambda r: r.hget(self._k("issuer-dids"), did)))
        return None if issuer_id is None else self.get_issuer(issuer_id)

    def list_issuers(self) -> list[IssuerRecord]:
        """``HVALS issuers``, oldest ``created`` first (ties by id)."""
        found = [_load(IssuerRecord, v) for v in self._call(lambda r: r.hvals(self._k("issuers")))]
        return sorted(found, key=lambda i: (i.created, i.id))

    def add_api_key(self, api_key: ApiKeyRecord) -> None:
        """One ``MULTI``/``EXEC`` watching ``api-keys``: ``NotFoundError`` if the key names an
        issuer not in ``issuers``, ``ConflictError`` for a key id already there; else store it
        and ``INCR trust-version``."""
        keys = self._k("api-keys")

        def body(pipe: Pipeline) -> None:
            issuer_id = api_key.issuer_id
            if issuer_id is not None and not pipe.hexists(self._k("issuers"), issuer_id):
                raise NotFoundError("no such issuer", issuer=api_key.issuer_id)
            if pipe.hexists(keys, api_key.key_id):
                raise ConflictError("API key id already exists")
            pipe.multi()
            pipe.hset(keys, api_key.key_id, _dump(api_key))
            pipe.incr(self._k(TRUST_VERSION))

        self._transact([keys], body)

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        """``HGET api-keys <key id>``, or ``None``."""
        raw = self._call(lambda r: r.hget(self._k("api-keys"), key_id))
        return None if raw is None else _load(ApiKeyRecord, raw)

    def revoke_api_key(self, key_id: str) -> None:
        """One ``MULTI``/``EXEC`` watching ``api-keys``: mark the key revoked and ``INCR
        trust-version``; ``NotFoundError`` for an unknown key id."""
        keys = self._k("api-keys")

        def body(pipe: Pipeline) -> None:
            raw = pipe.hget(keys, key_id)
            if raw is None:
                raise NotFoundError("no such API key")
            pipe.multi()
            pipe.hset(keys, key_id, _dump(replace(_load(ApiKeyRecord, raw), revoked=True)))
            pipe.incr(self._k(TRUST_VERSION))

        self._transact([keys], body)

    # -- challenges -----------------------------------------------------------------------

    def create_challenge(self, value: str, purpose: str, expires: datetime) -> None:
        """``SET challenge:<value> NX EX`` (the retention period) holding expiry and purpose;
        ``ConflictError`` if the value is taken. Expiry is judged on consume, not by the TTL."""
        key = self._k(f"challenge:{value}")
        # The TTL forgets challenges nobody uses (expiry itself is checked on consume,
        # against the service's clock, not Redis's).
        ttl = int(CHALLENGE_RETENTION.total_seconds())
        stored = f"{expires.isoformat()} {purpose}"
        if not self._call(lambda r: r.set(key, stored, nx=True, ex=ttl)):
            raise ConflictError("challenge already exists")

    def purge_challenges(self, expired_before: datetime) -> int:
        """Nothing to do (returns 0): every challenge key expires by its own TTL."""
        return 0  # every challenge key carries a TTL (create_challenge)

    def consume_challenge(self, value: str, purpose: str, now: datetime) -> None:
        """One Lua script (atomic): ``GET`` the challenge and ``DEL`` it only when it was issued
        for ``purpose``; then :func:`check_challenge` raises ``InvalidChallengeError`` for an
        unknown, other-purpose or expired one."""
        key = self._k(f"challenge:{value}")
        raw = _text(self._call(lambda r: r.eval(_CONSUME, 1, key, purpose)))
        stored = None
        if raw is not None:
            expires, _, found = raw.partition(" ")
            stored = (found, datetime.fromisoformat(expires))
        check_challenge(stored, purpose, now)


_CONSUME = """
local stored = redis.call('GET', KEYS[1])
if not stored then return false end
local sep = string.find(stored, ' ', 1, true)
if sep and string.sub(stored, sep + 1) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return stored
"""
"""Delete the challenge only when it was issued for ARGV[1]; answer what was stored."""
