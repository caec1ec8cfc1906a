"""Liveness and readiness."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from identity.errors import UnavailableError
from schemas.api import Health
from service.container import Svc

router = APIRouter(tags=["health"])


def _version() -> str:
    try:
        return version("identity-service")
    except PackageNotFoundError:
        return "dev"


@router.get("/health/live")
async def live() -> dict[str, str]:
    """Liveness: the process answers (touches nothing; also the benchmarks' bare endpoint)."""
    return {"status": "ok"}


@router.get("/health", response_model=Health)
def health(svc: Svc) -> Health:
    """200 when the store answers and the log integrates what it sequences; 503
    problem+json naming the reason when not (a stopped or lagging integration included)."""
    svc.store.ping()
    if svc.logs.log_health is not None:
        log = svc.logs.log_health.check()
        if not log.ok:
            raise UnavailableError(
                f"the transparency log is not integrating: {log.reason}",
                tree_size=log.tree_size,
                pending=log.pending,
                seconds_behind=round(log.seconds_behind, 1),
                integration_errors=log.integration_errors,
            )
    return Health(
        status="ok", storage=svc.settings.resolved_storage_url.split(":", 1)[0], version=_version()
    )
