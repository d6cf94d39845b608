"""Working days in England: weekends and bank holidays (from a packaged, validated data file).

Contact deadlines are counted in working days from the moment of assignment, at the same local
(Europe/London) time of day; an assignment made on a weekend or bank holiday starts counting from
09:00 on the next working day. Dates outside the file's years refuse to be guessed.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
_DAY_STARTS = time(9, 0)


@dataclass(frozen=True)
class BankHolidays:
    dates: frozenset[date]
    first_year: int
    last_year: int

    def is_working_day(self, day: date) -> bool:
        if not self.first_year <= day.year <= self.last_year:
            raise ValueError(
                f"{day} is outside the bank-holiday data ({self.first_year}-{self.last_year}); update "
                "servicekit/data/bank-holidays-england-and-wales.json"
            )
        return day.weekday() < 5 and day not in self.dates


@cache
def england_bank_holidays() -> BankHolidays:
    raw = json.loads(
        (
            importlib.resources.files("servicekit") / "data" / "bank-holidays-england-and-wales.json"
        ).read_text()
    )
    dates = [date.fromisoformat(d) for d in raw["dates"]]
    first, last = int(raw["first_year"]), int(raw["last_year"])
    if dates != sorted(set(dates)) or any(not first <= d.year <= last for d in dates):
        raise ValueError("bank-holiday dates must be unique, sorted and inside first_year..last_year")
    return BankHolidays(frozenset(dates), first, last)


def add_working_days(start: datetime, days: int, holidays: BankHolidays) -> datetime:
    """`days` working days after `start` (an aware datetime), as an aware UTC-comparable datetime."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    local = start.astimezone(LONDON)
    day, from_start_of_day = _working_days_after(local.date(), days, holidays)
    at = _DAY_STARTS if from_start_of_day else local.timetz().replace(tzinfo=None)
    return datetime.combine(day, at, tzinfo=LONDON)


# Every placement asks, nearly always about the same few days.
@lru_cache(maxsize=1024)
def _working_days_after(day: date, days: int, holidays: BankHolidays) -> tuple[date, bool]:
    """The day `days` working days after `day`, and whether counting began at the next working
    day's start (`day` was not one)."""
    moved = not holidays.is_working_day(day)
    while not holidays.is_working_day(day):
        day += timedelta(days=1)
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if holidays.is_working_day(day):
            remaining -= 1
    return day, moved
