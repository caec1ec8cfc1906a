"""Verify on the event loop when no network is needed; move to a thread when it is.

Verification is CPU-bound and usually needs nothing remote (did:key, this service's own
DIDs and status lists, cached documents), so async routes run it inline: a thread hop per
request would cost more than the work. But a remote did:web document or status list is
fetched with a blocking client, which must never hold the event loop (every other request
on the worker would wait up to the fetch timeout). So the inline attempt runs with network
access switched off: a fetcher that would go to the network raises :class:`NeedsNetwork`
instead, and the whole verification is run again in a worker thread, where fetching is
allowed. Verification has no side effects beyond caches, so running it twice is safe.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

T = TypeVar("T")

_network_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "network_allowed", default=True
)


class NeedsNetwork(Exception):
    """Raised by a fetcher called where blocking network I/O is not allowed."""


def require_network() -> None:
    """Fetchers call this first; it raises :class:`NeedsNetwork` on the event loop."""
    if not _network_allowed.get():
        raise NeedsNetwork


async def run_verification(fn: Callable[[], T]) -> T:
    """``fn()`` inline without network; in a worker thread if it needs the network."""
    token = _network_allowed.set(False)
    try:
        return fn()
    except NeedsNetwork:
        pass
    finally:
        _network_allowed.reset(token)
    return await anyio.to_thread.run_sync(fn)
