"""Parse a credential into a trusted, frozen view (VC Data Model 2.0 §4, and 1.1).

:func:`parse_credential` checks well-formedness and returns a :class:`Credential` whose
fields can be used without re-checking; the original JSON is kept untouched in ``json``
because proofs are verified over the JSON as given, never over a re-dump of this model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from identity.errors import MalformedValueError, ParsingError, RangeError

V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"

# XML Schema 1.1 dateTimeStamp: a dateTime with a mandatory time zone (VC DM 2.0 §4.9).
DATETIME_STAMP = re.compile(
    r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
    r"(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)$"
)
# RFC 3986 scheme followed by ':' -- VC DM 2.0 §4.4 requires ids to be URLs.
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class Credential:
    """A well-formed credential; ``json`` is exactly what was parsed."""

    json: dict[str, Any]
    version: int
    id: str | None
    types: tuple[str, ...]
    issuer: str
    subject_ids: tuple[str, ...]
    valid_from: datetime | None
    valid_until: datetime | None

    @property
    def credential_type(self) -> str:
        """The most specific type: the first that is not ``VerifiableCredential``."""
        return next((t for t in self.types if t != "VerifiableCredential"), "VerifiableCredential")


def parse_datetime(value: Any, field: str) -> datetime:
    """Parse an XML Schema dateTimeStamp; a missing time zone is an error."""
    if not isinstance(value, str) or not DATETIME_STAMP.match(value):
        example = "2026-01-01T00:00:00Z"
        if isinstance(value, str) and DATE_ONLY.fullmatch(value):
            example = value + "T00:00:00Z"  # the user's own date, made a dateTimeStamp
        raise MalformedValueError(
            f"{field} must be an XML Schema dateTimeStamp (a date, a time and a time zone), "
            f"e.g. {example}",
            field=field,
            example=example,
        )
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedValueError(f"{field} is not a valid date-time", field=field) from exc


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_url(value: Any, field: str) -> str:
    if not isinstance(value, str) or not URL.match(value):
        raise MalformedValueError(
            f"{field} must be a URL, e.g. did:example:123 or https://example.org/123",
            field=field,
        )
    return value


def _check_context(doc: dict[str, Any]) -> int:
    context = doc.get("@context")
    if not isinstance(context, list) or not context:
        raise ParsingError("@context must be a non-empty array", field="@context")
    for item in context:
        if not isinstance(item, str | dict):
            raise ParsingError("each @context item must be a URL or an object", field="@context")
    if context[0] == V2_CONTEXT:
        return 2
    if context[0] == V1_CONTEXT:
        return 1
    raise ParsingError(f"the first @context item must be {V2_CONTEXT}", field="@context")


def _check_types(doc: dict[str, Any]) -> tuple[str, ...]:
    types = doc.get("type")
    listed = _as_list(types)
    if types is None or not listed or not all(isinstance(t, str) and t for t in listed):
        raise MalformedValueError("type must be a string or an array of strings", field="type")
    if "VerifiableCredential" not in listed:
        raise MalformedValueError("type must include VerifiableCredential", field="type")
    return tuple(listed)


def _check_issuer(doc: dict[str, Any]) -> str:
    issuer = doc.get("issuer")
    if issuer is None:
        raise MalformedValueError(
            'the credential has no "issuer": set it to the issuing agency\'s DID '
            '(e.g. "issuer": "did:key:z6Mk…", as GET /issuers/{id} shows), VC DM 2.0 §4.7',
            field="issuer",
        )
    if isinstance(issuer, dict):
        return _check_url(issuer.get("id"), "issuer.id")
    return _check_url(issuer, "issuer")


def _check_subjects(doc: dict[str, Any]) -> tuple[str, ...]:
    subject = doc.get("credentialSubject")
    subjects = _as_list(subject)
    if subject is None or not subjects or not all(isinstance(s, dict) and s for s in subjects):
        raise MalformedValueError(
            "credentialSubject must be a non-empty object or a non-empty array of them",
            field="credentialSubject",
        )
    ids = []
    for s in subjects:
        if "id" in s:
            ids.append(_check_url(s["id"], "credentialSubject.id"))
    return tuple(ids)


def _check_typed_objects(doc: dict[str, Any], field: str, *, id_required: bool) -> None:
    """credentialStatus (§4.10), credentialSchema (§4.11), termsOfUse (§5.5), evidence
    (§5.6) and refreshService (§5.4) share one shape rule: objects with a ``type``."""
    if field not in doc:
        return
    items = _as_list(doc[field])
    if not items:
        raise MalformedValueError(f"{field} must not be empty", field=field)
    for item in items:
        if not isinstance(item, dict):
            raise MalformedValueError(
                f"{field} must be an object or an array of objects", field=field
            )
        if not isinstance(item.get("type"), str | list) or not item.get("type"):
            raise MalformedValueError(f"{field}.type is required", field=field)
        if id_required or "id" in item:
            _check_url(item.get("id"), f"{field}.id")


def _check_related_resources(doc: dict[str, Any]) -> None:
    """§5.3 Integrity of Related Resources: objects with a unique ``id`` URL and at least
    one of ``digestSRI`` / ``digestMultibase`` (the digests themselves are checked by the
    JSON-LD layer for the contexts it serves)."""
    if "relatedResource" not in doc:
        return
    seen = set()
    for item in _as_list(doc["relatedResource"]):
        if not isinstance(item, dict):
            raise MalformedValueError("relatedResource must hold objects", field="relatedResource")
        url = _check_url(item.get("id"), "relatedResource.id")
        if url in seen:
            raise MalformedValueError("relatedResource ids must be unique", field="relatedResource")
        seen.add(url)
        if not any(isinstance(item.get(k), str) for k in ("digestSRI", "digestMultibase")):
            raise MalformedValueError(
                "relatedResource needs digestSRI or digestMultibase", field="relatedResource"
            )


def _validity(doc: dict[str, Any], version: int) -> tuple[datetime | None, datetime | None]:
    start_field, end_field = (
        ("validFrom", "validUntil") if version == 2 else ("issuanceDate", "expirationDate")
    )
    if version == 1 and start_field not in doc:
        raise MalformedValueError("a VC 1.1 credential requires issuanceDate", field=start_field)
    start = parse_datetime(doc[start_field], start_field) if start_field in doc else None
    end = parse_datetime(doc[end_field], end_field) if end_field in doc else None
    if start is not None and end is not None and end < start:
        raise RangeError(f"{end_field} is before {start_field}", field=end_field)
    return start, end


def parse_credential(doc: Any) -> Credential:
    """Check VC DM well-formedness (§4) and return the trusted view, or raise."""
    if not isinstance(doc, dict):
        raise ParsingError("a credential must be a JSON object")
    version = _check_context(doc)
    types = _check_types(doc)
    issuer = _check_issuer(doc)
    subject_ids = _check_subjects(doc)
    cred_id = _check_url(doc["id"], "id") if "id" in doc else None
    _check_typed_objects(doc, "credentialStatus", id_required=False)
    _check_typed_objects(doc, "credentialSchema", id_required=True)
    for field in ("termsOfUse", "evidence", "refreshService"):
        _check_typed_objects(doc, field, id_required=False)
    _check_related_resources(doc)
    valid_from, valid_until = _validity(doc, version)
    if "proof" in doc and not isinstance(doc["proof"], dict | list):
        raise MalformedValueError("proof must be an object or an array", field="proof")
    return Credential(doc, version, cred_id, types, issuer, subject_ids, valid_from, valid_until)
