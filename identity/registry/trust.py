"""The trust policy applied at issuance and verification, over a :class:`RegistryStore`.

Issuance of a registered type requires an accreditation active *now*; the subject must
fit the type's schema; the credential gets ``credentialSchema``, the type's JSON-LD
context and a default ``validUntil``. Verification reports whether the issuer was
accredited for the type at the credential's issuance time, and by whom.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from identity.clock import Clock, xsd_datetime
from identity.credentials.model import Credential, parse_datetime
from identity.errors import MalformedValueError, PermissionDeniedError
from identity.registry.accreditation import Accreditation, TrustResult, accredited_for, delegate
from identity.registry.cache import Snapshot, VersionedCache
from identity.registry.types import CredentialType
from identity.stores import ApiKeyRecord, IssuerRecord, IssuerStore, RegistryStore

Json = dict[str, Any]


class TrustRegistry:
    """The trust policy (module docstring) over the registry and issuer stores (which are
    one store in the service: ``store.trust_version()`` versions both), read at ``clock``
    time; ``schema_base_url`` is the public base the ``credentialSchema`` ids are built on;
    ``allow_unregistered_types`` lets types unknown to the registry be issued without
    policy (otherwise they are refused). Reads are cached: issuers
    and types, which never change once written, for good; API keys, issuers by DID,
    accreditations and absent types under the trust version
    (:class:`~identity.registry.cache.VersionedCache`: bounded, stale bound zero)."""

    def __init__(
        self,
        store: RegistryStore,
        issuers: IssuerStore,
        clock: Clock,
        *,
        schema_base_url: str,
        allow_unregistered_types: bool = False,
    ) -> None:
        self.store = store
        self.issuers = issuers
        self.clock = clock
        self.schema_base_url = schema_base_url.rstrip("/")
        self.allow_unregistered = allow_unregistered_types
        self._types: dict[str, CredentialType] = {}
        self._issuers: dict[str, IssuerRecord] = {}
        self.cache = VersionedCache(store.trust_version)
        """API keys, issuers by DID, accreditations and type misses, by trust version."""

    def snapshot(self) -> Snapshot:
        """One read of the trust version, for the cached reads of one request."""
        return self.cache.snapshot()

    def one_snapshot(
        self, version: Callable[[], int] | None = None
    ) -> contextlib.AbstractContextManager[None]:
        """One trust snapshot for every read in the block (the version read once, at the
        first read, by ``version`` when given): around a request that only reads, e.g.
        verification (:meth:`VersionedCache.one_snapshot`)."""
        return self.cache.one_snapshot(version)

    def find_type(self, name: str, snapshot: Snapshot | None = None) -> CredentialType | None:
        """A registered type, cached once found: types are never changed or removed,
        and parsing one re-checks its schema (costly). An absent type is remembered under
        the trust version (``create_type`` grows it)."""
        cached = self._types.get(name)
        if cached is None:
            snap = snapshot or self.snapshot()
            cached = snap.get(("type", name), lambda: self.store.find_type(name))
            if cached is not None:
                self._types[name] = cached
        return cached

    def api_key(self, key_id: str, snapshot: Snapshot | None = None) -> ApiKeyRecord | None:
        """``find_api_key`` under the trust version (``add_api_key``/``revoke_api_key`` grow
        it): a revoked key is refused by the first request that starts after the revocation
        committed, on every replica. Unknown key ids are not remembered (anyone can send
        them)."""
        snap = snapshot or self.snapshot()
        return snap.get(("api-key", key_id), lambda: self.issuers.find_api_key(key_id), _found)

    def issuer_by_did(self, did: str, snapshot: Snapshot | None = None) -> IssuerRecord | None:
        """``find_issuer_by_did`` under the trust version (``create_issuer`` grows it, so a
        remembered miss is dropped when the agency is created)."""
        snap = snapshot or self.snapshot()
        return snap.get(("issuer-did", did), lambda: self.issuers.find_issuer_by_did(did))

    def issuer(self, issuer_id: str) -> IssuerRecord:
        """The agency ``issuer_id`` (NotFoundError when there is none), cached once read:
        an issuer record is never changed or removed (the store has no such write), so
        the cache is exact on every replica."""
        cached = self._issuers.get(issuer_id)
        if cached is None:
            cached = self._issuers[issuer_id] = self.issuers.get_issuer(issuer_id)
        return cached

    def schema_url(self, name: str) -> str:
        """The public URL of type ``name``'s JSON Schema, as put in ``credentialSchema.id``
        (served by ``GET /credential-types/{name}/schema``)."""
        return f"{self.schema_base_url}/credential-types/{name}/schema"

    def registered_types(self, types: Sequence[str]) -> list[CredentialType]:
        """The registered types among ``types``; refuse unknown specific types."""
        found = []
        for name in types:
            if name == "VerifiableCredential":
                continue
            credential_type = self.find_type(name)
            if credential_type is None:
                if not self.allow_unregistered:
                    raise MalformedValueError(
                        f"credential type {name!r} is not registered", field="type", type=name
                    )
                continue
            found.append(credential_type)
        return found

    def prepare_issuance(self, document: Json, issuer_id: str) -> tuple[Json, bool]:
        """Apply the policy to an (issuer-bound) credential; return it and whether it
        may be suspended. Raises 403 when the agency is not accredited now."""
        types = document.get("type")
        registered = self.registered_types(types if isinstance(types, list) else [str(types)])
        now = self.clock.now()
        out = dict(document)
        snap = self.snapshot() if registered else None
        for credential_type in registered:
            trust = self.accredited(issuer_id, credential_type.name, now, snap)
            if not trust.accredited:
                raise PermissionDeniedError(
                    f"agency is not accredited to issue {credential_type.name}",
                    type=credential_type.name,
                )
            credential_type.validate_subject(out.get("credentialSubject"))
            out = self._decorate(out, credential_type, now)
        suspendable = all(t.suspendable for t in registered)
        return out, suspendable

    def _decorate(self, document: Json, credential_type: CredentialType, now: datetime) -> Json:
        out = dict(document)
        context = list(out.get("@context", []))
        if credential_type.context and credential_type.context not in context:
            out["@context"] = [*context, credential_type.context]
        schema = {"id": self.schema_url(credential_type.name), "type": "JsonSchema"}
        existing = out.get("credentialSchema")
        listed = [] if existing is None else existing if isinstance(existing, list) else [existing]
        if schema not in listed:
            listed.append(schema)
            out["credentialSchema"] = listed[0] if len(listed) == 1 else listed
        if (
            "validUntil" not in out
            and out.get("@context", [None])[0] != "https://www.w3.org/2018/credentials/v1"
        ):
            start = parse_datetime(out["validFrom"], "validFrom") if "validFrom" in out else now
            until = credential_type.default_valid_until(start)
            if until is not None:
                out["validUntil"] = xsd_datetime(until)
        return out

    def accredited(
        self, issuer_id: str, type_name: str, moment: datetime, snapshot: Snapshot | None = None
    ) -> TrustResult:
        """Was ``issuer_id`` accredited for ``type_name`` at ``moment`` (the whole
        delegation chain), from accreditations read under the trust version."""
        snap = snapshot or self.snapshot()

        def of(issuer: str) -> tuple[Accreditation, ...]:
            return snap.get(
                ("accreditations", issuer), lambda: tuple(self.store.accreditations_of(issuer))
            )

        def get(accreditation_id: str) -> Accreditation:
            return snap.get(
                ("accreditation", accreditation_id),
                lambda: self.store.get_accreditation(accreditation_id),
            )

        return accredited_for(issuer_id, type_name, moment, of, get)

    def issuer_trust(self, credential: Credential) -> Json:
        """``results.issuerTrust``: accredited for the type at issuance time, and by whom.

        The issuance time matters only for an issuer and type registered here: a foreign
        credential with neither ``proof.created`` nor ``validFrom`` (an enveloped one,
        say) is reported not accredited, without an ``at``."""
        snap = self.snapshot()
        issuer = self.issuer_by_did(credential.issuer, snap)
        type_name = credential.credential_type
        if issuer is None or self.find_type(type_name, snap) is None:
            out: Json = {"accredited": False, "type": type_name}
            with contextlib.suppress(MalformedValueError):
                out["at"] = xsd_datetime(_issued_at(credential))
            return {**out, "reason": "issuer or type not registered here"}
        moment = _issued_at(credential)
        trust = self.accredited(issuer.id, type_name, moment, snap)
        return {"type": type_name, "at": xsd_datetime(moment), **trust.to_json()}

    def new_accreditation(
        self,
        *,
        issuer_id: str,
        types: Sequence[str],
        valid_from: datetime,
        valid_until: datetime,
        by: str,
        parent_id: str | None,
    ) -> Accreditation:
        """Root accreditation (``by="operator"``) or a one-level delegation by an agency,
        checked but not stored (the caller anchors it, then stores it)."""
        self.issuers.get_issuer(issuer_id)
        for name in types:
            if self.find_type(name) is None:
                raise MalformedValueError(f"credential type {name!r} is not registered", type=name)
        parent = None
        if by != "operator":
            if parent_id is None:
                raise MalformedValueError(
                    "a delegation names its parent accreditation", field="parent"
                )
            parent = self.store.get_accreditation(parent_id)
        return delegate(
            parent,
            new_id=f"acc-{secrets.token_hex(8)}",
            issuer_id=issuer_id,
            types=types,
            valid_from=valid_from,
            valid_until=valid_until,
            now=self.clock.now(),
            by=by,
        )


def _found(value: object) -> bool:
    return value is not None


def _issued_at(credential: Credential) -> datetime:
    """When the credential was issued: its first proof's ``created``, else ``validFrom``."""
    proof = credential.json.get("proof")
    first = proof[0] if isinstance(proof, list) and proof else proof
    if isinstance(first, dict) and isinstance(first.get("created"), str):
        return parse_datetime(first["created"], "proof.created")
    if credential.valid_from is not None:
        return credential.valid_from
    raise MalformedValueError("credential has no issuance time (proof.created or validFrom)")
