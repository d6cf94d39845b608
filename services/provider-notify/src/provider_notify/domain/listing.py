"""A provider's list of its own assignments: the query string checked, and the keyset cursor.

Newest first by arrival (when provider-notify stored the assignment), ties broken by assignment
id, so every assignment has one place in the order. A page ends at a position; the next page is
everything strictly after it, however many assignments arrive meanwhile (no OFFSET: nothing is
skipped or shown twice while the list grows at its head).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from provider_notify.domain.lifecycle import Stage

T = TypeVar("T")
D = TypeVar("D")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
PARAMETERS = ("stage", "since", "limit", "cursor")
_SINGLE = ("since", "limit", "cursor")


@dataclass(frozen=True)
class Position:
    """Where a page ended: the last assignment's arrival time and id."""

    arrived_at: datetime
    assignment_id: uuid.UUID


@dataclass(frozen=True)
class ListQuery:
    stages: tuple[Stage, ...] | None  # None: every stage
    since: datetime | None  # arrived at or after
    limit: int
    after: Position | None  # None: the first page


@dataclass(frozen=True)
class Problem:
    parameter: str
    problem: str


def encode_cursor(position: Position) -> str:
    raw = json.dumps([position.arrived_at.isoformat(), str(position.assignment_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position `cursor` names; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, assignment_id = json.loads(raw)
        position = Position(datetime.fromisoformat(at), uuid.UUID(assignment_id))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise ValueError("not a cursor this API gave out") from exc
    if position.arrived_at.tzinfo is None:
        raise ValueError("not a cursor this API gave out")
    return position


def _stages(values: list[str]) -> tuple[tuple[Stage, ...], list[Problem]]:
    known = {s.value for s in Stage}
    names = [n.strip() for v in values for n in v.split(",")]
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(repr(n) for n in unknown)
        problem = f"unknown stage {listed}; stages are {', '.join(s.value for s in Stage)}"
        return (), [Problem("stage", problem)]
    return tuple(sorted({Stage(n) for n in names}, key=list(Stage).index)), []


def _since(value: str) -> datetime | Problem:
    example = "e.g. 2026-03-01T00:00:00Z"
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        hint = " (send '+' in a query string as %2B)" if " " in value else ""
        return Problem("since", f"{value!r} is not an ISO 8601 date-time{hint}; {example}")
    if "T" not in value.upper() and " " not in value:
        return Problem("since", f"{value!r} is a date, not a date-time; {example}")
    if at.tzinfo is None:
        return Problem("since", f"{value!r} has no UTC offset (Z or ±hh:mm); {example}")
    return at


def _limit(value: str) -> int | Problem:
    if not (value.isascii() and value.isdecimal()) or not 1 <= int(value) <= MAX_LIMIT:
        return Problem("limit", f"{value!r} is not a whole number from 1 to {MAX_LIMIT}")
    return int(value)


def _optional(
    given: dict[str, list[str]],
    name: str,
    read: Callable[[str], T | Problem],
    default: D,
    problems: list[Problem],
) -> T | D:
    """The parameter `name` read by `read`, or `default` when absent or wrong (then its problem
    joins `problems`)."""
    if name not in given:
        return default
    value = read(given[name][0])
    if isinstance(value, Problem):
        problems.append(value)
        return default
    return value


def parse_query(items: Iterable[tuple[str, str]]) -> ListQuery | list[Problem]:
    """The list query from the request's query string (repeats kept), or every problem in it."""
    given: dict[str, list[str]] = {}
    for name, value in items:
        given.setdefault(name, []).append(value)
    problems = [
        Problem(name, f"unknown parameter {name!r}; the list takes {', '.join(PARAMETERS)}")
        for name in given
        if name not in PARAMETERS
    ]
    problems += [
        Problem(n, f"{n} given {len(given[n])} times; give it once")
        for n in _SINGLE
        if len(given.get(n, ())) > 1
    ]
    stages: tuple[Stage, ...] | None = None
    if "stage" in given:
        stages, stage_problems = _stages(given["stage"])
        problems += stage_problems
    since = _optional(given, "since", _since, None, problems)
    limit = _optional(given, "limit", _limit, DEFAULT_LIMIT, problems)
    after: Position | None = None
    if "cursor" in given:
        try:
            after = decode_cursor(given["cursor"][0])
        except ValueError as exc:
            problems.append(Problem("cursor", f"{exc}: pass the 'next' of the previous page as it came"))
    if problems:
        return problems
    return ListQuery(stages=stages, since=since, limit=limit, after=after)
