"""Verification never blocks the event loop on the network (service/offline.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from identity.errors import StatusRetrievalError
from service.didweb import Fetcher
from service.offline import NeedsNetwork, require_network, run_verification
from service.status import remote_status_lists


def test_work_without_network_runs_inline_on_the_loop_thread() -> None:
    async def main() -> tuple[int, int]:
        return threading.get_ident(), await run_verification(threading.get_ident)

    loop_thread, ran_on = asyncio.run(main())
    assert ran_on == loop_thread


def test_work_that_needs_the_network_is_run_again_in_a_worker_thread() -> None:
    calls: list[int] = []

    def verify() -> int:
        calls.append(threading.get_ident())
        require_network()
        return threading.get_ident()

    async def main() -> tuple[int, int]:
        return threading.get_ident(), await run_verification(verify)

    loop_thread, ran_on = asyncio.run(main())
    assert ran_on != loop_thread
    assert calls == [loop_thread, ran_on]  # tried inline first, then off the loop


def test_the_loop_keeps_serving_while_a_fetch_waits() -> None:
    order: list[str] = []
    release = threading.Event()

    def slow_fetch() -> str:
        require_network()
        release.wait(5)
        order.append("fetch done")
        return "ok"

    async def other_request() -> None:
        await asyncio.sleep(0.05)
        order.append("other request served")
        release.set()

    async def main() -> None:
        await asyncio.gather(run_verification(slow_fetch), other_request())

    asyncio.run(main())
    assert order == ["other request served", "fetch done"]


@pytest.mark.parametrize(
    "fetch",
    [Fetcher(timeout_s=1, max_bytes=1024), remote_status_lists()],
    ids=["did:web", "status list"],
)
def test_both_remote_fetchers_leave_the_loop_before_fetching(fetch: Callable[[str], bytes]) -> None:
    attempts: list[int] = []

    def verify() -> str:
        attempts.append(threading.get_ident())
        try:
            fetch("https://127.0.0.1:9/list")  # nothing listens on port 9
        except NeedsNetwork:
            raise
        except Exception as exc:  # the real fetch, failing fast
            return type(exc).__name__
        return "fetched"

    async def main() -> tuple[int, str]:
        return threading.get_ident(), await run_verification(verify)

    loop_thread, outcome = asyncio.run(main())
    assert attempts[0] == loop_thread and attempts[1] != loop_thread
    assert outcome in ("UnavailableError", "StatusRetrievalError")


def test_every_status_list_fetch_failure_is_a_status_retrieval_error() -> None:
    fetch = remote_status_lists()
    for url in ("http://127.0.0.1:9/list", "https://127.0.0.1:9/list"):
        with pytest.raises(StatusRetrievalError):
            fetch(url)  # plain http refused; nothing listening: unreachable
