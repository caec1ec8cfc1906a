"""The request middleware: request ids, one log line and the HTTP metrics per request.

Pure ASGI (no ``BaseHTTPMiddleware``: no extra task, no body buffering). For each HTTP
request it

* takes the client's ``X-Request-ID`` when it is 1-128 URI-unreserved characters
  (``A-Z a-z 0-9 . _ ~ -``), or makes one (32 hex digits), and echoes it on the response;
  while the request is served it is in :data:`~service.observability.context.REQUEST_ID`
  (problem+json carries it as ``instance``; every log line as ``request_id``);
* after the response, counts it by route *template*, method and status, observes its
  latency, and writes one ``identity.access`` line: request id, method, route template,
  status, duration, caller kind and agency id (recorded by the auth checks), whose values
  are handed to the log handler's buffer (:mod:`service.observability.buffered`: the
  lines made and written in batches within 50 ms, in order with every other line, and
  all of it at shutdown);
* tells the store watch about a 503 (the store or the log did not answer).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from service.observability.context import REQUEST_ID, route_of
from service.observability.logs import access_line_of, plain_json_handler
from service.observability.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access = logging.getLogger("identity.access")

HEADER = b"x-request-id"
VALID_ID = re.compile(r"[A-Za-z0-9._~-]{1,128}")


class StoreFailures(Protocol):
    """Told of requests answered 503 (the running store watch)."""

    def store_failed(self, source: str, detail: str = "") -> None:
        """A request from ``source`` was answered 503 because the store failed."""
        ...


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's valid ``X-Request-ID``, or a new one."""
    for name, value in headers:
        if name == HEADER:
            text = value.decode("latin-1")
            if VALID_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestObserver:
    """ASGI middleware; ``metrics`` None and ``access_log`` False leave only request ids."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics | None,
        access_log: bool,
        store: Callable[[], StoreFailures | None] = lambda: None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Give the request its id (``X-Request-ID`` validated, or a new one), echo it on
        the response, and count and log the answer by route template."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope["headers"])
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        header = (HEADER, rid.encode())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = REQUEST_ID.set(rid)
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._done(scope, state, status, time.perf_counter() - start)
            REQUEST_ID.reset(token)

    def _done(self, scope: Scope, state: dict[str, Any], status: int, seconds: float) -> None:
        route = route_of(scope)
        method = scope["method"]
        if self.metrics is not None:
            self.metrics.request_done(route, method, status, seconds)
        if status == 503:
            watch = self.store()
            if watch is not None:
                watch.store_failed("request", f"{method} {route} answered 503")
        if self.access_log and access.isEnabledFor(logging.INFO):
            kind, agency = state.get("caller") or ("anonymous", None)
            handler = plain_json_handler(access)
            if handler is not None:  # the usual set-up: the same line, without a LogRecord
                handler.defer(  # made and written within the flush interval, in order
                    access_line_of,
                    (REQUEST_ID.get(), method, route, status, seconds, kind, agency, time.time()),
                )
                return
            duration_ms = round(seconds * 1000, 3)
            fields: dict[str, Any] = {
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "caller": kind,
            }
            if agency is not None:
                fields["agency"] = agency
            # makeRecord + handle: Logger.info would also walk the stack for the caller.
            record = access.makeRecord(
                access.name, logging.INFO, __file__, 0, "request", (), None,
                extra={"fields": fields},
            )  # fmt: skip
            access.handle(record)
