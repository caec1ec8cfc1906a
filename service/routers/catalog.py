"""The data catalog: accredited agencies publish versioned entries; anyone may browse."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from identity.errors import MalformedValueError, NotFoundError, PermissionDeniedError
from identity.registry.catalog import ANY_AGENCY, CatalogEntry, parse_entry, search
from identity.registry.sharing import record_digest
from schemas.directory import CatalogEntryRequest
from service.auth import sharing_agency
from service.container import Services, Svc, read_json, require_object
from service.log import receipt_json
from service.routers import body_schema

router = APIRouter(tags=["directory chain"])


def view(entry: CatalogEntry, log_index: int | None = None) -> dict[str, Any]:
    """An entry as the public sees it: the published record plus where it is logged."""
    out = {**entry.record(), "publisherId": entry.publisher}
    if log_index is not None:
        out["logIndex"] = log_index
    return out


@router.post("/catalog", status_code=201, openapi_extra=body_schema(CatalogEntryRequest))
async def publish(request: Request, svc: Svc) -> JSONResponse:
    """Publish a new entry (version 1), or the next version of one this agency owns."""
    now = svc.whole_seconds()
    agency = sharing_agency(request, svc)
    body = parse_entry(require_object(await read_json(request), "body"))
    unknown = [r for r in body["requesters"] if r != ANY_AGENCY and not _agency_exists(svc, r)]
    if unknown:
        raise MalformedValueError("requesters names unknown agencies", unknown=unknown[:10])
    issuer = svc.store.get_issuer(agency.issuer_id)
    async with svc.access.locks.hold("catalog:" + body["id"]):
        versions = svc.directory.catalog_versions(body["id"])
        if versions and versions[0].publisher != agency.issuer_id:
            raise PermissionDeniedError("another agency publishes this catalog id", id=body["id"])
        entry = CatalogEntry(body["id"], len(versions) + 1, issuer.id, issuer.did, body, now)
        fields = {
            "catalog_digest": record_digest(entry.record()),
            "publisher": issuer.did,
            "entry": entry.id,
            "version": str(entry.version),
        }
        anchor = svc.logs.anchors.anchor("catalog.published", now, fields)
        svc.directory.add_catalog_version(entry.to_record(0), anchor)  # CAS on the version
        receipt = svc.logs.anchors.receipt(anchor)
    return JSONResponse(
        view(entry, receipt.index) | {"receipt": receipt_json(receipt)}, status_code=201
    )


@router.get("/catalog")
def browse(
    svc: Svc, agency: str | None = None, field: str | None = None, q: str | None = None
) -> list[dict[str, Any]]:
    """Latest version of every entry, filtered by publisher (id or DID), field, words."""
    records = svc.directory.latest_catalog()
    by_id = {r.id: r.log_index for r in records}
    entries = [CatalogEntry.from_record(r) for r in records]
    return [view(e, by_id[e.id]) for e in search(entries, agency=agency, field=field, text=q)]


@router.get("/catalog/{entry_id}")
def latest(entry_id: str, svc: Svc) -> dict[str, Any]:
    """Public: the latest version of a catalog entry, with the index of its log leaf (404 for an
    unknown id)."""
    record = versions_of(svc, entry_id)[-1]
    return view(CatalogEntry.from_record(record), record.log_index)


@router.get("/catalog/{entry_id}/versions")
def history(entry_id: str, svc: Svc) -> list[dict[str, Any]]:
    """Public: every version of a catalog entry, oldest first, each with the index of its log
    leaf. Earlier versions stay readable after a new one is published."""
    return [view(CatalogEntry.from_record(r), r.log_index) for r in versions_of(svc, entry_id)]


@router.get("/catalog/{entry_id}/versions/{version}")
def one_version(entry_id: str, version: int, svc: Svc) -> dict[str, Any]:
    """Public: version ``version`` (1, 2, …) of a catalog entry, as published; 404 for a version
    it never had."""
    versions = versions_of(svc, entry_id)
    if not 1 <= version <= len(versions):
        raise NotFoundError("no such version of this catalog entry", id=entry_id)
    record = versions[version - 1]
    return view(CatalogEntry.from_record(record), record.log_index)


def _agency_exists(svc: Services, issuer_id: str) -> bool:
    try:
        svc.store.get_issuer(issuer_id)
    except NotFoundError:
        return False
    return True


def versions_of(svc: Services, entry_id: str) -> list[Any]:
    """Every stored version of ``entry_id``, oldest first; NotFoundError when the catalog has no
    such entry."""
    versions = svc.directory.catalog_versions(entry_id)
    if not versions:
        raise NotFoundError("no such catalog entry", id=entry_id[:100])
    return versions
