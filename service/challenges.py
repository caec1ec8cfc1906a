"""Single-use challenges, each bound to one purpose (DID-auth login or a presentation)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from identity.clock import Clock
from identity.stores import Store

CHALLENGE_TTL = timedelta(minutes=5)
CHALLENGE_PURGE_EVERY = timedelta(minutes=10)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Challenges:
    """Issues challenges into the store, which consumes each once for its purpose."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._next_purge = EPOCH

    def new(self, purpose: str) -> tuple[str, datetime]:
        """A single-use challenge, stored with its purpose and expiry (identity/stores.py:
        ``LOGIN`` or ``presentation_purpose(caller)``); the value and its expiry."""
        value = secrets.token_urlsafe(24)
        now = self._clock.now()
        expires = now + CHALLENGE_TTL
        self._store.create_challenge(value, purpose, expires)
        if now >= self._next_purge:  # forget challenges nobody used, now and then
            self._next_purge = now + CHALLENGE_PURGE_EVERY
            self._store.purge_challenges(now - CHALLENGE_TTL)
        return value, expires
