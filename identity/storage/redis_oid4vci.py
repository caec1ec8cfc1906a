"""Redis OID4VCI store, under ``<prefix>oid4vci:``.

* ``offer:<id>`` -- the offer's JSON; ``code:<digest>`` and ``tx:<transaction id>`` --
  the offer id (written with the offer in one ``MULTI``; ``tx:`` is deleted in the
  ``MULTI`` that changes or clears the offer's transaction id);
* ``authz:<id>`` -- an Authorization Request's JSON; ``authz-code:<digest>`` -- its id
  once a code was handed out (written with the request in one ``MULTI``, by
  ``add_authorization`` as by ``replace_authorization``);
* ``token:<digest>`` -- JSON ``{offer_id, expires_at}``; ``nonce:<value>`` -- its
  ``expires_at``. Both carry a Redis TTL of :data:`RETENTION` seconds beyond which nothing
  is kept; the expiry the contract checks is the stored ``expires_at`` against the
  caller's ``now``;
* ``revoked:<offer id>`` -- present once the offer's tokens are revoked (RFC 6749
  §4.1.2), kept :data:`OFFER_RETENTION` seconds (longer than any token of the offer).

:meth:`RedisOid4vciStore.replace_offer` (and ``replace_authorization``) is
``WATCH``/``MULTI``/``EXEC`` on the offer (request) key;
:meth:`RedisOid4vciStore.take_nonce` is one ``GETDEL`` (of two takers one gets it).
"""

from __future__ import annotations

import json

from redis.client import Pipeline

from identity.errors import ConflictError
from identity.oid4vci.authorization import Authorization
from identity.oid4vci.offer import Offer
from identity.oid4vci.store import AccessToken
from identity.storage.redis_base import RedisRecords, _blob

#: seconds Redis keeps a token or a nonce (far above any configured lifetime)
RETENTION = 86_400
#: seconds Redis keeps an offer after its last change
OFFER_RETENTION = 30 * 86_400


class RedisOid4vciStore(RedisRecords):
    """:class:`~identity.oid4vci.store.Oid4vciStore` in Redis (see the module for keys)."""

    NAMESPACE = "oid4vci:"

    def _load(self, offer_id: bytes | str | None) -> Offer | None:
        if offer_id is None:
            return None
        return self.get_offer(_blob(offer_id).decode())

    def add_offer(self, offer: Offer) -> None:
        """One ``MULTI``/``EXEC`` watching ``offer:<id>``, ``code:<hash>`` (and
        ``tx:<transaction id>``): ``ConflictError`` if any exists; else set them, each for
        ``OFFER_RETENTION``."""
        key, code = self._k("offer:" + offer.id), self._k("code:" + offer.code_hash)
        tx = self._k("tx:" + offer.transaction_id) if offer.transaction_id is not None else None
        watched = [key, code] if tx is None else [key, code, tx]

        def body(pipe: Pipeline) -> None:
            if pipe.exists(key) or pipe.exists(code):
                raise ConflictError("offer already stored", id=offer.id)
            if tx is not None and pipe.exists(tx):
                raise ConflictError("transaction_id already stored", id=offer.id)
            pipe.multi()
            pipe.set(key, json.dumps(offer.to_json()), ex=OFFER_RETENTION)
            pipe.set(code, offer.id, ex=OFFER_RETENTION)
            if tx is not None:
                pipe.set(tx, offer.id, ex=OFFER_RETENTION)

        self._transact(watched, body)

    def get_offer(self, offer_id: str) -> Offer | None:
        """``GET offer:<id>``, or ``None`` (also once ``OFFER_RETENTION`` passed unchanged)."""
        raw = self._call(lambda r: r.get(self._k("offer:" + offer_id)))
        return Offer.from_json(json.loads(_blob(raw))) if raw is not None else None

    def offer_by_code(self, code_hash: str) -> Offer | None:
        """The offer ``code:<hash>`` points to, or ``None``."""
        return self._load(self._call(lambda r: r.get(self._k("code:" + code_hash))))

    def offer_by_transaction(self, transaction_id: str) -> Offer | None:
        """The offer ``tx:<transaction id>`` points to, or ``None``."""
        return self._load(self._call(lambda r: r.get(self._k("tx:" + transaction_id))))

    def replace_offer(self, current: Offer, new: Offer) -> None:
        """One ``MULTI``/``EXEC`` watching ``offer:<id>`` (and the new ``tx:<id>``):
        ``ConflictError`` unless the stored version is ``current.version`` (and ids and code
        hashes match), or when ``tx:<id>`` points at another offer; else write ``new``,
        re-arm its TTL (and its ``code:``'s), point ``tx:<id>`` at it and delete the offer's
        previous one."""
        key = self._k("offer:" + current.id)
        tx = self._k("tx:" + new.transaction_id) if new.transaction_id is not None else None

        def body(pipe: Pipeline) -> None:
            raw = pipe.get(key)
            stored = Offer.from_json(json.loads(_blob(raw))) if raw is not None else None
            if (stored is None or stored.version != current.version or new.id != current.id
                    or new.code_hash != stored.code_hash):  # fmt: skip
                raise ConflictError("the offer changed meanwhile", id=current.id)
            owner = pipe.get(tx) if tx is not None else None
            if owner is not None and _blob(owner).decode() != new.id:
                raise ConflictError("transaction_id already stored", id=current.id)
            pipe.multi()
            pipe.set(key, json.dumps(new.to_json()), ex=OFFER_RETENTION)
            pipe.expire(self._k("code:" + new.code_hash), OFFER_RETENTION)  # kept as long
            if stored.transaction_id is not None and stored.transaction_id != new.transaction_id:
                pipe.delete(self._k("tx:" + stored.transaction_id))
            if tx is not None:
                pipe.set(tx, new.id, ex=OFFER_RETENTION)

        self._transact([key] if tx is None else [key, tx], body)

    def add_token(self, token: AccessToken) -> None:
        """``SET token:<hash> NX EX RETENTION``; ``ConflictError`` if the hash is already there."""
        value = json.dumps({"offer_id": token.offer_id, "expires_at": token.expires_at})
        key = self._k("token:" + token.token_hash)
        if not self._write(lambda r: r.set(key, value, nx=True, ex=RETENTION)):
            raise ConflictError("access token already stored")

    def find_token(self, token_hash: str, now: int) -> AccessToken | None:
        """The token if stored and unexpired at ``now`` (epoch seconds) and no
        ``revoked:<offer id>`` key exists; else ``None``."""
        raw = self._call(lambda r: r.get(self._k("token:" + token_hash)))
        if raw is None:
            return None
        data = json.loads(_blob(raw))
        token = AccessToken(token_hash, data["offer_id"], int(data["expires_at"]))
        if now >= token.expires_at:
            return None
        revoked = self._call(lambda r: r.exists(self._k("revoked:" + token.offer_id)))
        return None if revoked else token

    def revoke_tokens(self, offer_id: str) -> None:
        """``SET revoked:<offer id>`` for ``OFFER_RETENTION``: every token of the offer stops
        being found, token keys kept until their TTL."""
        key = self._k("revoked:" + offer_id)
        self._write(lambda r: r.set(key, 1, ex=OFFER_RETENTION))

    def add_nonce(self, nonce: str, expires_at: int) -> None:
        """``SET nonce:<nonce> <expires_at> EX RETENTION`` (re-arms a stored one)."""
        self._write(lambda r: r.set(self._k("nonce:" + nonce), expires_at, ex=RETENTION))

    def take_nonce(self, nonce: str, now: int) -> bool:
        """``GETDEL`` (atomic): ``True`` only for the one caller that removed it unexpired at
        ``now``; an expired nonce is removed too, and ``False``."""
        raw = self._write(lambda r: r.getdel(self._k("nonce:" + nonce)))
        return raw is not None and now < int(_blob(raw))

    def add_authorization(self, auth: Authorization) -> None:
        """One ``MULTI``/``EXEC`` watching ``authz:<id>`` (and ``authz-code:<hash>`` when the
        request has a code): ``ConflictError`` if either exists; else set both for
        ``RETENTION``."""
        key = self._k("authz:" + auth.id)
        code = self._k("authz-code:" + auth.code_hash) if auth.code_hash is not None else None

        def body(pipe: Pipeline) -> None:
            if pipe.exists(key) or (code is not None and pipe.exists(code)):
                raise ConflictError("authorization request already stored", id=auth.id)
            pipe.multi()
            pipe.set(key, json.dumps(auth.to_json()), ex=RETENTION)
            if code is not None:
                pipe.set(code, auth.id, ex=RETENTION)

        self._transact([key] if code is None else [key, code], body)

    def get_authorization(self, request_id: str) -> Authorization | None:
        """``GET authz:<id>``, or ``None``."""
        raw = self._call(lambda r: r.get(self._k("authz:" + request_id)))
        return Authorization.from_json(json.loads(_blob(raw))) if raw is not None else None

    def authorization_by_code(self, code_hash: str) -> Authorization | None:
        """The request ``authz-code:<hash>`` points to, or ``None``."""
        raw = self._call(lambda r: r.get(self._k("authz-code:" + code_hash)))
        return self.get_authorization(_blob(raw).decode()) if raw is not None else None

    def replace_authorization(self, current: Authorization, new: Authorization) -> None:
        """One ``MULTI``/``EXEC`` watching ``authz:<id>`` and the new ``authz-code:<hash>``:
        ``ConflictError`` unless the stored version is ``current.version``, or when the code is
        another request's or changes one already set; else write ``new`` and the code
        pointer."""
        key = self._k("authz:" + current.id)
        code = self._k("authz-code:" + new.code_hash) if new.code_hash else None

        def body(pipe: Pipeline) -> None:
            raw = pipe.get(key)
            stored = Authorization.from_json(json.loads(_blob(raw))) if raw is not None else None
            if stored is None or stored.version != current.version or new.id != current.id:
                raise ConflictError("the authorization request changed meanwhile", id=current.id)
            if stored.code_hash is not None and new.code_hash != stored.code_hash:
                raise ConflictError("an authorization code never changes", id=current.id)
            owner = pipe.get(code) if code else None
            if owner is not None and _blob(owner).decode() != new.id:
                raise ConflictError("authorization code already stored")
            pipe.multi()
            pipe.set(key, json.dumps(new.to_json()), ex=RETENTION)
            if code:
                pipe.set(code, new.id, ex=RETENTION)

        self._transact([key, code] if code else [key], body)
