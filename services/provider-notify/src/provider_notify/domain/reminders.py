"""When to remind a provider that has not answered (working days before its contact deadline),
and what the reminder says.

Counted back from the deadline the way triage counts it forward (servicekit.calendar): weekends
and England bank holidays are skipped and the local (Europe/London) time of day is kept, so a
Monday 17:00 deadline is reminded on the Friday before at 17:00, across a clock change too.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from referral_schemas.events.assignment import AssignmentReminded
from servicekit.calendar import LONDON, BankHolidays


def working_days_before(deadline: datetime, days: int, holidays: BankHolidays) -> datetime:
    """`days` working days before `deadline` (aware), at the same London time of day."""
    if deadline.tzinfo is None:
        raise ValueError("deadline must be timezone-aware")
    local = deadline.astimezone(LONDON)
    day, at = local.date(), local.timetz().replace(tzinfo=None)
    remaining = days
    while remaining > 0:
        day -= timedelta(days=1)
        if holidays.is_working_day(day):
            remaining -= 1
    return datetime.combine(day, at, tzinfo=LONDON)


def reminder_due(
    deadline: datetime, assigned_at: datetime, days: int, holidays: BankHolidays
) -> datetime | None:
    """When to remind, or None when that moment is not after the assignment was made.

    A deadline only `days` working days away (or nearer) would be reminded as it arrives, which
    tells the provider nothing the assignment itself did not.
    """
    at = working_days_before(deadline, days, holidays)
    return at if at > assigned_at else None


def reminder(
    *, assignment_id: uuid.UUID, provider_id: str, contact_deadline: datetime, now: datetime
) -> AssignmentReminded:
    """The reminder of an assignment not answered yet, naming its deadline in UK time."""
    local = contact_deadline.astimezone(LONDON)
    when = f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({local.tzname()})"
    return AssignmentReminded(
        assignment_id=assignment_id,
        provider_id=provider_id,
        contact_deadline=contact_deadline,
        reminded_at=now,
        detail=(
            f"You have not accepted or declined this assignment yet. Answer by {when}, or it "
            "expires and the referral is offered to another provider."
        ),
    )
