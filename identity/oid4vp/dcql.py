"""The Digital Credentials Query Language (OpenID4VP 1.0 §6) and claims path pointers (§7).

:func:`parse_query` checks a query's shape; :func:`select` applies a claims path pointer
to a credential's claims (§7.1); :func:`satisfied_claims` says which claims of a
Credential Query a credential answers (honouring ``claim_sets`` and ``values``), and
:func:`required_ids` which Credential Queries must be answered (``credential_sets``, §6.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from identity.oid4vp.errors import DcqlQueryError

SD_JWT_FORMAT = "dc+sd-jwt"
LDP_FORMAT = "ldp_vc"
FORMATS = frozenset({SD_JWT_FORMAT, LDP_FORMAT})
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_CREDENTIALS = 16
MAX_CLAIMS = 64
PathPart = str | int | None


@dataclass(frozen=True, slots=True)
class ClaimQuery:
    """One requested claim (§6.3): its ``path`` and optional expected ``values``."""

    id: str | None
    path: tuple[PathPart, ...]
    values: tuple[Any, ...] | None


@dataclass(frozen=True, slots=True)
class CredentialQuery:
    """One Credential Query (§6.1)."""

    id: str
    format: str
    meta: dict[str, Any]
    claims: tuple[ClaimQuery, ...]
    claim_sets: tuple[tuple[str, ...], ...] | None
    multiple: bool


@dataclass(frozen=True, slots=True)
class DcqlQuery:
    """A parsed DCQL query; ``raw`` is the JSON it came from (sent in the request)."""

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[tuple[bool, tuple[tuple[str, ...], ...]], ...] | None
    raw: dict[str, Any]

    def by_id(self, query_id: str) -> CredentialQuery | None:
        """The Credential Query named ``query_id``."""
        return next((c for c in self.credentials if c.id == query_id), None)


def _fail(detail: str, **data: Any) -> DcqlQueryError:
    return DcqlQueryError(detail, field="dcql_query", **data)


def _path(value: Any) -> tuple[PathPart, ...]:
    if not isinstance(value, list) or not value or len(value) > 16:
        raise _fail("a claims path is a non-empty array (§7)")
    for part in value:
        ok = part is None or isinstance(part, str) or (isinstance(part, int) and part >= 0)
        if not ok or isinstance(part, bool):
            raise _fail("a claims path holds strings, non-negative integers or null (§7)")
    return tuple(value)


def _claim(value: Any) -> ClaimQuery:
    if not isinstance(value, dict):
        raise _fail("each claims entry is an object")
    cid = value.get("id")
    if cid is not None and (not isinstance(cid, str) or not _ID.match(cid)):
        raise _fail("a claim id is alphanumeric, '_' or '-'")
    values = value.get("values")
    if values is not None and (not isinstance(values, list) or not values):
        raise _fail("values is a non-empty array")
    return ClaimQuery(cid, _path(value.get("path")), tuple(values) if values else None)


def _meta(fmt: str, meta: Any) -> dict[str, Any]:
    if not isinstance(meta, dict):
        raise _fail("meta is a required object (§6.1)")
    if fmt == SD_JWT_FORMAT:
        vct = meta.get("vct_values")
        if not isinstance(vct, list) or not vct or not all(isinstance(v, str) for v in vct):
            raise _fail("dc+sd-jwt meta has vct_values, a non-empty array of strings")
    else:
        types = meta.get("type_values")
        good = (
            isinstance(types, list)
            and types
            and all(isinstance(t, list) and t and all(isinstance(s, str) for s in t) for t in types)
        )
        if not good:
            raise _fail("ldp_vc meta has type_values, a non-empty array of string arrays")
    return meta


def _credential(value: Any) -> CredentialQuery:
    if not isinstance(value, dict):
        raise _fail("each credentials entry is an object")
    qid, fmt = value.get("id"), value.get("format")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise _fail("a Credential Query id is alphanumeric, '_' or '-'")
    if fmt not in FORMATS:
        raise _fail(f"format must be one of {sorted(FORMATS)}", format=str(fmt)[:40])
    claims_raw = value.get("claims", [])
    if not isinstance(claims_raw, list) or len(claims_raw) > MAX_CLAIMS:
        raise _fail(f"claims is an array of at most {MAX_CLAIMS}")
    claims = tuple(_claim(c) for c in claims_raw)
    sets_raw = value.get("claim_sets")
    claim_sets = None
    if sets_raw is not None:
        ids = {c.id for c in claims}
        if not claims or any(c.id is None for c in claims):
            raise _fail("claim_sets needs claims that all have an id")
        if not isinstance(sets_raw, list) or not sets_raw:
            raise _fail("claim_sets is a non-empty array")
        for option in sets_raw:
            if not isinstance(option, list) or not option or not set(option) <= ids:
                raise _fail("each claim set lists ids of this query's claims")
        claim_sets = tuple(tuple(s) for s in sets_raw)
    multiple = value.get("multiple", False)
    if not isinstance(multiple, bool):
        raise _fail("multiple is a boolean")
    return CredentialQuery(qid, fmt, _meta(fmt, value.get("meta")), claims, claim_sets, multiple)


def parse_query(raw: Any) -> DcqlQuery:
    """Parse a DCQL query (§6); :class:`DcqlQueryError` names what is wrong."""
    if not isinstance(raw, dict):
        raise _fail("dcql_query is a JSON object")
    listed = raw.get("credentials")
    if not isinstance(listed, list) or not 1 <= len(listed) <= MAX_CREDENTIALS:
        raise _fail(f"credentials is an array of 1..{MAX_CREDENTIALS} Credential Queries")
    credentials = tuple(_credential(c) for c in listed)
    ids = [c.id for c in credentials]
    if len(set(ids)) != len(ids):
        raise _fail("Credential Query ids are unique")
    sets_raw = raw.get("credential_sets")
    sets = None
    if sets_raw is not None:
        if not isinstance(sets_raw, list) or not sets_raw:
            raise _fail("credential_sets is a non-empty array")
        parsed = []
        for entry in sets_raw:
            options = entry.get("options") if isinstance(entry, dict) else None
            required = entry.get("required", True) if isinstance(entry, dict) else None
            if not isinstance(options, list) or not options or not isinstance(required, bool):
                raise _fail("a credential set has non-empty options and a boolean required")
            for option in options:
                if not isinstance(option, list) or not option or not set(option) <= set(ids):
                    raise _fail("each option lists ids of this query's Credential Queries")
            parsed.append((required, tuple(tuple(o) for o in options)))
        sets = tuple(parsed)
    return DcqlQuery(credentials, sets, raw)


def select(claims: Any, path: tuple[PathPart, ...]) -> list[Any]:
    """The elements a claims path pointer selects (§7.1); empty when it selects none."""
    selected = [claims]
    for part in path:
        nxt: list[Any] = []
        for item in selected:
            if isinstance(part, str) and isinstance(item, dict) and part in item:
                nxt.append(item[part])
            elif part is None and isinstance(item, list):
                nxt.extend(item)
            elif isinstance(part, int) and isinstance(item, list) and part < len(item):
                nxt.append(item[part])
        selected = nxt
    return selected


def claim_present(claims: Any, claim: ClaimQuery) -> bool:
    """Whether ``claim`` selects something in ``claims`` (and one of its ``values``)."""
    found = select(claims, claim.path)
    if claim.values is None:
        return bool(found)
    return any(v in claim.values for v in found)


def satisfied_claims(query: CredentialQuery, claims: Any) -> tuple[ClaimQuery, ...] | None:
    """The claims of ``query`` a credential answers (§6.4.1): all of them without
    ``claim_sets``, else the first claim set it fully answers; None when it answers none."""
    if query.claim_sets is None:
        ok = all(claim_present(claims, c) for c in query.claims)
        return query.claims if ok else None
    by_id = {c.id: c for c in query.claims}
    for option in query.claim_sets:
        chosen = tuple(by_id[i] for i in option)
        if all(claim_present(claims, c) for c in chosen):
            return chosen
    return None


def meta_matches(query: CredentialQuery, credential_meta: dict[str, Any]) -> bool:
    """``vct`` in ``vct_values`` (SD-JWT VC), or the credential's ``type`` holding every
    type of one ``type_values`` entry (W3C VC, OpenID4VP Annex B.1.1)."""
    if query.format == SD_JWT_FORMAT:
        return credential_meta.get("vct") in query.meta["vct_values"]
    types = credential_meta.get("type")
    types = set(types) if isinstance(types, list) else {types}
    return any(set(option) <= types for option in query.meta["type_values"])


def required_ids(query: DcqlQuery, answered: set[str]) -> list[str]:
    """Which required credential sets ``answered`` leaves unmet, as the ids of their
    first option (§6.4.2); empty when the response answers enough."""
    if query.credential_sets is None:
        return [c.id for c in query.credentials if c.id not in answered]
    missing: list[str] = []
    for required, options in query.credential_sets:
        if required and not any(set(o) <= answered for o in options):
            missing.extend(i for i in options[0] if i not in answered)
    return missing


def path_string(path: tuple[PathPart, ...]) -> str:
    """A claims path as the SD-JWT holder names it: ``a.b[0]``, ``a[]`` for null."""
    out = ""
    for part in path:
        if isinstance(part, str):
            out += ("." if out else "") + part
        else:
            out += "[]" if part is None else f"[{part}]"
    return out
