"""The list's query string: stages repeated or comma-separated, since with an offset, limit in
range, a cursor that goes round intact; every problem named by its parameter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from provider_notify.domain.lifecycle import Stage
from provider_notify.domain.listing import (
    DEFAULT_LIMIT,
    ListQuery,
    Position,
    decode_cursor,
    encode_cursor,
    parse_query,
)


def test_no_parameters_is_the_first_page_of_everything():
    assert parse_query([]) == ListQuery(stages=None, since=None, limit=DEFAULT_LIMIT, after=None)


def test_stages_may_be_repeated_or_comma_separated_and_come_in_lifecycle_order():
    query = parse_query([("stage", "expired, pending"), ("stage", "accepted"), ("stage", "pending")])
    assert isinstance(query, ListQuery)
    assert query.stages == (Stage.PENDING, Stage.ACCEPTED, Stage.EXPIRED)


def test_since_keeps_its_offset_and_limit_its_value():
    query = parse_query([("since", "2026-03-02T10:00:00+01:00"), ("limit", "200")])
    assert isinstance(query, ListQuery)
    assert query.since == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert query.limit == 200


def test_a_cursor_goes_round_to_the_microsecond_and_is_url_safe():
    position = Position(
        datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=timezone(timedelta(0))),
        uuid.UUID("3b6f1c2e-5a7d-4e8f-9a0b-1c2d3e4f5a6b"),
    )
    cursor = encode_cursor(position)
    assert cursor.replace("-", "").replace("_", "").isalnum()
    assert decode_cursor(cursor) == position
    query = parse_query([("cursor", cursor)])
    assert isinstance(query, ListQuery) and query.after == position


@pytest.mark.parametrize(
    ("items", "parameters"),
    [
        ([("stage", "")], ["stage"]),
        ([("stage", "PENDING")], ["stage"]),
        ([("since", "2026-03-02T09:00:00 01:00")], ["since"]),
        ([("limit", "²")], ["limit"]),
        ([("limit", "-1")], ["limit"]),
        ([("cursor", "W10")], ["cursor"]),  # base64 of [] : JSON, but not a position
        ([("cursor", "%%%")], ["cursor"]),
        (
            [("page", "2"), ("limit", "x"), ("since", "a"), ("since", "b")],
            ["page", "since", "since", "limit"],
        ),
    ],
)
def test_every_problem_is_named_by_its_parameter(items, parameters):
    problems = parse_query(items)
    assert isinstance(problems, list)
    assert [p.parameter for p in problems] == parameters
