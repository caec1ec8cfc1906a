"""Races on one backend between several handles, as several processes would hold them:
the handle factory the contract suites' race fixtures share, and threads released
together by one barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

from identity.errors import ConflictError


class Closable(Protocol):
    def close(self) -> None: ...


T = TypeVar("T", bound=Closable)


def handles_on(kind: str, shared: T, open_one: Callable[[], T]) -> Iterator[Callable[[], T]]:
    """Yield a factory of handles on one backend: ``memory`` hands out ``shared`` (one
    process), any other ``kind`` a new connection or file handle from ``open_one`` each
    time; every handle opened is closed afterwards. Use with ``yield from``."""
    opened: list[T] = []

    def handle() -> T:
        if kind == "memory":
            return shared
        one = open_one()
        opened.append(one)
        return one

    yield handle
    for one in opened:
        one.close()


def release_together(n: int, run: Callable[[int], None]) -> None:
    """Run ``run(0)`` .. ``run(n - 1)`` in ``n`` threads that a barrier releases at once;
    return when all have finished (or after 60 s, so that a hang fails the test)."""
    barrier = threading.Barrier(n)

    def go(i: int) -> None:
        barrier.wait()
        run(i)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def winners(n: int, attempt: Callable[[int], bool]) -> list[int]:
    """The ``i`` of the threads whose ``attempt(i)``, released together, answered true."""
    won: list[int] = []
    release_together(n, lambda i: won.append(i) if attempt(i) else None)
    return won


def unrefused(act: Callable[[int], object]) -> Callable[[int], bool]:
    """``act`` as a :func:`winners` attempt: true when ``act(i)`` returned, false when the
    store refused it with :class:`ConflictError` (any other error fails the test)."""

    def attempt(i: int) -> bool:
        try:
            act(i)
        except ConflictError:
            return False
        return True

    return attempt
