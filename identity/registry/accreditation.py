"""Agency accreditation, modelled on EBSI's Trusted Issuers Registry.

The operator (the city, the root of trust) accredits an agency for some credential types
within a validity window. An agency accredited by the root may *delegate* one level
down: accredit another agency (e.g. its district offices) for a subset of its own types,
within its own window. A delegated accreditation cannot be delegated again.

:func:`accredited_for` answers "was this agency accredited for this type at that time,
and by whom" -- the chain must hold at that instant, parent included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from identity.errors import MalformedValueError, PermissionDeniedError, RangeError

ROOT = "operator"
MAX_DEPTH = 1  # the root's accreditations are depth 0; their delegations depth 1


@dataclass(frozen=True, slots=True)
class Accreditation:
    """One accreditation of agency ``issuer_id`` for ``types`` over [``valid_from``,
    ``valid_until``): by the root (depth 0) or delegated by an agency (depth 1, ``parent_id``
    its root accreditation). Construction refuses no types (MalformedValueError), an empty
    window (RangeError) and a depth beyond one (PermissionDeniedError)."""

    id: str
    issuer_id: str
    types: frozenset[str]
    valid_from: datetime
    valid_until: datetime
    accredited_by: str
    """``"operator"`` for the root, else the delegating agency's issuer id."""
    parent_id: str | None
    depth: int
    created: datetime
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.types:
            raise MalformedValueError("an accreditation names at least one credential type")
        if self.valid_until <= self.valid_from:
            raise RangeError("validUntil must be after validFrom", field="validUntil")
        if not 0 <= self.depth <= MAX_DEPTH:
            raise PermissionDeniedError("delegation deeper than one level is not allowed")

    def active_at(self, moment: datetime) -> bool:
        """In force at ``moment``: within [``valid_from``, ``valid_until``) and not revoked at or
        before it. The parent's state is not consulted (:func:`accredited_for` is)."""
        if self.revoked_at is not None and moment >= self.revoked_at:
            return False
        return self.valid_from <= moment < self.valid_until

    def to_json(self) -> dict[str, Any]:
        """The stored and API form: camelCase members, ISO 8601 datetimes, types sorted;
        ``revoked`` is None while in force. :meth:`from_json` reads it back exactly."""
        return {
            "id": self.id,
            "issuer": self.issuer_id,
            "types": sorted(self.types),
            "validFrom": self.valid_from.isoformat(),
            "validUntil": self.valid_until.isoformat(),
            "accreditedBy": self.accredited_by,
            "parent": self.parent_id,
            "depth": self.depth,
            "revoked": self.revoked_at.isoformat() if self.revoked_at else None,
            "created": self.created.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Accreditation:
        """The accreditation :meth:`to_json` wrote, checked again on construction; a missing
        member is a ``KeyError`` (stored data, not input)."""
        revoked = data.get("revoked")
        return cls(
            id=data["id"],
            issuer_id=data["issuer"],
            types=frozenset(data["types"]),
            valid_from=datetime.fromisoformat(data["validFrom"]),
            valid_until=datetime.fromisoformat(data["validUntil"]),
            accredited_by=data["accreditedBy"],
            parent_id=data["parent"],
            depth=data["depth"],
            created=datetime.fromisoformat(data["created"]),
            revoked_at=datetime.fromisoformat(revoked) if revoked else None,
        )


def delegate(
    parent: Accreditation | None,
    *,
    new_id: str,
    issuer_id: str,
    types: Sequence[str],
    valid_from: datetime,
    valid_until: datetime,
    now: datetime,
    by: str,
) -> Accreditation:
    """Make an accreditation: from the root when ``parent`` is None, else a delegation.

    A delegation must come from a root accreditation the delegating agency holds and
    that is active now; its types and window must lie within the parent's.
    """
    if parent is None:
        return Accreditation(
            new_id, issuer_id, frozenset(types), valid_from, valid_until, ROOT, None, 0, now
        )
    if parent.issuer_id != by:
        raise PermissionDeniedError("an agency may only delegate its own accreditation")
    if parent.depth >= MAX_DEPTH:
        raise PermissionDeniedError(
            "delegation deeper than one level is not allowed", parent=parent.id
        )
    if not parent.active_at(now):
        raise PermissionDeniedError("the delegating accreditation is not active", parent=parent.id)
    extra = set(types) - parent.types
    if extra:
        raise PermissionDeniedError(
            "cannot delegate types the agency is not accredited for", types=sorted(extra)
        )
    if valid_from < parent.valid_from or valid_until > parent.valid_until:
        raise RangeError("a delegation must lie within the parent's validity window")
    if issuer_id == by:
        raise MalformedValueError("an agency cannot delegate to itself")
    return Accreditation(
        new_id,
        issuer_id,
        frozenset(types),
        valid_from,
        valid_until,
        by,
        parent.id,
        parent.depth + 1,
        now,
    )


@dataclass(frozen=True, slots=True)
class TrustResult:
    """The answer of :func:`accredited_for`: ``chain`` runs from the agency's own accreditation
    up to the root's (empty when not accredited)."""

    accredited: bool
    chain: tuple[Accreditation, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The trust-check answer as served: ``accredited``, then who accredited each link and
        the accreditation ids, agency first, root last."""
        return {
            "accredited": self.accredited,
            "accreditedBy": [a.accredited_by for a in self.chain],
            "accreditations": [a.id for a in self.chain],
        }


def accredited_for(
    issuer_id: str,
    credential_type: str,
    moment: datetime,
    accreditations_of: Callable[[str], Sequence[Accreditation]],
    get: Callable[[str], Accreditation],
) -> TrustResult:
    """Was ``issuer_id`` accredited for ``credential_type`` at ``moment`` (whole chain)?"""
    for acc in accreditations_of(issuer_id):
        if credential_type not in acc.types or not acc.active_at(moment):
            continue
        chain = [acc]
        parent_id = acc.parent_id
        while parent_id is not None:
            parent = get(parent_id)
            if credential_type not in parent.types or not parent.active_at(moment):
                break
            chain.append(parent)
            parent_id = parent.parent_id
        else:
            return TrustResult(True, tuple(chain))
    return TrustResult(False)
