"""Working days in England: weekends and bank holidays skipped, local time of day kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from servicekit.calendar import LONDON, add_working_days, england_bank_holidays

H = england_bank_holidays()


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (datetime(2026, 3, 2, 10, 0, tzinfo=LONDON), 5, datetime(2026, 3, 9, 10, 0, tzinfo=LONDON)),
        (datetime(2026, 4, 2, 10, 0, tzinfo=LONDON), 1, datetime(2026, 4, 7, 10, 0, tzinfo=LONDON)),  # Easter
        (datetime(2026, 12, 24, 16, 0, tzinfo=LONDON), 1, datetime(2026, 12, 29, 16, 0, tzinfo=LONDON)),
        (
            datetime(2026, 3, 7, 15, 0, tzinfo=LONDON),
            5,
            datetime(2026, 3, 16, 9, 0, tzinfo=LONDON),
        ),  # a Saturday
        (
            datetime(2026, 3, 27, 12, 0, tzinfo=UTC),
            2,
            datetime(2026, 3, 31, 12, 0, tzinfo=LONDON),
        ),  # BST starts: same local time
    ],
)
def test_deadlines_skip_weekends_and_bank_holidays(start, days, expected):
    assert add_working_days(start, days, H) == expected


def test_the_2026_christmas_substitute_day_is_a_holiday():
    assert not H.is_working_day(date(2026, 12, 28))  # Boxing Day falls on a Saturday
    assert H.is_working_day(date(2026, 12, 29))


def test_dates_outside_the_data_are_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="outside the bank-holiday data"):
        add_working_days(datetime(2030, 1, 2, 9, 0, tzinfo=UTC), 1, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(datetime(2026, 1, 2, 9, 0), 1, H)


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 11, 30), timezones=st.just(UTC)),
    st.integers(min_value=1, max_value=15),
)
def test_a_deadline_is_always_a_working_day_and_later_for_more_days(start, days):
    deadline = add_working_days(start, days, H)
    assert H.is_working_day(deadline.astimezone(LONDON).date())
    assert deadline > start
    assert add_working_days(start, days + 1, H) > deadline
    assert deadline - start >= timedelta(days=days)
