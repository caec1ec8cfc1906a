"""Time as a parameter: the core never calls ``datetime.now`` itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where the core gets the time: passed in, so tests and replays fix it (guide rule 6)."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The production :class:`Clock`: the wall clock in UTC."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``: aware, with microseconds (callers truncate for XSD)."""
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock for tests: returns ``at`` until moved with :meth:`advance`."""

    at: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:
        """``at``, unchanged between calls until :meth:`advance` or an assignment."""
        return self.at

    def advance(self, delta: timedelta) -> None:
        """Move ``at`` by ``delta`` (a negative ``delta`` moves it back)."""
        self.at = self.at + delta


def xsd_datetime(moment: datetime) -> str:
    """Format as an XML Schema dateTimeStamp in UTC with a ``Z`` and whole seconds (a
    naive ``moment`` is read as local time, as ``astimezone`` reads it).

    ``isoformat`` is C and always writes four year digits (XSD 1.1 §3.3.7: at least
    four), where ``strftime("%Y")`` wrote ``999`` for the year 999; for every other
    year the text is ``strftime("%Y-%m-%dT%H:%M:%SZ")``'s (tests/core/test_clock.py)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds")[:-6] + "Z"  # drop "+00:00"
