"""Races on one backend between several handles, as several processes would hold them:
the handle factory the contract suites' race fixtures share, and threads released
together by one barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar


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
