"""Data-sharing requests between agencies, with the citizen's consent (pure rules).

A requester asks the holder of a catalog resource for data about a citizen, for a stated
purpose. The request then moves through these states::

    awaiting-consent --grant--> consented --approve--> approved --access--> approved …
          |  \\--refuse--> refused (final)      \\             |
          |                                  withdraw      withdraw
          \\--exemption (operator)--> exempted --approve--> approved (no withdrawal)
                                      consented/approved --withdraw--> withdrawn (final)

Every transition here is a pure function ``(request, …, now) -> Step``: the new request
record, the log entry kind and the *record* of the act, whose SHA-256 (over JCS) is the
``record_digest`` in the public log leaf. The citizen is named only inside records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from identity.canonical import jcs, parse_json
from identity.clock import xsd_datetime
from identity.directory_store import SharingEvent, SharingRequest
from identity.errors import InvalidConsentError, MalformedValueError, SharingStateError
from identity.registry.catalog import CatalogEntry

AWAITING, CONSENTED, REFUSED = "awaiting-consent", "consented", "refused"
EXEMPTED, APPROVED, WITHDRAWN = "exempted", "approved", "withdrawn"
CITY_CONTEXT = "https://identity-service.example/contexts/city/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
MAX_PURPOSE = 1000

Json = dict[str, Any]


def record_digest(record: Json) -> str:
    """``"sha256:"`` + hex SHA-256 of the JCS of ``record``: the digest form a public log leaf
    carries for a request or an act (the record itself stays off the log)."""
    return "sha256:" + hashlib.sha256(jcs(record)).hexdigest()


@dataclass(frozen=True, slots=True)
class Step:
    """One transition: the request after it, and the act to log and keep."""

    request: SharingRequest
    kind: str
    record: Json

    def leaf_fields(self) -> dict[str, str]:
        """The public log leaf: digests and agency identifiers only (entries.KINDS)."""
        asked = body(self.request)
        requester_did, holder_did = asked["requester"], asked["holder"]
        fields = {
            "request_digest": record_digest(asked),
            "record_digest": record_digest(self.record),
        }
        if self.kind in ("sharing.requested", "sharing.approved"):
            fields.update(requester=requester_did, holder=holder_did)
        if self.kind == "sharing.requested":
            fields["resource"] = self.request.resource
        if self.kind == "data.accessed":
            fields.update(holder=holder_did, accessor=requester_did)
            fields["resource"] = self.request.resource
        return fields

    def event(self, log_index: int) -> SharingEvent:
        """The stored event of this step: numbered ``events - 1`` of the request after it (0 for
        the request itself), with ``log_index`` of its leaf and the JCS of its record."""
        return SharingEvent(
            self.request.id,
            self.request.events - 1,
            self.kind,
            self.request.updated,
            log_index,
            jcs(self.record).decode(),
        )


def body(request: SharingRequest) -> Json:
    """What the requester asked: the request digest is SHA-256 of its JCS."""
    parsed: Json = parse_json(request.body)
    return parsed


def new_request(
    request_id: str,
    entry: CatalogEntry,
    requester: tuple[str, str],
    subject: str,
    payload: Any,
    now: datetime,
) -> Step:
    """A request by ``requester`` (issuer id, DID) for ``entry`` about ``subject``.

    ``payload`` is ``{"purpose": text, "fields"?: [names]}``; fields default to all of
    the entry's fields and must be among them.
    """
    if not isinstance(payload, dict) or set(payload) - {"resource", "subject", "purpose", "fields"}:
        raise MalformedValueError("a request has resource, subject, purpose and fields")
    purpose = payload.get("purpose")
    if not isinstance(purpose, str) or not 0 < len(purpose.strip()) <= MAX_PURPOSE:
        raise MalformedValueError(
            f"purpose: text of 1 to {MAX_PURPOSE} characters", field="purpose"
        )
    fields = payload.get("fields", list(entry.fields))
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise MalformedValueError("fields: a non-empty list of field names", field="fields")
    if unknown := sorted(set(fields) - set(entry.fields)):
        raise MalformedValueError(
            "fields not in the catalog entry", field="fields", unknown=unknown
        )
    if requester[0] == entry.publisher:
        raise MalformedValueError("an agency does not request its own data", field="resource")
    asked = {
        "id": request_id,
        "requester": requester[1],
        "holder": entry.publisher_did,
        "subject": subject,
        "resource": entry.id,
        "resourceVersion": entry.version,
        "purpose": purpose,
        "fields": sorted(set(fields)),
        "created": xsd_datetime(now),
    }
    request = SharingRequest(
        request_id,
        requester[0],
        entry.publisher,
        subject,
        entry.id,
        AWAITING,
        1,
        jcs(asked).decode(),
        now,
        now,
    )
    return Step(request, "sharing.requested", asked)


def consent_credential(
    request: SharingRequest, decision: str, valid_until: datetime, now: datetime
) -> Json:
    """The unsigned consent receipt a citizen's wallet signs (issuer = the citizen's DID).

    ``decision`` is ``grant``, ``refuse`` or ``withdraw``. A withdrawal names the consent
    it ends (``consentDigest``, SHA-256 of the signed grant's JCS) and has no
    ``validUntil``: it is final."""
    asked = body(request)
    subject: Json = {
        "id": asked["requester"],
        "sharingRequest": request.id,
        "requestDigest": record_digest(asked),
        "decision": decision,
    }
    if decision == "withdraw":
        subject["consentDigest"] = _consent_in_force(request)
    receipt: Json = {
        "@context": [VC_V2, CITY_CONTEXT],
        "type": ["VerifiableCredential", "DataSharingConsent"],
        "issuer": request.subject,
        "validFrom": xsd_datetime(now),
        "validUntil": xsd_datetime(valid_until),
        "credentialSubject": subject,
    }
    if decision == "withdraw":
        del receipt["validUntil"]
    return receipt


def _receipt_subject(request: SharingRequest, receipt: Json, issuer: str) -> Json:
    """The receipt's ``credentialSubject`` once it is the citizen's, for this request as
    asked; :class:`InvalidConsentError` otherwise."""
    if issuer != request.subject:
        raise InvalidConsentError("the consent is not signed by the citizen concerned")
    if "DataSharingConsent" not in receipt.get("type", []):
        raise InvalidConsentError("the receipt is not a DataSharingConsent credential")
    subject = receipt.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("sharingRequest") != request.id:
        raise InvalidConsentError("the consent is for another request")
    if subject.get("requestDigest") != record_digest(body(request)):
        raise InvalidConsentError("the consent is for another version of this request")
    return subject


def answer(
    request: SharingRequest, receipt: Json, issuer: str, valid_until: datetime | None, now: datetime
) -> Step:
    """Record the citizen's answer. ``receipt`` is the consent credential, already
    verified (proof, validity period) by the caller; ``issuer`` is who signed it."""
    if request.state != AWAITING:
        raise SharingStateError(
            "the citizen has already answered this request", state=request.state
        )
    subject = _receipt_subject(request, receipt, issuer)
    decision = subject.get("decision")
    if decision == "refuse":
        return _step(request, REFUSED, "consent.refused", receipt, now)
    if decision != "grant":
        raise InvalidConsentError('decision must be "grant" or "refuse"')
    if valid_until is None or valid_until <= now:
        raise InvalidConsentError("a consent needs a validUntil in the future")
    after = _step(request, CONSENTED, "consent.granted", receipt, now)
    stored = replace(after.request, consent=jcs(receipt).decode(), consent_expires=valid_until)
    return replace(after, request=stored)


def exempt(request: SharingRequest, legal_basis: Any, reference: Any, now: datetime) -> Step:
    """The operator records a legal basis that makes consent unnecessary."""
    if request.state != AWAITING:
        raise SharingStateError(
            "only a request awaiting consent can be exempted", state=request.state
        )
    if not isinstance(legal_basis, str) or not 0 < len(legal_basis.strip()) <= 1000:
        raise MalformedValueError("legalBasis: text of 1 to 1000 characters", field="legalBasis")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 200):
        raise MalformedValueError("reference: text up to 200 characters", field="reference")
    record = {
        "type": "LegalBasisExemption",
        "sharingRequest": request.id,
        "legalBasis": legal_basis,
        "recorded": xsd_datetime(now),
        **({"reference": reference} if reference else {}),
    }
    after = _step(request, EXEMPTED, "sharing.exempted", record, now)
    return replace(after, request=replace(after.request, exemption=jcs(record).decode()))


def approve(request: SharingRequest, now: datetime) -> Step:
    """The holder approves: needs consent in force, or a recorded exemption."""
    if request.state not in (CONSENTED, EXEMPTED):
        raise SharingStateError(
            "approval needs the citizen's consent or a legal-basis exemption", state=request.state
        )
    record = {
        "type": "SharingApproval",
        "sharingRequest": request.id,
        "holder": body(request)["holder"],
        **_basis(request, now),
        "approved": xsd_datetime(now),
    }
    return _step(request, APPROVED, "sharing.approved", record, now)


def access(request: SharingRequest, payload: Any, now: datetime) -> Step:
    """The holder serves the data once; refused without approval and a basis in force."""
    if request.state != APPROVED:
        raise SharingStateError(
            "data can be served only on an approved request", state=request.state
        )
    asked = body(request)
    fields = payload.get("fields", asked["fields"]) if isinstance(payload, dict) else None
    if not isinstance(fields, list) or not fields or set(fields) - set(asked["fields"]):
        raise MalformedValueError(
            "fields: a non-empty subset of the request's fields", field="fields"
        )
    record = {
        "type": "DataAccess",
        "sharingRequest": request.id,
        "holder": asked["holder"],
        "accessor": asked["requester"],
        "resource": asked["resource"],
        "fields": sorted(set(fields)),
        "purpose": asked["purpose"],
        **_basis(request, now),
        "accessed": xsd_datetime(now),
    }
    return _step(request, APPROVED, "data.accessed", record, now)


def withdraw(
    request: SharingRequest,
    now: datetime,
    receipt: Json | None = None,
    issuer: str | None = None,
) -> Step:
    """The citizen withdraws consent; every later approval or access is refused.

    With ``receipt`` (a ``DataSharingConsent`` with ``decision: withdraw``, already
    verified by the caller; ``issuer`` is who signed it) the withdrawal is the signed
    receipt itself, anchored like the grant it ends. Without, it rests on the citizen's
    login token alone and its record says so (``authenticatedBy: citizen-token``)."""
    consent_digest = _consent_in_force(request)
    if receipt is None:
        record = {
            "type": "ConsentWithdrawal",
            "sharingRequest": request.id,
            "consentDigest": consent_digest,
            "authenticatedBy": "citizen-token",
            "withdrawn": xsd_datetime(now),
        }
        return _step(request, WITHDRAWN, "consent.withdrawn", record, now)
    subject = _receipt_subject(request, receipt, issuer or "")
    if subject.get("decision") != "withdraw":
        raise InvalidConsentError('a withdrawal has decision "withdraw"')
    if subject.get("consentDigest") != consent_digest:
        raise InvalidConsentError("the withdrawal names another consent than the one in force")
    return _step(request, WITHDRAWN, "consent.withdrawn", receipt, now)


def _consent_in_force(request: SharingRequest) -> str:
    """The digest of the consent a withdrawal would end; refused when there is none."""
    if request.consent is None or request.state not in (CONSENTED, APPROVED):
        raise SharingStateError("there is no consent in force to withdraw", state=request.state)
    return record_digest(parse_json(request.consent))


def _basis(request: SharingRequest, now: datetime) -> Json:
    if request.exemption is not None:
        return {"basis": "exemption", "basisDigest": record_digest(parse_json(request.exemption))}
    if request.consent is None or request.consent_expires is None:
        raise SharingStateError("the request has neither consent nor exemption")
    if request.consent_expires <= now:
        raise SharingStateError(
            "the citizen's consent has expired",
            expired=xsd_datetime(request.consent_expires),
        )
    return {"basis": "consent", "basisDigest": record_digest(parse_json(request.consent))}


def _step(request: SharingRequest, state: str, kind: str, record: Json, now: datetime) -> Step:
    after = replace(request, state=state, events=request.events + 1, updated=now)
    return Step(after, kind, record)
