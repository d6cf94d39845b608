"""Reminders: when one falls due (working days back from the deadline, London time of day kept) and what it says."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from provider_notify.domain.reminders import reminder, reminder_due, working_days_before
from provider_notify.settings import NotifySettings
from referral_schemas.examples import example
from servicekit.calendar import LONDON, add_working_days, england_bank_holidays

H = england_bank_holidays()


@pytest.mark.parametrize(
    ("deadline", "days", "expected"),
    [
        # Monday's deadline is reminded on Friday, not over the weekend.
        (datetime(2026, 3, 9, 17, 0, tzinfo=LONDON), 1, datetime(2026, 3, 6, 17, 0, tzinfo=LONDON)),
        (datetime(2026, 3, 11, 17, 0, tzinfo=LONDON), 1, datetime(2026, 3, 10, 17, 0, tzinfo=LONDON)),
        (datetime(2026, 3, 10, 12, 0, tzinfo=LONDON), 3, datetime(2026, 3, 5, 12, 0, tzinfo=LONDON)),
        # The Tuesday after Easter: Easter Monday and Good Friday are skipped.
        (datetime(2026, 4, 7, 10, 0, tzinfo=LONDON), 1, datetime(2026, 4, 2, 10, 0, tzinfo=LONDON)),
        (datetime(2026, 4, 7, 10, 0, tzinfo=LONDON), 2, datetime(2026, 4, 1, 10, 0, tzinfo=LONDON)),
        # 29 December 2026: Christmas Day, the Boxing Day substitute and a weekend lie between.
        (datetime(2026, 12, 29, 16, 0, tzinfo=LONDON), 1, datetime(2026, 12, 24, 16, 0, tzinfo=LONDON)),
        # BST started on 29 March: 10:00 in London is 09:00Z after it and 10:00Z before it.
        (datetime(2026, 3, 30, 9, 0, tzinfo=UTC), 1, datetime(2026, 3, 27, 10, 0, tzinfo=UTC)),
    ],
)
def test_reminders_count_back_over_weekends_and_bank_holidays(deadline, days, expected):
    assert working_days_before(deadline, days, H) == expected


@given(
    st.datetimes(min_value=datetime(2025, 2, 1), max_value=datetime(2028, 11, 30), timezones=st.just(UTC)),
    st.integers(min_value=1, max_value=10),
)
def test_counting_back_undoes_triage_counting_forward_from_a_working_day(start, days):
    # Triage moves a weekend or holiday start to 09:00 on the next working day: not reversible.
    assume(H.is_working_day(start.astimezone(LONDON).date()))
    deadline = add_working_days(start, days, H)
    assert working_days_before(deadline, days, H) == start


def test_a_reminder_that_would_not_come_after_the_assignment_is_not_due():
    assigned = datetime(2026, 3, 2, 9, 12, tzinfo=UTC)
    one_day = add_working_days(assigned, 1, H)
    assert reminder_due(one_day, assigned, 1, H) is None
    three_days = add_working_days(assigned, 3, H)
    assert reminder_due(three_days, assigned, 1, H) == datetime(2026, 3, 4, 9, 12, tzinfo=UTC)
    # Assigned on a Saturday: the deadline counts from Monday 09:00, so Monday morning is news.
    saturday = datetime(2026, 3, 7, 15, 0, tzinfo=LONDON)
    deadline = add_working_days(saturday, 1, H)
    assert reminder_due(deadline, saturday, 1, H) == datetime(2026, 3, 9, 9, 0, tzinfo=LONDON)


def test_dates_outside_the_calendar_and_naive_deadlines_are_refused():
    with pytest.raises(ValueError, match="outside the bank-holiday data"):
        working_days_before(datetime(2030, 1, 7, 9, 0, tzinfo=UTC), 1, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_days_before(datetime(2026, 3, 9, 9, 0), 1, H)
    assert working_days_before(datetime(2026, 3, 9, 9, 0, tzinfo=UTC), 0, H) == datetime(
        2026, 3, 9, 9, 0, tzinfo=UTC
    )


def test_the_reminder_lead_defaults_to_one_working_day_and_reads_the_environment(monkeypatch):
    assert NotifySettings.model_fields["remind_before_working_days"].default == 1
    monkeypatch.setenv("NOTIFY_REMIND_BEFORE_WORKING_DAYS", "2")
    assert NotifySettings().remind_before_working_days == 2


def test_the_contracts_example_is_what_provider_notify_sends_as_a_reminder():
    sent = example("assignment.reminded").data
    made = reminder(
        assignment_id=sent.assignment_id,
        provider_id=sent.provider_id,
        contact_deadline=sent.contact_deadline,
        now=sent.reminded_at,
    )
    assert made == sent


def test_a_reminder_names_the_deadline_in_uk_summer_time_when_it_falls_in_it():
    made = reminder(
        assignment_id=uuid.uuid4(),
        provider_id="active-blaby",
        contact_deadline=datetime(2026, 7, 6, 16, 0, tzinfo=UTC),
        now=datetime(2026, 7, 3, 16, 0, tzinfo=UTC),
    )
    assert "Answer by Monday 6 July 2026, 17:00 (BST)" in made.detail
