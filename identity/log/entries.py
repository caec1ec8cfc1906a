"""The leaf format: a canonical, versioned record of one act the service performed.

A leaf is the JCS (RFC 8785) serialisation of a flat JSON object::

    {"v": 1, "kind": "credential.issued", "time": "2026-01-01T00:00:00Z", <fields>}

Fields carry *digests and identifiers only*, never personal data: each value is a short
string; a field named ``…_digest`` must be ``sha256:<64 lowercase hex>``. Every kind and
its fields are registered once in :data:`KINDS`; a leaf is parsed back strictly (I-JSON,
canonical bytes, known kind and version, exactly the registered fields).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from identity.canonical import jcs, parse_json
from identity.clock import xsd_datetime
from identity.errors import MalformedValueError, ParsingError

VERSION = 1
MAX_VALUE_LENGTH = 2048
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,63}")
_RESERVED = frozenset({"v", "kind", "time"})


@dataclass(frozen=True, slots=True)
class Kind:
    """A registered kind: the fields it must carry and the ones it may carry."""

    required: frozenset[str]
    optional: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        names = self.required | self.optional
        if self.required & self.optional or names & _RESERVED:
            raise ValueError("kind fields overlap or use a reserved name")
        if not all(_FIELD.fullmatch(n) for n in names):
            raise ValueError("kind field names are lowercase snake_case")


def _kind(required: str, optional: str = "") -> Kind:
    return Kind(frozenset(required.split()), frozenset(optional.split()))


#: Every kind of leaf this log accepts, version 1. Add new kinds here only.
KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        "credential.issued": _kind(
            "credential_digest issuer", "credential_id type status_list format disclosure_digests"
        ),
        "credential.revoked": _kind("credential_id issuer", "status_list reason_code"),
        "credential.suspended": _kind("credential_id issuer", "status_list reason_code"),
        "credential.reinstated": _kind("credential_id issuer", "status_list"),
        "credential.status_changed": _kind("credential_id issuer status_list status"),
        "did.created": _kind("did operation_digest document_digest"),
        "did.updated": _kind("did operation_digest document_digest previous_digest"),
        "did.deactivated": _kind("did operation_digest previous_digest"),
        "accreditation.granted": _kind("accreditor subject", "credential_digest scope"),
        "accreditation.revoked": _kind("accreditation subject"),
        "type.registered": _kind("type definition_digest"),
        "issuer.created": _kind("issuer did"),
        "catalog.published": _kind("catalog_digest publisher entry version"),
        # Sharing: record_digest is SHA-256 of the JCS of the act's record (the request
        # itself for sharing.requested); the citizen concerned is named only inside the
        # records, never in the public leaf.
        "sharing.requested": _kind("request_digest record_digest requester holder resource"),
        "consent.granted": _kind("request_digest record_digest"),
        "consent.refused": _kind("request_digest record_digest"),
        "consent.withdrawn": _kind("request_digest record_digest"),
        "sharing.exempted": _kind("request_digest record_digest"),
        "sharing.approved": _kind("request_digest record_digest holder requester"),
        "data.accessed": _kind("request_digest record_digest holder accessor resource"),
    }
)


def _check_fields(kind: str, fields: Mapping[str, object]) -> None:
    spec = KINDS.get(kind)
    if spec is None:
        raise MalformedValueError(f"unknown log entry kind {kind!r}", kind=kind)
    names = set(fields)
    if missing := spec.required - names:
        raise MalformedValueError(f"{kind} needs {sorted(missing)}", kind=kind)
    if unknown := names - spec.required - spec.optional:
        raise MalformedValueError(f"{kind} does not take {sorted(unknown)}", kind=kind)
    for name, value in fields.items():
        if not isinstance(value, str) or not 0 < len(value) <= MAX_VALUE_LENGTH:
            raise MalformedValueError(f"{name} must be a non-empty short string", field=name)
        if name.endswith("_digest") and not _DIGEST.fullmatch(value):
            raise MalformedValueError(f"{name} must be sha256:<64 hex>", field=name)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One act, as logged. ``time`` is UTC with whole seconds."""

    kind: str
    time: datetime
    fields: Mapping[str, str] = field(default_factory=dict)
    version: int = VERSION

    def __post_init__(self) -> None:
        if self.version != VERSION:
            raise MalformedValueError("unsupported log entry version", version=self.version)
        if self.time.tzinfo is None or self.time.utcoffset() or self.time.microsecond:
            raise MalformedValueError("entry time is UTC with whole seconds")
        _check_fields(self.kind, self.fields)
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    def to_bytes(self) -> bytes:
        """The leaf: JCS of the record."""
        record = {"v": self.version, "kind": self.kind, "time": xsd_datetime(self.time)}
        return jcs({**record, **self.fields})

    @classmethod
    def parse(cls, data: bytes) -> LogEntry:
        """Parse a leaf strictly; it must be exactly the canonical bytes of a valid entry."""
        try:
            record = parse_json(data)
        except ParsingError as exc:
            raise MalformedValueError(f"log entry is not I-JSON: {exc.detail}") from exc
        if not isinstance(record, dict):
            raise MalformedValueError("a log entry is a JSON object")
        version, kind, time = (
            record.pop("v", None),
            record.pop("kind", None),
            record.pop("time", None),
        )
        if version != VERSION or type(version) is not int:
            raise MalformedValueError("unsupported log entry version")
        if not isinstance(kind, str) or not isinstance(time, str) or not _TIME.fullmatch(time):
            raise MalformedValueError("a log entry has a kind and a …Z time")
        try:
            moment = datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError as exc:
            raise MalformedValueError("log entry time is not a valid date-time") from exc
        entry = cls(kind, moment, record, version)
        if entry.to_bytes() != data:
            raise MalformedValueError("log entry is not in canonical (JCS) form")
        return entry
