"""Credential types: a ``type`` name, a JSON Schema for ``credentialSubject``, a context.

Schemas are JSON Schema Draft 2020-12 (``jsonschema``); a schema that is not valid
Draft 2020-12 is refused when the type is registered, and a subject that does not fit
is refused at issuance naming the JSON path of the first error.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError

from identity.canonical import jcs
from identity.credentials.status import StatusMessages
from identity.errors import MalformedValueError, SchemaViolationError

TYPE_NAME = re.compile(r"^[A-Z][A-Za-z0-9]{2,80}$")


@dataclass(frozen=True, slots=True)
class CredentialType:
    """A registered credential type; validated on construction."""

    name: str
    title: str
    schema: dict[str, Any] = field(repr=False)
    context: str | None = None
    validity_days: int | None = None
    suspendable: bool = True
    created: datetime | None = None
    status_messages: StatusMessages | None = None
    """Named states (Bitstring Status List ``message`` entries), when the type has them."""
    _validator: Any = field(init=False, repr=False, compare=False)
    """The schema compiled once (the type never changes): :meth:`validate_subject`."""
    selectively_disclosable: tuple[str, ...] = ()
    """Claim paths of ``credentialSubject`` an SD-JWT VC of this type conceals behind
    digests (``dateOfBirth``, ``address.district``, ``nationalities[]``); every other
    claim is always disclosed."""
    display: dict[str, str] = field(default_factory=dict)
    """The type's name per locale (``zh-CN``, ``en``), for SD-JWT VC type metadata."""
    claim_display: dict[str, dict[str, str]] = field(default_factory=dict)
    """Each claim's label per locale: ``{"dateOfBirth": {"zh-CN": "出生日期", "en": …}}``."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not TYPE_NAME.match(self.name):
            raise MalformedValueError(
                "type must be a PascalCase name of 3-81 letters/digits", field="type"
            )
        if self.name == "VerifiableCredential":
            raise MalformedValueError(
                "VerifiableCredential is not a registrable type", field="type"
            )
        if not isinstance(self.schema, dict):
            raise MalformedValueError("schema must be a JSON Schema object", field="schema")
        try:
            jsonschema.Draft202012Validator.check_schema(self.schema)
        except SchemaError as exc:
            raise MalformedValueError(
                f"schema is not valid JSON Schema (Draft 2020-12): {exc.message}", field="schema"
            ) from None
        if self.validity_days is not None and not 1 <= self.validity_days <= 36500:
            raise MalformedValueError("validityDays must be 1..36500", field="validityDays")
        validator = jsonschema.Draft202012Validator(
            self.schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        object.__setattr__(self, "_validator", validator)
        _check_disclosure_policy(self)

    @classmethod
    def from_json(cls, data: Any, created: datetime | None = None) -> CredentialType:
        """A type from its registration JSON (``type``, ``schema``, optional ``title``,
        ``context``, ``validityDays``, ``suspendable``, status messages, disclosure policy and
        display); every check of construction applies, each failure a
        :class:`~identity.errors.MalformedValueError` naming the field."""
        if not isinstance(data, dict):
            raise MalformedValueError("a credential type must be a JSON object")
        return cls(
            name=data.get("type"),  # type: ignore[arg-type]
            title=str(data.get("title") or data.get("type")),
            schema=data.get("schema"),  # type: ignore[arg-type]
            context=data.get("context"),
            validity_days=data.get("validityDays"),
            suspendable=bool(data.get("suspendable", True)),
            created=created,
            status_messages=None
            if data.get("statusMessages") is None
            else StatusMessages.from_json(data["statusMessages"], data.get("statusReference")),
            selectively_disclosable=tuple(_string_list(data, "selectivelyDisclosable")),
            display=_locale_map(data.get("display"), "display"),
            claim_display={
                str(name): _locale_map(labels, f"claimDisplay.{name}")
                for name, labels in _object(data, "claimDisplay").items()
            },
        )

    def to_json(self) -> dict[str, Any]:
        """The definition as registered (what :attr:`digest` covers); status messages
        appear only when the type has them, so older definitions keep their digests."""
        out: dict[str, Any] = {
            "type": self.name,
            "title": self.title,
            "context": self.context,
            "validityDays": self.validity_days,
            "suspendable": self.suspendable,
            "schema": self.schema,
        }
        if self.status_messages is not None:
            out["statusMessages"] = list(self.status_messages.messages)
            refs = self.status_messages.references
            if refs:
                out["statusReference"] = refs[0] if len(refs) == 1 else list(refs)
        # Only when set, so that definitions without them keep their digests.
        if self.selectively_disclosable:
            out["selectivelyDisclosable"] = list(self.selectively_disclosable)
        if self.display:
            out["display"] = dict(self.display)
        if self.claim_display:
            out["claimDisplay"] = {k: dict(v) for k, v in self.claim_display.items()}
        return out

    @property
    def digest(self) -> bytes:
        """SHA-256 of the JCS of the definition: what the log anchors."""
        return hashlib.sha256(jcs(self.to_json())).digest()

    def validate_subject(self, subject: Any) -> None:
        """Raise :class:`SchemaViolationError` naming the JSON path of the first error."""
        subjects = subject if isinstance(subject, list) else [subject]
        for position, item in enumerate(subjects):
            errors = sorted(self._validator.iter_errors(item), key=lambda e: list(e.absolute_path))
            if errors:
                first = errors[0]
                prefix = "$.credentialSubject" + (
                    f"[{position}]" if isinstance(subject, list) else ""
                )
                path = prefix + "".join(
                    f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path
                )
                raise SchemaViolationError(
                    f"{path}: {first.message}", path=path, credentialType=self.name
                )

    def default_valid_until(self, valid_from: datetime) -> datetime | None:
        """``valid_from`` plus ``validityDays`` days, or None when the type sets no validity
        period (the credential then has no ``validUntil`` unless it brings one)."""
        return valid_from + timedelta(days=self.validity_days) if self.validity_days else None


_SD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\])?)*$")


def _string_list(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedValueError(f"{name} must be an array of strings", field=name)
    return value


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise MalformedValueError(f"{name} must be an object", field=name)
    return value


def _locale_map(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise MalformedValueError(f"{name} must map locales to strings", field=name)
    return dict(value)


def _check_disclosure_policy(credential_type: CredentialType) -> None:
    """Each selectively disclosable path is a claim path of the subject's schema shape
    (names, ``.``, ``[]``); ``id`` (the SD-JWT VC's ``sub``) is always disclosed."""
    for path in credential_type.selectively_disclosable:
        if not isinstance(path, str) or not _SD_PATH.match(path) or path == "id":
            raise MalformedValueError(
                f"selectivelyDisclosable path {path!r} is not a claim path",
                field="selectivelyDisclosable",
            )


def bundled_types() -> list[CredentialType]:
    """The realistic types shipped with the service (``schemas/credential_types``)."""
    folder = resources.files("schemas") / "credential_types"
    return [
        CredentialType.from_json(json.loads(item.read_text(encoding="utf-8")))
        for item in sorted(folder.iterdir(), key=lambda p: p.name)
        if item.name.endswith(".json")
    ]
