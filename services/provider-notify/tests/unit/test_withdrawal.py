"""Withdrawing an assignment closed without the provider's answer: what the provider is told, and
on which channel (the unit of work is a fake; the SQL is exercised in tests/integration)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from provider_notify.domain.lifecycle import FINAL, Stage
from provider_notify.domain.withdrawal import CLOSED_AS, provider_has_it, stage_reached, withdrawal
from provider_notify.service_layer.deadlines import handle_status
from provider_notify.service_layer.delivery import announce_due
from provider_notify.service_layer.withdrawals import withdraw
from referral_schemas import new_envelope, parse_event
from referral_schemas.enums import DeliveryChannel, ProviderResponseType, ReferralStatus, WithdrawalReason
from referral_schemas.events.referral import ReferralStatusChanged
from referral_schemas.examples import example
from referral_schemas.registry import ReferralStatusV1

NOW = datetime(2026, 3, 3, 11, 20, 5, tzinfo=UTC)
WINTER_DEADLINE = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
SUMMER_DEADLINE = datetime(2026, 6, 4, 16, 0, tzinfo=UTC)


def withdrawn(reason: WithdrawalReason, stage_before: Stage, deadline: datetime = WINTER_DEADLINE):
    return withdrawal(
        assignment_id=uuid.uuid4(),
        provider_id="active-blaby",
        reason=reason,
        stage_before=stage_before,
        contact_deadline=deadline,
        now=NOW,
    )


# --- what the provider is told


def test_a_cancellation_before_any_answer_tells_the_provider_not_to_contact_the_patient():
    w = withdrawn(WithdrawalReason.REFERRAL_CANCELLED, Stage.PENDING)
    assert (w.reason, w.stage_reached, w.contact_deadline, w.withdrawn_at) == (
        WithdrawalReason.REFERRAL_CANCELLED,
        None,
        None,
        NOW,
    )
    assert w.detail == (
        "The referrer cancelled this referral: do not contact the patient about it."
        " Nothing more can be recorded against this assignment."
    )


@pytest.mark.parametrize(
    ("stage", "words"),
    [
        (Stage.ACCEPTED, "recorded it as accepted"),
        (Stage.CONTACTED, "recorded it as contacted"),
        (Stage.UNABLE_TO_CONTACT, "recorded it as unable to contact"),
        (Stage.ENROLLED, "recorded it as enrolled"),
        (Stage.DROPPED_OUT, "recorded it as dropped out"),
    ],
)
def test_a_cancellation_after_the_provider_started_names_the_step_it_had_reached_and_says_stop(stage, words):
    w = withdrawn(WithdrawalReason.REFERRAL_CANCELLED, stage)
    assert w.stage_reached == ProviderResponseType(stage.value)
    assert words in w.detail
    assert "stop work on it and do not contact the patient about it again" in w.detail


def test_the_contracts_example_is_what_provider_notify_sends_for_a_cancellation_after_contact():
    sample = example("assignment.withdrawn").data
    w = withdrawal(
        assignment_id=sample.assignment_id,
        provider_id=sample.provider_id,
        reason=sample.reason,
        stage_before=Stage.CONTACTED,
        contact_deadline=WINTER_DEADLINE,
        now=sample.withdrawn_at,
    )
    assert w == sample


@pytest.mark.parametrize(
    ("deadline", "shown"),
    [(WINTER_DEADLINE, "4 March 2026 17:00 GMT"), (SUMMER_DEADLINE, "4 June 2026 17:00 BST")],
)
def test_an_expiry_names_the_deadline_that_passed_in_uk_time(deadline, shown):
    w = withdrawn(WithdrawalReason.EXPIRED, Stage.PENDING, deadline)
    assert (w.reason, w.stage_reached, w.contact_deadline) == (WithdrawalReason.EXPIRED, None, deadline)
    assert w.detail.startswith(f"Not accepted or declined by the contact deadline ({shown}): ")
    assert "the referral goes to another provider or back to the referrer" in w.detail


@pytest.mark.parametrize("stage", sorted(FINAL))
def test_an_assignment_closed_already_cannot_be_withdrawn(stage):
    with pytest.raises(ValueError, match="closed already"):
        stage_reached(stage)


def test_every_way_an_assignment_closes_without_the_providers_answer_has_a_withdrawal_reason():
    assert set(CLOSED_AS) == set(WithdrawalReason)
    assert set(CLOSED_AS.values()) | {Stage.DECLINED, Stage.CLOSED} == FINAL


def test_a_kafka_provider_always_has_its_assignment_a_webhook_provider_once_a_delivery_started():
    assert provider_has_it(DeliveryChannel.KAFKA, delivery_started=False)
    assert provider_has_it(DeliveryChannel.WEBHOOK, delivery_started=True)
    assert not provider_has_it(DeliveryChannel.WEBHOOK, delivery_started=False)


# --- on which channel, in the closing unit of work


class _Connection:
    def __init__(self, stored: bool = True, closed: list[dict[str, Any]] | None = None) -> None:
        self.stored, self.closed = stored, closed or []
        self.rows: list[tuple[Any, ...]] = []
        self.queries = 0

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.rows.append(args)
        return args[0] if self.stored else None  # INSERT ... RETURNING assignment_id

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        self.queries += 1
        return self.closed

    async def execute(self, sql: str, *args: Any) -> str:
        self.queries += 1  # the withdrawal stopping a queued reminder
        return "UPDATE 0"


class _Assignments:
    def __init__(self) -> None:
        self.written = 0

    async def write_staged(self) -> None:
        self.written += 1


class _UnitOfWork:
    def __init__(self, connection: _Connection | None = None) -> None:
        self.connection = connection or _Connection()
        self.assignments = _Assignments()
        self.published: list[tuple[str, str, Any]] = []
        self.flushers: list[Any] = []

    def publish(self, event: Any, *, topic: str, key: str, aggregate_type: str) -> None:
        self.published.append((topic, key, event))

    def on_flush(self, flusher: Any) -> None:
        self.flushers.append(flusher)


def _closed(channel: str, *, started: bool) -> dict[str, Any]:
    template = example("assignment.created")
    data = template.data.model_copy(update={"provider_id": "active-blaby", "assignment_id": uuid.uuid4()})
    assignment = new_envelope(type(template), data, producer="triage", referral_id=uuid.uuid4())
    return {
        "assignment_id": data.assignment_id,
        "provider_id": data.provider_id,
        "channel": channel,
        "payload": assignment.model_dump_json(),
        "contact_deadline": data.contact_deadline,
        "trace_headers": "{}",
        "delivery_started": started,
    }


def _cancellation(referral_id: uuid.UUID, status: ReferralStatus = ReferralStatus.CANCELLED):
    data = ReferralStatusChanged(source_system="emis", source_referral_id="R1", status=status)
    return new_envelope(ReferralStatusV1, data, producer="referral-intake", referral_id=referral_id)


def _stored(uow: _UnitOfWork) -> dict[str, Any]:
    [args] = uow.connection.rows
    columns = ("assignment_id", "event_id", "provider_id", "channel", "reason", "delivery_state", "payload",
               "attempts", "next_attempt_at", "delivered_at", "trace_headers")  # fmt: skip
    return dict(zip(columns, args, strict=True))


async def test_a_kafka_providers_withdrawal_goes_on_its_feed_keyed_by_provider_with_the_closing():
    closed = _closed("kafka", started=True)
    assignment = parse_event(closed["payload"].encode())
    cancel = _cancellation(assignment.referral_id)
    uow = _UnitOfWork()
    event = await withdraw(uow, closed, Stage.ACCEPTED, WithdrawalReason.REFERRAL_CANCELLED, NOW, cancel)  # type: ignore[arg-type]
    assert event is not None
    assert uow.published == [("provider.assignments.v1", "active-blaby", event)]
    assert (event.event_type, event.referral_id, event.causation_id) == (
        "assignment.withdrawn",
        assignment.referral_id,
        cancel.event_id,
    )
    assert event.data.stage_reached is ProviderResponseType.ACCEPTED
    row = _stored(uow)
    assert (row["delivery_state"], row["attempts"], row["delivered_at"], row["next_attempt_at"]) == (
        "delivered",
        1,
        NOW,
        None,
    )
    assert (row["event_id"], row["reason"]) == (event.event_id, "referral_cancelled")
    assert uow.flushers == []


async def test_a_webhook_providers_withdrawal_is_queued_for_the_deliverer_and_not_put_on_kafka():
    closed = _closed("webhook", started=True)
    cause = parse_event(closed["payload"].encode())
    uow = _UnitOfWork()
    event = await withdraw(uow, closed, Stage.PENDING, WithdrawalReason.EXPIRED, NOW, cause)  # type: ignore[arg-type]
    assert event is not None and event.data.contact_deadline == closed["contact_deadline"]
    assert uow.published == []
    row = _stored(uow)
    assert (row["delivery_state"], row["attempts"], row["next_attempt_at"]) == ("pending", 0, NOW)
    assert parse_event(row["payload"].encode()) == event  # what the deliverer will post
    assert uow.flushers == [announce_due]


async def test_a_webhook_assignment_never_sent_is_withdrawn_on_record_only():
    closed = _closed("webhook", started=False)
    cause = parse_event(closed["payload"].encode())
    uow = _UnitOfWork()
    await withdraw(uow, closed, Stage.PENDING, WithdrawalReason.EXPIRED, NOW, cause)  # type: ignore[arg-type]
    assert uow.published == [] and uow.flushers == []
    assert _stored(uow)["delivery_state"] == "not_needed"


async def test_an_assignment_withdrawn_before_is_not_told_twice():
    closed = _closed("kafka", started=True)
    cause = parse_event(closed["payload"].encode())
    uow = _UnitOfWork(_Connection(stored=False))
    assert await withdraw(uow, closed, Stage.PENDING, WithdrawalReason.EXPIRED, NOW, cause) is None  # type: ignore[arg-type]
    assert uow.published == []


async def test_a_cancellation_withdraws_each_assignment_it_closes_from_the_stage_it_had():
    closed = [_closed("kafka", started=True) | {"stage_before": "contacted"}]
    referral_id = parse_event(closed[0]["payload"].encode()).referral_id
    uow = _UnitOfWork(_Connection(closed=closed))
    await handle_status(_cancellation(referral_id), uow, NOW)  # type: ignore[arg-type]
    [(_, key, event)] = uow.published
    assert key == "active-blaby"
    assert (event.data.reason, event.data.stage_reached) == (
        WithdrawalReason.REFERRAL_CANCELLED,
        ProviderResponseType.CONTACTED,
    )


@pytest.mark.parametrize("status", [s for s in ReferralStatus if s is not ReferralStatus.CANCELLED])
async def test_no_other_status_withdraws_anything(status):
    uow = _UnitOfWork(_Connection(closed=[_closed("kafka", started=True) | {"stage_before": "pending"}]))
    await handle_status(_cancellation(uuid.uuid4(), status), uow, NOW)  # type: ignore[arg-type]
    assert uow.connection.queries == 0 and uow.published == []
