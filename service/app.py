"""``create_app(settings) -> FastAPI``: nothing is built at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from identity.clock import Clock
from identity.directory_store import DirectoryStore
from identity.log.reader import LogReader
from identity.log.store import LogStore
from identity.stores import Store
from service import docs, fastpath, observability, openapi, problems
from service.container import Services
from service.log_shards import build_shard_set
from service.oid4vci import build_oid4vci
from service.oid4vp import build_oid4vp
from service.outbox_drain import start_drainer
from service.routers import (
    batch,
    catalog,
    citizens,
    cityid,
    credentials,
    dids,
    didweb,
    health,
    issuers,
    log_info,
    oid4vci,
    oid4vci_authorize,
    presentations,
    registry,
    sdjwt,
    sharing,
    status,
)
from service.routers import oid4vp as oid4vp_routes
from service.routers.log import log_router
from service.routers.log_shards import shards_router
from service.settings import Settings, SettingsError

log = logging.getLogger("identity.service")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    store: Store | None = None,
    log_store: LogStore | None = None,
    directory: DirectoryStore | None = None,
) -> FastAPI:
    """Build the app. Stores, keys and the log are opened when it starts (lifespan)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = Services.build(
            settings, clock=clock, store=store, log_store=log_store, directory=directory
        )
        await svc.start()
        app.state.services = svc
        sharding = svc.logs.anchors.shards  # issue #16: the shards acts are anchored in
        app.state.log_shards = (
            sharding.shard_set
            if sharding is not None
            else build_shard_set(settings, svc.logs.log.signer.verifier)
        )
        app.state.oid4vci = build_oid4vci(svc)  # issue #18: OpenID4VCI (service/oid4vci.py)
        app.state.oid4vp = build_oid4vp(svc)  # issue #18: OpenID4VP verifier
        await obs.start(svc)
        drainer = start_drainer(svc.store, svc.logs.log.notify)  # issue #16: a cluster's outbox
        try:
            yield
        finally:
            if drainer is not None:
                await drainer.stop()
            await obs.stop()
            if sharding is None:
                app.state.log_shards.close()  # else closed with the shards' anchoring
            app.state.oid4vci.close()
            app.state.oid4vp.requests.close()
            await svc.aclose()

    app = FastAPI(
        title="Identity and credential service",
        version="0.1.0",
        description="W3C Verifiable Credentials with Data Integrity proofs, DIDs and an "
        "append-only Merkle log with signed checkpoints.",
        lifespan=lifespan,
        docs_url=None,  # service/docs.py serves /docs and /redoc offline
        redoc_url=None,
    )
    problems.install(app)
    obs = observability.install(app, settings)
    for module in (
        credentials,  # first: Starlette matches routes in order; verify and issue are hot
        batch,
        health,
        issuers,
        registry,
        status,
        presentations,
        citizens,
        cityid,  # before dids: /dids/{did}/operations must not be read as a DID
        dids,
        didweb,
        catalog,
        sharing,
        sdjwt,
        oid4vci,
        oid4vci_authorize,  # issue #18: the authorization code flow
        oid4vp_routes,
    ):
        app.include_router(module.router)
    app.include_router(log_router(log_reader))
    app.include_router(log_info.router)
    app.include_router(shards_router())  # after the log's own: /log/checkpoint stays the log's
    openapi.install(app)
    docs.install(app)
    from service.web import install as install_pages

    install_pages(app)
    fastpath.install(app)  # issue #15: POST /credentials/verify past the router
    return app


def log_reader(request: Request) -> LogReader:
    """The running log's reader (the dependency of the ``/log`` routes)."""
    reader: LogReader = request.app.state.services.logs.log.reader
    return reader


def check_startup(settings: Settings) -> None:
    """Open everything once and close it again, as a worker would at start-up: a refusal
    (:class:`~service.settings.SettingsError`: a store that does not answer, a changed
    master secret or log origin) is raised here, before any worker starts, as one line."""

    async def start_and_stop() -> None:
        svc = Services.build(settings)
        try:
            await svc.start()
        finally:
            await svc.aclose()

    try:
        asyncio.run(start_and_stop())
    except OSError as exc:  # a data folder or database file that cannot be made or opened
        raise SettingsError(
            f"IDENTITY_DATA_DIR / IDENTITY_STORAGE_URL: cannot open {exc.filename or 'the store'}"
            f" ({exc.strerror or type(exc).__name__}); check the path and its permissions"
        ) from None
