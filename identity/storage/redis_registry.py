"""Redis credential types and accreditations (hashes ``types`` and ``accreditations``).

A record family of :class:`~identity.storage.redis.RedisStore`, whose module states the
contract: a registration and a revocation are each one ``MULTI``/``EXEC`` guarded by
``WATCH`` that also grows the trust version (``trust-version``), so a rejected call
writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from redis.client import Pipeline

from identity.errors import ConflictError, NotFoundError
from identity.registry.accreditation import Accreditation
from identity.registry.types import CredentialType
from identity.storage.redis_base import TRUST_VERSION, RedisRecords
from identity.stores import Anchor, settle


class RedisRegistry(RedisRecords):
    """The registry: credential types, and which issuer is accredited for which."""

    def create_type(self, credential_type: CredentialType, anchor: Anchor | None = None) -> None:
        """One ``MULTI``/``EXEC`` watching the ``types`` hash (and the log size with an anchor):
        ``ConflictError`` for a name already there; else ``HSET``, ``INCR trust-version``, admit
        the entry."""
        created = credential_type.created.isoformat() if credential_type.created else None
        raw = json.dumps({"definition": credential_type.to_json(), "created": created})
        conflict = ConflictError("credential type already registered", type=credential_type.name)
        self._put_new("types", credential_type.name, raw, anchor, conflict)

    def _put_new(
        self, hash_name: str, field: str, raw: str, anchor: Anchor | None, conflict: ConflictError
    ) -> None:
        """Check and write ``field`` with the trust version's growth (and ``anchor``'s
        admission) in one ``MULTI``/``EXEC``; ``conflict`` when ``field`` is taken."""
        key = self._k(hash_name)
        anchors = [anchor] if anchor else []

        def body(pipe: Pipeline) -> int:
            if pipe.hexists(key, field):
                raise conflict
            first = self._first_of(pipe, anchor)
            pipe.multi()
            pipe.hset(key, field, raw)
            pipe.incr(self._k(TRUST_VERSION))
            self._admit(pipe, first, anchors)
            return first

        settle(anchors, self._transact(self._watch([key], bool(anchors), anchors), body))

    def find_type(self, name: str) -> CredentialType | None:
        """``HGET types <name>``, or ``None``."""
        raw = self._call(lambda r: r.hget(self._k("types"), name))
        return None if raw is None else _type(raw)

    def list_types(self) -> list[CredentialType]:
        """``HVALS types``, sorted by name."""
        found = [_type(v) for v in self._call(lambda r: r.hvals(self._k("types")))]
        return sorted(found, key=lambda t: t.name)

    def add_accreditation(self, accreditation: Accreditation, anchor: Anchor | None = None) -> None:
        """One ``MULTI``/``EXEC`` watching the ``accreditations`` hash: ``ConflictError`` for an id
        already there; else ``HSET``, ``INCR trust-version``, admit the entry."""
        raw = json.dumps(accreditation.to_json())
        conflict = ConflictError("accreditation id already exists")
        self._put_new("accreditations", accreditation.id, raw, anchor, conflict)

    def get_accreditation(self, accreditation_id: str) -> Accreditation:
        """``HGET accreditations <id>``; ``NotFoundError`` if none."""
        raw = self._call(lambda r: r.hget(self._k("accreditations"), accreditation_id))
        if raw is None:
            raise NotFoundError("no such accreditation", id=accreditation_id)
        return Accreditation.from_json(json.loads(raw))

    def accreditations_of(self, issuer_id: str) -> list[Accreditation]:
        """Every accreditation (``HVALS``, filtered here by issuer), oldest ``created`` first."""
        every = self._call(lambda r: r.hvals(self._k("accreditations")))
        found = [Accreditation.from_json(json.loads(raw)) for raw in every]
        mine = [a for a in found if a.issuer_id == issuer_id]
        return sorted(mine, key=lambda a: (a.created, a.id))

    def revoke_accreditation(
        self, accreditation_id: str, at: datetime, anchor: Anchor | None = None
    ) -> Accreditation:
        """One ``MULTI``/``EXEC`` watching ``accreditations``: ``NotFoundError`` for an unknown id;
        a revoked one is returned unchanged, or ``ConflictError`` when an anchor asks to log
        the act again; else set ``revoked_at``, ``INCR trust-version``, admit the entry."""
        key = self._k("accreditations")
        anchors = [anchor] if anchor else []
        first = [0]

        def body(pipe: Pipeline) -> Accreditation:
            raw = pipe.hget(key, accreditation_id)
            if raw is None:
                raise NotFoundError("no such accreditation", id=accreditation_id)
            current = Accreditation.from_json(json.loads(raw))
            if current.revoked_at is not None and anchors:
                raise ConflictError("the accreditation is already revoked", id=accreditation_id)
            if current.revoked_at is None:
                current = replace(current, revoked_at=at)
                first[0] = self._first_of(pipe, anchor)
                pipe.multi()
                pipe.hset(key, accreditation_id, json.dumps(current.to_json()))
                pipe.incr(self._k(TRUST_VERSION))
                self._admit(pipe, first[0], anchors)
            return current

        revoked = self._transact(self._watch([key], bool(anchors), anchors), body)
        settle(anchors, first[0])
        return revoked


def _type(raw: bytes | str) -> CredentialType:
    d = json.loads(raw)
    created = datetime.fromisoformat(d["created"]) if d["created"] else None
    return CredentialType.from_json(d["definition"], created)
