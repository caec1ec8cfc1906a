"""Operations: Prometheus metrics, structured logs and request ids (docs/observability.md).

:func:`install` is the one call ``create_app`` makes; :class:`Observability` is started
and stopped with the app's services. Route code reaches the metrics through
:func:`metrics_of` (``None`` when metrics are disabled).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, MutableMapping
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request

from service.observability import logs
from service.observability.metrics import Metrics
from service.observability.requests import RequestObserver
from service.observability.watch import Watch, fields
from service.settings import Settings

if TYPE_CHECKING:
    from service.container import Services

events = logging.getLogger("identity.events")


class _Route:
    """What the router leaves in a scope: the matched route's ``path`` template."""

    def __init__(self, path: str) -> None:
        self.path = path


async def _no_app(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("request_done's observer wraps no app")


def _version() -> str:
    try:
        return version("identity-service")
    except PackageNotFoundError:
        return "dev"


class Observability:
    """The app's metrics, and the store watch while the app runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics() if settings.metrics_enabled else None
        self.watch: Watch | None = None
        self._requests: RequestObserver | None = None

    async def start(self, svc: Services) -> None:
        """Watch the stores, feed the log's reports to the metrics, log the start-up."""
        self.watch = Watch(svc.store.ping, svc.logs.log.store, self.metrics)
        if self.metrics is not None:
            self.metrics.watch = self.watch
            svc.logs.log.observer = self.metrics
            svc.logs.anchors.observer = self.metrics.act_anchored
        self.watch.start()
        events.info(
            "service started",
            extra=fields(
                event="service.started",
                version=_version(),
                pid=os.getpid(),
                multiprocess_metrics=bool(self.metrics and self.metrics.multiprocess),
                settings=logs.settings_summary(self.settings),
            ),
        )

    def request_done(
        self, scope: MutableMapping[str, Any], status: int, seconds: float, route: str
    ) -> None:
        """For an ASGI fast path that answers *outside* the request middleware: count the
        request, observe its latency and write its access line exactly as
        :class:`RequestObserver` does (``route`` the template to label it with). A fast
        path inside the middleware (a route, or an inner middleware) needs none of this.
        The request id is the caller's: set ``scope["state"]["request_id"]`` and
        :data:`~service.observability.context.REQUEST_ID` as the middleware does."""
        if self._requests is None:
            self._requests = RequestObserver(
                _no_app,
                metrics=self.metrics,
                access_log=self.settings.access_log,
                store=lambda: self.watch,
            )
        if "route" not in scope:
            scope["route"] = _Route(route)
        self._requests._done(scope, scope.setdefault("state", {}), status, seconds)

    async def stop(self) -> None:
        """Stop the watch (before the stores close) and drop this worker's live gauges."""
        if self.watch is not None:
            await self.watch.stop()
        if self.metrics is not None:
            self.metrics.process_exited()
        events.info("service stopping", extra=fields(event="service.stopping", pid=os.getpid()))
        logs.flush()  # the request lines still waiting (whatever the log level)


def install(app: FastAPI, settings: Settings) -> Observability:
    """Configure logging, build the metrics, add the request middleware and ``/metrics``."""
    from service.routers import metrics as metrics_router

    logs.configure(settings)
    obs = Observability(settings)
    app.state.observability = obs
    setattr(app, _METRICS, obs.metrics)  # metrics_of's short way to the same object
    app.add_middleware(
        RequestObserver,
        metrics=obs.metrics,
        access_log=settings.access_log,
        store=lambda: obs.watch,
    )
    app.include_router(metrics_router.router)
    return obs


_METRICS = "_identity_metrics"
"""The attribute :func:`install` gives the app: its metrics (or None), read per request by
:func:`metrics_of` without the lookups through ``app.state`` (``State.__getattr__``)."""


def metrics_of(request: Request) -> Metrics | None:
    """The app's metrics, or None (disabled, or an app built without :func:`install`)."""
    return getattr(request.scope["app"], _METRICS, None)


@contextlib.contextmanager
def issuing(request: Request, cryptosuite: str | None) -> Iterator[None]:
    """Count the issuance done in the block (see :meth:`Metrics.issuing`)."""
    metrics = metrics_of(request)
    if metrics is None:
        yield
        return
    with metrics.issuing(cryptosuite):
        yield


def verification(
    request: Request,
    credential: Any,
    failed: list[str] | None = None,
    cryptosuite: str | None = None,
) -> None:
    """Count one verification of the submitted ``credential`` (failed check names;
    ``cryptosuite`` a format label for a credential that is not a JSON document)."""
    metrics = metrics_of(request)
    if metrics is not None:
        metrics.verification(credential, failed or (), cryptosuite)
