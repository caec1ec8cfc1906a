"""Redis presentation requests under ``<prefix>oid4vp:request:<id>`` (JSON), expiring a
day after the request does; :meth:`advance` and :meth:`refuse` are each one
``WATCH``/``MULTI``/``EXEC``."""

from __future__ import annotations

from typing import Any

from redis.client import Pipeline

from identity.errors import ConflictError
from identity.oid4vp.requests import KEEP_REFUSALS, PresentationRequest, Status
from identity.storage.redis_base import RedisRecords, _blob

KEEP_AFTER_EXPIRY_S = 86_400


class RedisPresentationRequestStore(RedisRecords):
    """:class:`~identity.oid4vp.requests.PresentationRequestStore` in Redis."""

    NAMESPACE = "oid4vp:"

    def _ttl(self, request: PresentationRequest) -> int:
        span = (request.expires_at - request.created_at).total_seconds()
        return int(span) + KEEP_AFTER_EXPIRY_S

    def create(self, request: PresentationRequest) -> None:
        """``SET request:<id> NX EX`` (until a day after the request expires);
        ``ConflictError`` for an id already there."""
        key = self._k("request:" + request.id)
        created = self._call(
            lambda r: r.set(key, request.to_json(), nx=True, ex=self._ttl(request))
        )
        if not created:
            raise ConflictError("presentation request exists", id=request.id)

    def get(self, request_id: str) -> PresentationRequest | None:
        """``GET request:<id>``, or ``None`` (also once its TTL passed)."""
        raw = self._call(lambda r: r.get(self._k("request:" + request_id)))
        return None if raw is None else PresentationRequest.from_json(_blob(raw))

    def advance(self, request: PresentationRequest, expected: Status) -> bool:
        """One ``MULTI``/``EXEC`` watching ``request:<id>``: ``False`` unless the stored status is
        ``expected``; else write ``request`` with the stored refusals, TTL kept."""
        key = self._k("request:" + request.id)

        def body(pipe: Pipeline) -> bool:
            raw = pipe.get(key)
            stored = None if raw is None else PresentationRequest.from_json(_blob(raw))
            if stored is None or stored.status != expected:
                return False
            pipe.multi()
            pipe.set(key, request.with_refusals_of(stored).to_json(), keepttl=True)
            return True

        return self._transact([key], body)

    def refuse(self, request_id: str, refusal: dict[str, Any], keep: int = KEEP_REFUSALS) -> bool:
        """One ``MULTI``/``EXEC`` watching ``request:<id>``: append ``refusal`` (the last ``keep``
        kept), TTL kept; ``False`` for an unknown or already answered request."""
        key = self._k("request:" + request_id)

        def body(pipe: Pipeline) -> bool:
            raw = pipe.get(key)
            stored = None if raw is None else PresentationRequest.from_json(_blob(raw))
            if stored is None or stored.status == "answered":
                return False
            pipe.multi()
            pipe.set(key, stored.refused(refusal, keep).to_json(), keepttl=True)
            return True

        return self._transact([key], body)


def beside(store: RedisRecords) -> RedisPresentationRequestStore:
    """A request store on ``store``'s client and key prefix (the client stays ``store``'s)."""
    root = store._prefix.removesuffix(store.NAMESPACE)
    return RedisPresentationRequestStore(store._client, root, retry_after=store._retry_after)
