"""Access: the operator's admin token, citizens' tokens, single-use challenges, the
anonymous-verification rate limit and per-key locks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from identity.clock import Clock
from identity.stores import Store
from service.auth import CitizenTokens, KnownBearers
from service.challenges import Challenges
from service.locks import KeyedLocks
from service.ratelimit import RateLimiter
from service.settings import Settings


@dataclass(frozen=True)
class Access:
    """Who may do what, and how often; built by :func:`build_access`."""

    admin_token: str
    tokens: CitizenTokens
    challenges: Challenges
    """Single-use, purpose-bound challenges (service/challenges.py)."""
    limiter: RateLimiter
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    known_bearers: KnownBearers = field(default_factory=KnownBearers)
    """Bearers accepted lately (``POST /credentials/verify`` judges others first)."""


def build_access(settings: Settings, store: Store, clock: Clock, master_secret: bytes) -> Access:
    """Access from the settings; citizens' tokens are keyed by ``master_secret``,
    challenges kept in ``store``."""
    return Access(
        admin_token=settings.admin_token_value(),
        tokens=CitizenTokens(master_secret, timedelta(minutes=settings.citizen_token_minutes)),
        challenges=Challenges(store, clock),
        limiter=RateLimiter(settings.public_verify_per_minute),
    )
