"""NOTIFY_CONTACT_DEADLINE_OVERRIDE_S, the tests' and demos' setting: a named provider's
assignments are held to a deadline seconds away instead of triage's working-day one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from provider_notify.adapters.assignments import NewAssignment
from provider_notify.domain.channels import load_channels
from provider_notify.domain.deadlines import held_deadline
from provider_notify.domain.delivery import RetryPolicy
from provider_notify.service_layer.delivery import NotifyContext, handle_assignment_created
from provider_notify.settings import NotifySettings
from pydantic import ValidationError
from referral_schemas import new_envelope
from referral_schemas.examples import example
from referral_schemas.registry import AssignmentCreatedV1

ARRIVED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PROMISED = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)  # five working days on


def test_without_an_override_every_provider_is_held_to_triages_deadline():
    assert NotifySettings().contact_deadline_override_s == {}
    assert held_deadline("active-leicester", PROMISED, ARRIVED, {}) == PROMISED


def test_an_override_brings_only_the_named_providers_deadline_forward_to_seconds_after_arrival():
    override = {"active-leicester": 3.0}
    assert held_deadline("active-leicester", PROMISED, ARRIVED, override) == ARRIVED + timedelta(seconds=3)
    assert held_deadline("active-blaby", PROMISED, ARRIVED, override) == PROMISED


def test_an_override_never_extends_triages_deadline():
    two_weeks = {"active-leicester": 14 * 24 * 3600.0}
    assert held_deadline("active-leicester", PROMISED, ARRIVED, two_weeks) == PROMISED


def test_the_override_is_read_from_the_environment_as_provider_to_seconds(monkeypatch):
    monkeypatch.setenv("NOTIFY_CONTACT_DEADLINE_OVERRIDE_S", '{"active-leicester": 2.5}')
    assert NotifySettings().contact_deadline_override_s == {"active-leicester": 2.5}


@pytest.mark.parametrize("seconds", ["0", "-1"])
def test_an_override_of_no_time_or_negative_time_is_refused(monkeypatch, seconds):
    monkeypatch.setenv("NOTIFY_CONTACT_DEADLINE_OVERRIDE_S", f'{{"active-leicester": {seconds}}}')
    with pytest.raises(ValidationError, match="greater than 0"):
        NotifySettings()


class _Assignments:
    def __init__(self) -> None:
        self.added: list[NewAssignment] = []

    async def is_held(self, assignment_id: uuid.UUID) -> bool:
        return False

    def add(self, assignment: NewAssignment) -> None:
        self.added.append(assignment)


class _UnitOfWork:
    def __init__(self) -> None:
        self.assignments = _Assignments()
        self.events: list[Any] = []

    def on_flush(self, flusher: Any) -> None:
        pass

    def publish(self, event: Any, **where: Any) -> None:
        self.events.append(event)

    def emit(self, envelope_type: Any, data: Any, **about: Any) -> None:
        self.events.append(data)


@pytest.mark.parametrize(
    ("override", "held"),
    [({}, PROMISED), ({"active-leicester": 5.0}, ARRIVED + timedelta(seconds=5))],
)
async def test_an_arriving_assignment_is_stored_with_the_deadline_it_is_held_to(override, held):
    data = example("assignment.created").data.model_copy(
        update={"provider_id": "active-leicester", "contact_deadline": PROMISED}
    )
    event = new_envelope(AssignmentCreatedV1, data, producer="triage", referral_id=uuid.uuid4())
    ctx = NotifyContext(
        channels=lambda: load_channels(None),
        policy=RetryPolicy(1.0, 300.0, 3600.0),
        lease=timedelta(seconds=60),
        batch=10,
        now=lambda: ARRIVED,
        deadline_override_s=override,
    )
    uow = _UnitOfWork()
    await handle_assignment_created(event, uow, ctx)  # type: ignore[arg-type]
    [stored] = uow.assignments.added
    assert stored.contact_deadline == held
