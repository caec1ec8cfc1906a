"""Per-request context shared by the middleware, the auth checks and the error handlers.

Kept free of heavy imports: :mod:`service.auth` and :mod:`service.problems` import it.
"""

from __future__ import annotations

import contextvars
import os
from typing import Any

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "identity_request_id", default=None
)
"""The id of the request being served in this context (set by the request middleware)."""


def note_caller(request: Any, kind: str, agency: str | None = None) -> None:
    """Record who was authenticated, for the request's log line: ``kind`` is operator,
    agency, verifier or citizen; ``agency`` the agency's id (never a key, token or DID)."""
    request.state.caller = (kind, agency)


def request_id_of(scope: Any) -> str | None:
    """The request id the middleware gave this ASGI scope (also after it returned)."""
    state = scope.get("state")
    return state.get("request_id") if isinstance(state, dict) else None


UNMATCHED = "<unmatched>"
"""The route of a request no route matched (a 404 of any path)."""


def route_of(scope: Any) -> str:
    """The matched route's path template (``/dids/{did}``), never the requested path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED


class Pid:
    """This process's id (call it), read once and again only after a fork: ``prometheus_client``'s
    multiprocess values call their process identifier on every update (``os.getpid`` is a
    system call each time); this one answers from memory and still changes in a forked
    child, which is all the values need to know to reopen their files."""

    def __init__(self) -> None:
        self.value = os.getpid()
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        self.value = os.getpid()

    def __call__(self) -> int:
        """The current process id, from memory."""
        return self.value


PID = Pid()
"""This process's id, without a system call (see :class:`Pid`)."""
