"""``xsd_datetime`` is the strftime form it replaced, for every moment and zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from identity.clock import xsd_datetime

ZONES = st.one_of(
    st.just(UTC),
    st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m))),
)


def reference(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@given(st.datetimes(min_value=datetime(1001, 1, 1), max_value=datetime(9998, 12, 31)), ZONES)
def test_it_is_the_strftime_form_in_every_zone(naive: datetime, zone: timezone) -> None:
    moment = naive.replace(tzinfo=zone)
    assert xsd_datetime(moment) == reference(moment)


def test_the_year_has_four_digits_and_microseconds_are_cut_not_rounded() -> None:
    assert xsd_datetime(datetime(999, 5, 6, 7, 8, 9, tzinfo=UTC)) == "0999-05-06T07:08:09Z"
    assert xsd_datetime(datetime(2026, 1, 1, 23, 59, 59, 999_999, tzinfo=UTC)) == (
        "2026-01-01T23:59:59Z"
    )
    east = timezone(timedelta(hours=8))
    assert xsd_datetime(datetime(2026, 1, 1, 7, 30, tzinfo=east)) == "2025-12-31T23:30:00Z"
