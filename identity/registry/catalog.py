"""The data catalog of the directory chain: what each agency holds and on what terms.

An accredited agency publishes an *entry* per data resource it holds: identifier, title,
description, the fields it contains, the legal basis and duty it serves, who may request
it and under which conditions. Entries are versioned (1, 2, …); every version is anchored
in the log by the SHA-256 of its JCS record, so the public log proves what was published
when, and a later version can never silently replace an earlier one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from identity.canonical import jcs, parse_json
from identity.clock import xsd_datetime
from identity.directory_store import CatalogRecord
from identity.errors import MalformedValueError

ENTRY_ID = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
MAX_FIELDS = 64
ANY_AGENCY = "*"
_TEXT_LIMITS = {"title": 200, "description": 4000, "legalBasis": 1000, "responsibility": 1000}
_MEMBERS = {
    "id",
    "title",
    "description",
    "fields",
    "legalBasis",
    "responsibility",
    "requesters",
    "conditions",
}


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One version of an entry, as published (parsed and checked on construction)."""

    id: str
    version: int
    publisher: str
    """The publishing agency's issuer id."""
    publisher_did: str
    body: dict[str, Any]
    """The entry as the agency wrote it (validated by :func:`parse_entry`)."""
    published: datetime

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the data fields the entry offers, in published order: what a data-sharing
        request may ask for."""
        return tuple(str(f["name"]) for f in self.body["fields"])

    def may_request(self, agency_id: str) -> bool:
        """Whether ``agency_id`` is among the entry's ``requesters`` (or they include ``"*"``,
        any accredited agency); says nothing of conditions or consent."""
        requesters = self.body["requesters"]
        return ANY_AGENCY in requesters or agency_id in requesters

    def record(self) -> dict[str, Any]:
        """The published record: what the log's ``catalog_digest`` is the digest of."""
        return {
            **self.body,
            "version": self.version,
            "publisher": self.publisher_did,
            "published": xsd_datetime(self.published),
        }

    def to_record(self, log_index: int) -> CatalogRecord:
        """The row the directory store keeps: the JCS of :meth:`record` (the bytes the log's
        digest is over), the field names, and ``log_index`` of its anchor."""
        return CatalogRecord(
            self.id,
            self.version,
            self.publisher,
            jcs(self.record()).decode(),
            self.fields,
            self.published,
            log_index,
        )

    @classmethod
    def from_record(cls, record: CatalogRecord) -> CatalogEntry:
        """The entry a stored record holds; only the agency-written members go back into ``body``
        (the version, publisher and date come from the record's own columns)."""
        stored = parse_json(record.entry)
        body = {k: v for k, v in stored.items() if k in _MEMBERS}
        return cls(
            record.id, record.version, record.publisher, stored["publisher"], body, record.published
        )


def parse_entry(body: Any) -> dict[str, Any]:
    """Check an entry an agency submits; return it unchanged or raise MalformedValueError."""
    if not isinstance(body, dict):
        raise MalformedValueError("a catalog entry is a JSON object")
    if extra := set(body) - _MEMBERS:
        raise MalformedValueError(f"unknown members {sorted(extra)}", field=sorted(extra)[0])
    if not isinstance(body.get("id"), str) or not ENTRY_ID.fullmatch(body["id"]):
        raise MalformedValueError("id: 3-64 of a-z 0-9 . _ -, starting alphanumeric", field="id")
    for name, limit in _TEXT_LIMITS.items():
        required = name in ("title", "legalBasis")
        value = body.get(name)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not 0 < len(value.strip()) <= limit:
            raise MalformedValueError(f"{name}: text of 1 to {limit} characters", field=name)
    _check_fields(body.get("fields"))
    requesters = body.get("requesters")
    if (
        not isinstance(requesters, list)
        or not requesters
        or not all(isinstance(r, str) and 0 < len(r) <= 128 for r in requesters)
    ):
        raise MalformedValueError(
            'requesters: agency ids, or ["*"] for any accredited agency', field="requesters"
        )
    if "conditions" in body and (
        not isinstance(body["conditions"], str) or len(body["conditions"]) > 2000
    ):
        raise MalformedValueError("conditions: text up to 2000 characters", field="conditions")
    return body


def _check_fields(fields: Any) -> None:
    if not isinstance(fields, list) or not 0 < len(fields) <= MAX_FIELDS:
        raise MalformedValueError(f"fields: 1 to {MAX_FIELDS} fields", field="fields")
    names = set()
    for item in fields:
        if (
            not isinstance(item, dict)
            or set(item) - {"name", "description", "personal"}
            or not isinstance(item.get("name"), str)
            or not FIELD_NAME.fullmatch(item["name"])
            or not isinstance(item.get("description", ""), str)
            or not isinstance(item.get("personal", True), bool)
        ):
            raise MalformedValueError(
                "a field is {name, description?, personal?}; names are identifiers",
                field="fields",
            )
        if item["name"] in names:
            raise MalformedValueError("field names must be unique", name=item["name"])
        names.add(item["name"])


def search(
    entries: Iterable[CatalogEntry],
    *,
    agency: str | None = None,
    field: str | None = None,
    text: str | None = None,
) -> list[CatalogEntry]:
    """Entries matching every filter given: publisher (issuer id or DID), a field name
    (exact), and words that must all appear in id, title or description (any case)."""
    words = text.casefold().split() if text else []
    found = []
    for entry in entries:
        if agency is not None and agency not in (entry.publisher, entry.publisher_did):
            continue
        if field is not None and field not in entry.fields:
            continue
        haystack = " ".join(
            (entry.id, entry.body["title"], entry.body.get("description", ""))
        ).casefold()
        if all(word in haystack for word in words):
            found.append(entry)
    return found
