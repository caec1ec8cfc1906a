"""Liveness and readiness."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

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
    """200 when the store answers; 503 problem+json when it does not."""
    svc.store.ping()
    return Health(
        status="ok", storage=svc.settings.resolved_storage_url.split(":", 1)[0], version=_version()
    )
