"""The trust policy applied at issuance and verification, over a :class:`RegistryStore`.

Issuance of a registered type requires an accreditation active *now*; the subject must
fit the type's schema; the credential gets ``credentialSchema``, the type's JSON-LD
context and a default ``validUntil``. Verification reports whether the issuer was
accredited for the type at the credential's issuance time, and by whom.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from identity.clock import Clock, xsd_datetime
from identity.credentials.model import Credential, parse_datetime
from identity.errors import MalformedValueError, PermissionDeniedError
from identity.registry.accreditation import Accreditation, TrustResult, accredited_for, delegate
from identity.registry.types import CredentialType
from identity.stores import IssuerRecord, IssuerStore, RegistryStore

Json = dict[str, Any]


class TrustRegistry:
    """The trust policy (module docstring) over the registry and issuer stores, read at ``clock``
    time; ``schema_base_url`` is the public base the ``credentialSchema`` ids are built on.
    ``allow_unregistered_types`` lets types unknown to the registry be issued without policy
    (otherwise they are refused)."""

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

    def find_type(self, name: str) -> CredentialType | None:
        """A registered type, cached once found: types are never changed or removed,
        and parsing one re-checks its schema (costly)."""
        cached = self._types.get(name)
        if cached is None:
            cached = self.store.find_type(name)
            if cached is not None:
                self._types[name] = cached
        return cached

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
        for credential_type in registered:
            trust = self.accredited(issuer_id, credential_type.name, now)
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

    def accredited(self, issuer_id: str, type_name: str, moment: datetime) -> TrustResult:
        """:func:`~identity.registry.accreditation.accredited_for` over the store: whether
        ``issuer_id`` held an accreditation for ``type_name`` at ``moment``, whole chain
        active then."""
        return accredited_for(
            issuer_id, type_name, moment, self.store.accreditations_of, self.store.get_accreditation
        )

    def issuer_trust(self, credential: Credential) -> Json:
        """``results.issuerTrust``: accredited for the type at issuance time, and by whom.

        The issuance time matters only for an issuer and type registered here: a foreign
        credential with neither ``proof.created`` nor ``validFrom`` (an enveloped one,
        say) is reported not accredited, without an ``at``."""
        issuer = self.issuers.find_issuer_by_did(credential.issuer)
        type_name = credential.credential_type
        if issuer is None or self.find_type(type_name) is None:
            out: Json = {"accredited": False, "type": type_name}
            with contextlib.suppress(MalformedValueError):
                out["at"] = xsd_datetime(_issued_at(credential))
            return {**out, "reason": "issuer or type not registered here"}
        moment = _issued_at(credential)
        trust = self.accredited(issuer.id, type_name, moment)
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


def _issued_at(credential: Credential) -> datetime:
    """When the credential was issued: its first proof's ``created``, else ``validFrom``."""
    proof = credential.json.get("proof")
    first = proof[0] if isinstance(proof, list) and proof else proof
    if isinstance(first, dict) and isinstance(first.get("created"), str):
        return parse_datetime(first["created"], "proof.created")
    if credential.valid_from is not None:
        return credential.valid_from
    raise MalformedValueError("credential has no issuance time (proof.created or validFrom)")
