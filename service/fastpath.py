"""A thin ASGI fast path for the hottest route, ``POST /credentials/verify`` (issue #15).

Starlette's router walks the service's routes (and FastAPI's included routers) for every
request, then FastAPI's request handler opens two ``AsyncExitStack`` and inspects the
endpoint's parameters before calling it. The verify endpoint takes only the ``Request``
and returns a ``Response`` itself, so none of that does anything for it.

:class:`VerifyFastPath` sits where the router sits -- inside every middleware (request
id, metrics, the access log line, body limits) and inside ``ExceptionMiddleware`` -- and
for ``POST`` to the verify path sets the same scope the router would (``route``,
``endpoint``, ``path_params``: the route template the metrics and the access log name),
calls the same endpoint function and sends its response. An exception it raises goes to
the same exception handlers (problem+json) the normal path uses: ``ExceptionMiddleware``
catches it with the handlers the app registered. Every other request, and anything the
route would not match (another method, a trailing slash), goes to the router unchanged.
The OpenAPI document is built from the routes and is not touched.

``tests/service/test_fastpath.py`` proves the answers equal to the normal path's for
good and bad input, and runs the existing verify tests through it (they use the app as
built, fast path included).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]

FAST_PATHS = (("POST", "/credentials/verify"),)
"""(method, route path) of the routes answered by the fast path."""


class VerifyFastPath:
    """ASGI app in front of ``router``: ``route``'s requests go straight to its endpoint."""

    def __init__(self, app: ASGIApp, router: Any, route: APIRoute, method: str) -> None:
        self.app = app
        self.router = router
        self.route = route
        self.method = method
        self.endpoint: Endpoint = route.endpoint
        self.path = route.path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer ``route``'s requests with its endpoint; pass everything else on."""
        if (
            scope["type"] == "http"
            and scope["method"] == self.method
            and scope["path"].endswith(self.path)
        ):
            match, child_scope = self.route.matches(scope)
            if match is Match.FULL:
                scope.setdefault("router", self.router)  # as Router.app does
                scope.update(child_scope)
                response = await self.endpoint(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, inside FastAPI's included routers too."""
    for route in routes:
        yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)


def find_route(app: FastAPI, method: str, path: str) -> APIRoute:
    """The app's API route for ``method`` and ``path`` (LookupError when there is none)."""
    for route in _routes(app.router.routes):
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            return route
    raise LookupError(f"no route {method} {path}")


def install(app: FastAPI) -> None:
    """Put the fast path in front of ``app``'s router for each of :data:`FAST_PATHS`;
    call it after the routes are included."""
    for method, path in FAST_PATHS:
        route = find_route(app, method, path)
        app.router.middleware_stack = VerifyFastPath(
            app.router.middleware_stack, app.router, route, method
        )
