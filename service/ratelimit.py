"""A token bucket per client, for the public (anonymous) verification endpoints.

Per process: with N workers an anonymous client gets up to N times the rate, which is
the usual trade for not sharing state; verifiers with an API key are not limited.
"""

from __future__ import annotations

import threading
import time

from identity.errors import IdentityError


class RateLimitedError(IdentityError):
    """An anonymous client over its verification rate (429); ``retry_after`` is the whole seconds
    until a token is back. Lives in service/: the core has no rate limit."""

    type_uri = "https://identity-service.example/problems/rate-limited"
    title = "Too many requests"


class RateLimiter:
    """Token buckets of ``burst`` tokens (default ten seconds' worth, at least one), refilled at
    ``per_minute`` / 60 per second of monotonic time, keyed by client. Past ``max_clients``
    buckets all are forgotten at once, so memory stays bounded under a flood of addresses."""

    def __init__(
        self, per_minute: int, burst: int | None = None, max_clients: int = 100_000
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, per_minute // 6))
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Take one token for ``client`` or raise :class:`RateLimitedError` (HTTP 429)."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                retry = max(1, int((1 - tokens) / self.rate) + 1)
                raise RateLimitedError(
                    "too many verification requests; use a verifier API key for more",
                    retry_after=retry,
                )
            if len(self._buckets) >= self.max_clients and client not in self._buckets:
                self._buckets.clear()  # bounded memory under a flood of addresses
            self._buckets[client] = (tokens - 1, now)
