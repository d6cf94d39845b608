import os
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from referral_schemas import (
    REFERRAL_NAMESPACE,
    ContractError,
    new_envelope,
    parse_event,
    referral_id_for,
)
from referral_schemas.examples import example
from referral_schemas.ids import new_event_id, new_random_id
from referral_schemas.registry import (
    OutcomeKpiV1,
    OutcomeRecordedV1,
    ProviderActivityV1,
    ReferralAcceptedV1,
    ReferralSubmittedV1,
)


def test_referral_id_is_deterministic():
    assert referral_id_for("emis-c82001", "REF-1") == referral_id_for("emis-c82001", "REF-1")


def test_referral_id_is_pinned_to_the_published_derivation():
    # Part of the contract: any party may compute it, so it must never change.
    assert uuid.UUID("6f1c2a4e-8d3b-5b7a-9c61-2f0e4d8a7b35") == REFERRAL_NAMESPACE
    assert referral_id_for("emis-c82001", "REF-2026-000123") == uuid.uuid5(
        REFERRAL_NAMESPACE, "emis-c82001\x1fREF-2026-000123"
    )


def test_referral_ids_differ_by_system_and_by_referral():
    ids = {
        referral_id_for("emis-c82001", "REF-1"),
        referral_id_for("emis-c82001", "REF-2"),
        referral_id_for("emis-c82002", "REF-1"),
        referral_id_for("emis", "c82001REF-1"),
        referral_id_for("a:b", "c"),
        referral_id_for("a", "b:c"),
    }
    assert len(ids) == 6


@pytest.mark.parametrize(("system", "ref"), [("", "REF-1"), ("emis", ""), ("em\x1fis", "REF-1")])
def test_referral_id_refuses_identifiers_that_could_collide(system, ref):
    with pytest.raises(ValueError, match="U\\+001F"):
        referral_id_for(system, ref)


def test_new_envelope_starts_a_journey_without_a_cause():
    submitted = example("referral.submitted")
    event = new_envelope(ReferralSubmittedV1, submitted.data, producer="emis-web", referral_id=None)
    assert event.event_type == "referral.submitted" and event.schema_version == 1
    assert event.correlation_id == event.event_id and event.causation_id is None
    assert event.occurred_at.tzinfo is not None and event.occurred_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - event.occurred_at) < timedelta(seconds=5)


def test_new_envelope_joins_its_causes_journey():
    cause = example("referral.submitted")
    referral_id = referral_id_for(cause.data.source_system, cause.data.source_referral_id)
    event = new_envelope(
        ReferralAcceptedV1,
        example("referral.accepted").data,
        producer="referral-intake",
        referral_id=referral_id,
        caused_by=cause,
    )
    assert isinstance(event, ReferralAcceptedV1)
    assert event.correlation_id == cause.correlation_id
    assert event.causation_id == cause.event_id
    assert event.event_id not in (cause.event_id, cause.correlation_id)


def test_new_envelope_gives_every_event_its_own_id():
    data = example("provider.activity").data
    ids = {
        new_envelope(ProviderActivityV1, data, producer="provider-notify", referral_id=uuid.uuid4()).event_id
        for _ in range(50)
    }
    assert len(ids) == 50


def test_new_envelope_refuses_a_payload_of_another_event():
    with pytest.raises(ValidationError, match="data"):
        new_envelope(
            ReferralAcceptedV1,
            example("referral.status").data,
            producer="referral-intake",
            referral_id=uuid.uuid4(),
        )


def test_new_envelope_takes_the_payloads_fields_and_validates_them_with_the_envelope():
    data = example("outcome.recorded").data
    fields = {name: getattr(data, name) for name in type(data).model_fields}
    event = new_envelope(OutcomeRecordedV1, fields, producer="outcomes", referral_id=None)
    assert event.data == data

    with pytest.raises(ValidationError, match="core20"):
        new_envelope(
            OutcomeRecordedV1, fields | {"core20": not data.core20}, producer="outcomes", referral_id=None
        )
    with pytest.raises(ValidationError, match="period"):
        new_envelope(OutcomeRecordedV1, fields | {"period": "2026-13"}, producer="outcomes", referral_id=None)


def test_new_envelope_refuses_to_link_a_deidentified_event_to_its_cause():
    with pytest.raises(ValueError, match="de-identified"):
        new_envelope(
            OutcomeKpiV1,
            example("outcome.kpi").data,
            producer="outcomes",
            referral_id=None,
            caused_by=example("provider.activity"),
        )


def test_a_referral_scoped_event_needs_its_referral_id():
    with pytest.raises(ValidationError, match="referral_id"):
        new_envelope(ReferralAcceptedV1, example("referral.accepted").data, producer="x", referral_id=None)


@pytest.mark.parametrize(
    ("event_type", "changes", "field"),
    [
        ("outcome.kpi", {"referral_id": str(uuid.uuid4())}, "referral_id"),
        ("outcome.recorded", {"causation_id": str(uuid.uuid4())}, "causation_id"),
        ("outcome.recorded", {"correlation_id": str(uuid.uuid4())}, "correlation_id"),
    ],
)
def test_deidentified_events_carry_nothing_that_links_to_a_referral(wire, event_type, changes, field):
    with pytest.raises(ContractError, match=field):
        parse_event(wire(event_type, changes))


def test_referral_submitted_may_carry_no_referral_id_yet(wire):
    assert parse_event(wire("referral.submitted", {"referral_id": None})).referral_id is None


@pytest.mark.parametrize("stamp", ["2026-03-02T09:12:31", "2026-03-02 09:12:31", "1772442751"])
def test_occurred_at_without_an_offset_is_refused(wire, stamp):
    with pytest.raises(ContractError) as info:
        parse_event(wire("referral.status", {"occurred_at": stamp}))
    assert info.value.code == "schema_violation" and "occurred_at" in info.value.detail


def test_a_naive_datetime_is_refused_from_python_too():
    with pytest.raises(ValidationError, match="timezone"):
        new_envelope(
            ProviderActivityV1,
            example("provider.activity").data,
            producer="provider-notify",
            referral_id=uuid.uuid4(),
            occurred_at=datetime(2026, 3, 2, 9, 12),  # naive on purpose
        )


def test_occurred_at_with_an_offset_is_read_as_utc(wire):
    event = parse_event(wire("referral.status", {"occurred_at": "2026-06-01T10:00:00+01:00"}))
    assert event.occurred_at == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert event.occurred_at.utcoffset() == timedelta(0)
    local = datetime(2026, 6, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    made = new_envelope(
        ProviderActivityV1,
        example("provider.activity").data,
        producer="provider-notify",
        referral_id=uuid.uuid4(),
        occurred_at=local,
    )
    assert made.occurred_at.utcoffset() == timedelta(0) and made.occurred_at == local


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_time_that_does_not_exist_in_utc_is_a_schema_violation(wire, stamp):
    with pytest.raises(ContractError, match="out of range once converted to UTC"):
        parse_event(wire("referral.status", {"occurred_at": stamp}))


@pytest.mark.parametrize("producer", ["", "Triage", "triage service", "x" * 65])
def test_producer_is_a_short_lower_case_name(wire, producer):
    with pytest.raises(ContractError, match="producer"):
        parse_event(wire("referral.status", {"producer": producer}))


@pytest.mark.parametrize("key", ["event_id", "correlation_id", "causation_id", "referral_id", "producer"])
def test_every_envelope_key_is_required_even_when_null(wire, key):
    with pytest.raises(ContractError, match=rf"{key}: Field required"):
        parse_event(wire("referral.status", drop=(key,)))


def test_events_are_immutable():
    event = example("referral.status")
    with pytest.raises(ValidationError, match="frozen"):
        event.producer = "someone-else"


def test_new_event_ids_are_version_7_distinct_and_ordered_by_the_time_they_were_drawn():
    first = new_event_id()
    time.sleep(0.002)
    ids = [new_event_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert {i.version for i in ids} == {7}
    assert {i.variant for i in ids} == {uuid.RFC_4122}
    assert all(first < i for i in ids)
    drawn_ms = time.time_ns() // 1_000_000
    assert drawn_ms - 1_000 <= ids[-1].int >> 80 <= drawn_ms


@pytest.mark.parametrize("draw", [new_event_id, new_random_id])
def test_a_forked_child_draws_ids_of_its_own(draw):
    draw()  # the parent now holds what it drew ids from (random ids: a batch not yet handed out)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the ids it would hand out
        os.write(write, b"".join(draw().bytes for _ in range(100)))
        os._exit(0)
    parents = {draw() for _ in range(300)}
    os.waitpid(pid, 0)
    raw = os.read(read, 1600)
    childs = {uuid.UUID(bytes=raw[i : i + 16]) for i in range(0, len(raw), 16)}
    assert len(childs) == 100
    assert not childs & parents
