"""The pages in a real browser: the app served on a free loopback port, driven by
Playwright through Debian's Chromium (never a browser Playwright downloads)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from identity.clock import FixedClock
from service.app import create_app
from service.container import Services
from service.settings import Settings
from tests.service.conftest import ADMIN

CHROMIUM = Path(os.environ.get("IDENTITY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Live:
    """A running service: its base URL, an HTTP client, its services and clock."""

    url: str
    http: httpx.Client
    clock: FixedClock
    app: Any

    @property
    def services(self) -> Services:
        svc: Services = self.app.state.services
        return svc

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every sequenced log entry is under a signed checkpoint."""
        log = self.services.logs.log
        deadline = time.monotonic() + timeout
        while log.checkpoint.checkpoint.size < log.store.entry_count():
            assert time.monotonic() < deadline, "the log did not integrate in time"
            time.sleep(0.01)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with serve(tmp_path) as running:
        yield running


@contextmanager
def serve(tmp_path: Path) -> Iterator[Live]:
    """The app on a free loopback port, in a thread, until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        data_dir=tmp_path / "data",
        admin_token=ADMIN,
        master_secret="ab" * 32,
        public_url=url,
        public_verify_per_minute=1_000_000,
    )
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    app = create_app(settings, clock=clock)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.02)
    with httpx.Client(base_url=url, timeout=20) as http:
        yield Live(url, http, clock, app)
    server.should_exit = True
    thread.join(10)
    sock.close()


def chromium_path() -> Path:
    """Debian's chromium; missing is a failure under CI=true (scripts/check installs it)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: scripts/ensure-chromium must install it in CI")
    pytest.skip(f"{CHROMIUM} is not installed (scripts/ensure-chromium installs it)")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@dataclass
class Browser:
    """One fresh browser profile; every request it makes is recorded."""

    page: Any
    context: Any
    requests: list[str] = field(default_factory=list)


@contextmanager
def open_browser(
    playwright: Any, live: Live, profile: Path, extra_args: tuple[str, ...] = ()
) -> Iterator[Browser]:
    """A fresh Chromium profile in ``profile``; on exit, no script error and no request
    outside the service's origin."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),  # a fresh --user-data-dir
        executable_path=str(chromium_path()),
        headless=True,
        chromium_sandbox=False,
        args=[*CHROMIUM_ARGS, *extra_args],
        accept_downloads=True,
        locale="en-GB",
        viewport={"width": 1100, "height": 900},
    )
    context.set_default_timeout(20_000)
    errors: list[str] = []
    recorded = Browser(context.pages[0] if context.pages else context.new_page(), context)
    context.on("request", lambda request: recorded.requests.append(request.url))
    recorded.page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield recorded
    finally:
        context.close()
    assert not errors, f"script errors on the page: {errors}"
    ours = (live.url + "/", "blob:" + live.url + "/")
    foreign = [u for u in recorded.requests if not u.startswith(ours)]
    assert not foreign, f"requests left the service's origin: {foreign}"


@pytest.fixture
def browser(playwright: Any, live: Live, tmp_path: Path) -> Iterator[Browser]:
    with open_browser(playwright, live, tmp_path / "profile") as opened:
        yield opened
