"""Credential types, their schemas and context, and agency accreditations."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from identity.credentials.model import parse_datetime
from identity.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from identity.registry.types import CredentialType
from schemas.api import AccreditRequest, CredentialTypeRequest
from service.auth import authenticate_agency, identify, require_admin
from service.container import Svc, read_json, require_object
from service.log import type_anchor
from service.observability.watch import fields
from service.routers import body_schema, check_envelope

router = APIRouter(tags=["trust registry"])
events = logging.getLogger("identity.events")

CITY_CONTEXT_URL = "https://identity-service.example/contexts/city/v1"


def is_admin(request: Request, svc: Svc) -> bool:
    """True for the operator's token; False for any other valid credential (401 for none
    or an invalid one)."""
    return identify(request, svc).role == "operator"


@router.post("/credential-types", status_code=201, openapi_extra=body_schema(CredentialTypeRequest))
async def register_type(request: Request, svc: Svc) -> JSONResponse:
    """Operator only: register a type with its JSON Schema (Draft 2020-12)."""
    require_admin(request, svc)
    body = require_object(await read_json(request), "body")
    check_envelope(CredentialTypeRequest, body)
    credential_type = CredentialType.from_json(body, created=svc.clock.now())
    if svc.store.find_type(credential_type.name) is not None:
        raise ConflictError("credential type already registered", type=credential_type.name)
    svc.logs.log.require_healthy()
    anchor = type_anchor(credential_type, svc.clock.now())
    svc.store.create_type(credential_type, anchor)  # the name is unique inside the write
    receipt = svc.logs.receipt_of(anchor)
    return JSONResponse(credential_type.to_json() | {"receipt": receipt}, status_code=201)


@router.get("/credential-types")
def list_types(svc: Svc) -> list[dict[str, object]]:
    """Public: every registered credential type, as registered (JSON Schema included)."""
    return [t.to_json() for t in svc.store.list_types()]


def _type(name: str, svc: Svc) -> CredentialType:
    credential_type = svc.store.find_type(name)
    if credential_type is None:
        raise NotFoundError("no such credential type", type=name)
    return credential_type


@router.get("/credential-types/{name}")
def get_type(name: str, svc: Svc) -> dict[str, object]:
    """Public: one registered credential type, as registered; 404 for an unknown name."""
    return _type(name, svc).to_json()


@router.get("/credential-types/{name}/schema")
def get_schema(name: str, svc: Svc) -> JSONResponse:
    """The JSON Schema a credential's ``credentialSchema.id`` points at."""
    return JSONResponse(
        _type(name, svc).schema,
        media_type="application/schema+json",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/contexts/city/v1")
def city_context() -> JSONResponse:
    """The JSON-LD context of the bundled types (also bundled for offline loading)."""
    data = (resources.files("identity") / "contexts" / "city-v1.jsonld").read_text("utf-8")
    return JSONResponse(
        json.loads(data),
        media_type="application/ld+json",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.post("/accreditations", status_code=201, openapi_extra=body_schema(AccreditRequest))
async def accredit(request: Request, svc: Svc) -> JSONResponse:
    """The operator accredits an agency; an accredited agency (scope ``accredit``) may
    delegate a subset of its own accreditation one level down (``parent``)."""
    admin = is_admin(request, svc)
    by = "operator"
    if not admin:
        agency = authenticate_agency(request, svc)
        agency.require("accredit")
        by = agency.issuer_id
    body = require_object(await read_json(request), "body")
    check_envelope(AccreditRequest, body)
    accreditation = svc.trust.new_accreditation(
        issuer_id=body["issuer"],
        types=body["types"],
        valid_from=_time(body.get("validFrom"), svc.clock.now(), "validFrom"),
        valid_until=_time(body["validUntil"], None, "validUntil"),
        by=by,
        parent_id=body.get("parent"),
    )
    anchor = svc.logs.new_anchor(
        "accreditation.granted",
        {
            "accreditor": accreditation.accredited_by,
            "subject": accreditation.issuer_id,
            "scope": " ".join(sorted(accreditation.types)),
        },
    )
    svc.store.add_accreditation(accreditation, anchor)
    receipt = svc.logs.receipt_of(anchor)
    events.info(
        "accreditation granted",
        extra=fields(
            event="accreditation.granted",
            accreditation=accreditation.id,
            agency=accreditation.issuer_id,
            by=accreditation.accredited_by,
            types=sorted(accreditation.types),
        ),
    )
    return JSONResponse(accreditation.to_json() | {"receipt": receipt}, status_code=201)


def _time(value: object, default: datetime | None, name: str) -> datetime:
    if value is None and default is not None:
        # Whole seconds: credentials record issuance (proof.created) to the second, so a
        # fractional start would leave the first second's credentials unaccredited.
        return default.replace(microsecond=0)
    return parse_datetime(value, name)


@router.get("/accreditations")
def list_accreditations(issuer: str, svc: Svc) -> list[dict[str, object]]:
    """Public: an agency's accreditations (the Trusted Issuers Registry view)."""
    return [a.to_json() for a in svc.store.accreditations_of(issuer)]


@router.get("/accreditations/{accreditation_id}")
def get_accreditation(accreditation_id: str, svc: Svc) -> dict[str, object]:
    """Public: one accreditation, with its window, who granted it, its parent for a delegation,
    and ``revoked`` (null while not revoked); 404 for an unknown id."""
    return svc.store.get_accreditation(accreditation_id).to_json()


@router.post("/accreditations/{accreditation_id}/revoke")
async def revoke_accreditation(accreditation_id: str, request: Request, svc: Svc) -> JSONResponse:
    """The operator, or the agency that delegated it, ends an accreditation now."""
    current = svc.store.get_accreditation(accreditation_id)
    if not is_admin(request, svc):
        agency = authenticate_agency(request, svc)
        agency.require("accredit")
        if current.accredited_by != agency.issuer_id:
            raise PermissionDeniedError(
                "only the operator or the delegating agency may revoke this"
            )
    anchor = svc.logs.new_anchor(
        "accreditation.revoked", {"accreditation": current.id, "subject": current.issuer_id}
    )
    # Refused inside the write (ConflictError) when already revoked: one leaf per act.
    revoked = svc.store.revoke_accreditation(accreditation_id, svc.clock.now(), anchor)
    receipt = svc.logs.receipt_of(anchor)
    events.info(
        "accreditation revoked",
        extra=fields(
            event="accreditation.revoked", accreditation=current.id, agency=current.issuer_id
        ),
    )
    return JSONResponse(revoked.to_json() | {"receipt": receipt})
