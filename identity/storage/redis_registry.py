"""Redis credential types and accreditations (hashes ``types`` and ``accreditations``).

A record family of :class:`~identity.storage.redis.RedisStore`, whose module states the
contract: a registration is one ``HSETNX``, a revocation one ``MULTI``/``EXEC`` guarded by
``WATCH``, so a rejected call writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from redis.client import Pipeline

from identity.errors import ConflictError, NotFoundError
from identity.registry.accreditation import Accreditation
from identity.registry.types import CredentialType
from identity.storage.redis_base import RedisRecords


class RedisRegistry(RedisRecords):
    """The registry: credential types, and which issuer is accredited for which."""

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


def _type(raw: bytes | str) -> CredentialType:
    d = json.loads(raw)
    created = datetime.fromisoformat(d["created"]) if d["created"] else None
    return CredentialType.from_json(d["definition"], created)
