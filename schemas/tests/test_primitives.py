"""The date and date-time types take ISO 8601 text (or, from Python, the value itself) and
nothing pydantic would otherwise read as one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError
from referral_schemas.primitives import Date, UtcDatetime


class Stamped(BaseModel):
    model_config = ConfigDict(strict=True)
    at: UtcDatetime
    on: Date


def _json(at: object, on: object) -> str:
    import json

    return json.dumps({"at": at, "on": on})


def test_iso_text_is_read_and_any_offset_is_held_in_utc():
    s = Stamped.model_validate_json(_json("2026-03-02T10:12:31+01:00", "2026-03-02"))
    assert s.at == datetime(2026, 3, 2, 9, 12, 31, tzinfo=UTC) and s.at.utcoffset() == timedelta(0)
    assert s.on == date(2026, 3, 2) and type(s.on) is date


@pytest.mark.parametrize(
    ("at", "on", "field", "message"),
    [
        (
            "1772442751",
            "2026-03-02",
            "at",
            "must be an ISO 8601 date-time",
        ),  # digits: a Unix time to pydantic
        (1772442751, "2026-03-02", "at", "must be an ISO 8601 date-time"),
        ("2026-03-02T09:12:31Z", "20260302", "on", "must be an ISO 8601 date"),
        ("2026-03-02T09:12:31Z", 20260302, "on", "must be an ISO 8601 date"),
        ("2026-03-02T09:12:31Z", "2026-03-02T00:00:00Z", "on", "must be an ISO 8601 date"),  # midnight
        ("2026-03-02T09:12:31Z", "02/03/2026", "on", "must be an ISO 8601 date"),
        ("2026-03-02T09:12:31", "2026-03-02", "at", "timezone"),  # naive: instant unknowable
        ("2026-02-30T09:12:31Z", "2026-03-02", "at", "day value is outside expected range"),
        ("2026-03-02T09:12:31Z", "2026-02-30", "on", "day value is outside expected range"),
        ("0001-01-01T00:00:00+05:00", "2026-03-02", "at", "out of range once converted to UTC"),
    ],
)
def test_anything_else_is_refused_with_the_field_and_why(at, on, field, message):
    with pytest.raises(ValidationError) as caught:
        Stamped.model_validate_json(_json(at, on))
    [error] = caught.value.errors()
    assert error["loc"] == (field,) and message in error["msg"], error


def test_from_python_the_values_themselves_are_taken_and_a_date_time_is_no_date():
    east = timezone(timedelta(hours=2))
    s = Stamped(at=datetime(2026, 3, 2, 11, 0, tzinfo=east), on=date(2026, 3, 2))
    assert s.at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC) and s.at.tzinfo is UTC
    with pytest.raises(ValidationError, match="valid date"):
        Stamped(at=datetime(2026, 3, 2, tzinfo=UTC), on=datetime(2026, 3, 2))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="timezone"):
        Stamped(at=datetime(2026, 3, 2), on=date(2026, 3, 2))


def test_the_published_json_schema_says_date_and_date_time():
    props = Stamped.model_json_schema()["properties"]
    assert props["at"] == {"format": "date-time", "title": "At", "type": "string"}
    assert props["on"] == {"format": "date", "title": "On", "type": "string"}
