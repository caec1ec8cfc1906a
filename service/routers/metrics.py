"""``GET /metrics``: the Prometheus exposition, for the scraper's bearer token only."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response

from identity.errors import AuthenticationError, NotFoundError
from service.auth import bearer
from service.container import Svc
from service.observability.context import note_caller
from service.observability.metrics import CONTENT_TYPE_LATEST

router = APIRouter(tags=["operations"])


def require_scraper(request: Request, svc: Svc) -> None:
    """``IDENTITY_METRICS_TOKEN`` (read-only, for Prometheus) or the admin token."""
    token = bearer(request)
    if token is None:
        raise AuthenticationError("bearer token required (IDENTITY_METRICS_TOKEN)")
    given = token.encode()
    metrics_token = svc.settings.metrics_token
    if metrics_token is not None and hmac.compare_digest(
        given, metrics_token.get_secret_value().encode()
    ):
        note_caller(request, "metrics")
        return
    if hmac.compare_digest(given, svc.admin_token.encode()):
        note_caller(request, "operator")
        return
    raise AuthenticationError("invalid metrics token")


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}},
)
async def metrics(request: Request, svc: Svc) -> Response:
    """Prometheus text exposition (all workers' values in multiprocess mode). Bearer
    ``IDENTITY_METRICS_TOKEN`` or the admin token; 404 when metrics are disabled."""
    obs = request.app.state.observability
    if obs.metrics is None:
        raise NotFoundError("metrics are disabled (IDENTITY_METRICS_ENABLED=false)")
    require_scraper(request, svc)
    body = await asyncio.to_thread(obs.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
