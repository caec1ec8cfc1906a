"""What ``identity serve`` checks before it starts, and how it explains a refusal.

:func:`preflight` opens what the service needs (settings, store, the log store's
binding to this log's origin and key) and raises with one sentence when it cannot.

In a container a process that exits is restarted in a loop and the reason is lost in
its logs. With ``--hold-on-refusal SECONDS`` (``$IDENTITY_HOLD_ON_REFUSAL``; the image
sets it) a refused start keeps listening for that long and answers every request,
``/health`` included, with ``503`` problem+json naming the reason, so the health check
(``docker compose ps``, ``docker inspect``, ``docker compose up --wait``) shows why;
then it exits 2 and the restart policy tries again (Redis may answer by then).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from identity.errors import PROBLEMS
from service.settings import Settings, SettingsError

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

REFUSED = PROBLEMS + "refused-to-start"


def preflight(settings: Settings) -> None:
    """Open the store and bind the log store, as start-up will; raise naming what is wrong."""
    from service.log import log_key, open_log_store
    from service.storage import open_store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    open_store(settings).close()  # a store that does not answer, or an empty namespace
    key = log_key(settings.master_secret_bytes(), settings.log_origin)
    store = open_log_store(settings)
    try:
        store.open(settings.log_origin, key.public_key().raw)  # a store of another log
    finally:
        store.close()


def public_url_for(settings: Settings, host: str, port: int) -> str | None:
    """The public URL to serve with when ``IDENTITY_PUBLIC_URL`` is unset, or ``None``.

    Credentials point their status lists, schemas and did:web at the public URL, so it
    must be where clients reach the service. Unset in development, it becomes the address
    actually served (``http://localhost:<port>``); unset in production while the port
    differs from the default's, the start is refused (behind a proxy only the operator
    knows the URL)."""
    if "public_url" in settings.model_fields_set:
        return None
    served_host = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::", "localhost") else host  # noqa: S104
    if ":" in served_host:
        served_host = f"[{served_host}]"
    served = f"http://{served_host}:{port}"
    if served == settings.public_url or (settings.public_url.endswith(f":{port}")):
        return None
    if settings.env == "production":
        raise SettingsError(
            f"IDENTITY_PUBLIC_URL is not set, so credentials would point at "
            f"{settings.public_url} while the service listens on port {port}; set "
            "IDENTITY_PUBLIC_URL to the URL clients use, e.g. https://id.city.example"
        )
    return served


def one_line(exc: BaseException) -> str:
    """An exception as the single sentence an operator reads. A settings validation error
    gives only its messages: pydantic's own text would echo the input values (secrets)."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            where = ".".join(str(p) for p in error.get("loc", ()))
            parts.append(f"IDENTITY_{where.upper()}: {message}" if where else message)
        return "; ".join(parts)
    text = getattr(exc, "detail", None) or str(exc)
    return " ".join(str(text).split())


def refusal_app(reason: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app answering every request with 503 problem+json naming ``reason``."""
    body = json.dumps(
        {
            "type": REFUSED,
            "title": "Service refused to start",
            "status": 503,
            "detail": f"refusing to start: {reason}",
        }
    ).encode()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()  # lifespan.startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"application/problem+json"), (b"retry-after", b"30")]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def hold_refusal(reason: str, host: str, port: int, seconds: float) -> None:
    """Serve :func:`refusal_app` on ``host:port`` for ``seconds``, then return."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(refusal_app(reason), host=host, port=port, log_level="warning")
    )

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        await asyncio.wait([task], timeout=seconds)
        server.should_exit = True
        await task

    asyncio.run(run())
