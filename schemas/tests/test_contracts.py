import json
import uuid
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from referral_schemas import (
    ENVELOPES,
    ContractError,
    dump_event,
    new_envelope,
    parse_event,
    referral_id_for,
)
from referral_schemas.examples import example, example_json
from referral_schemas.registry import ReferralAcceptedV1, ReferralSubmittedV1
from referral_schemas.topics import TOPICS, all_topic_layouts, topic_for


@pytest.mark.parametrize("event_type", sorted(ENVELOPES))
def test_every_example_validates_and_round_trips(event_type):
    event = example(event_type)
    assert parse_event(dump_event(event)) == event
    assert parse_event(dump_event(event), expected_type=event_type).event_type == event_type


def _raw(base: str, **changes) -> bytes:
    doc = example_json(base)
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        (b"{nope", "malformed_json", "not JSON"),
        (b"\xff\xfe", "malformed_json", "not JSON"),
        (b"[1, 2]", "schema_violation", "JSON object"),
        (b"{}", "schema_violation", "event_type"),
        (
            _raw("referral.accepted", event_type="referral.teleported"),
            "unknown_event_type",
            "referral.teleported",
        ),
        (
            _raw("referral.accepted", schema_version=2),
            "unsupported_schema_version",
            "schema_version 2",
        ),
        (_raw("referral.accepted", event_id="not-a-uuid"), "schema_violation", "event_id"),
        (
            _raw("referral.accepted", occurred_at="2026-11-20T09:14:00"),
            "schema_violation",
            "occurred_at",
        ),
        (_raw("referral.accepted", referral_id=None), "schema_violation", "referral_id"),
        (_raw("referral.accepted", surprise=1), "schema_violation", "surprise"),
        (_raw("referral.accepted", schema_version="1"), "schema_violation", "schema_version"),
    ],
)
def test_bad_bytes_get_one_precise_contract_error(raw, code, fragment):
    with pytest.raises(ContractError) as info:
        parse_event(raw)
    assert info.value.code == code
    assert fragment in info.value.detail


def test_wrong_field_types_inside_the_payload_are_named_by_path():
    doc = example_json("referral.submitted")
    doc["data"]["patient"]["date_of_birth"] = 19610417
    with pytest.raises(ContractError) as info:
        parse_event(json.dumps(doc).encode())
    assert info.value.code == "schema_violation"
    assert "data.patient.date_of_birth" in info.value.detail


def test_a_missing_field_is_named():
    doc = example_json("assignment.declined")
    del doc["data"]["reason_code"]
    with pytest.raises(ContractError, match=r"data\.reason_code: Field required"):
        parse_event(json.dumps(doc).encode())


def test_an_event_of_another_type_is_refused_when_a_type_is_expected():
    with pytest.raises(ContractError) as info:
        parse_event(dump_event(example("referral.status")), expected_type="referral.accepted")
    assert info.value.code == "wrong_event_type"


def test_referral_id_is_deterministic_and_distinct_per_source():
    a = referral_id_for("emis-c82001", "REF-1")
    assert a == referral_id_for("emis-c82001", "REF-1")
    assert a != referral_id_for("emis-c82001", "REF-2")
    assert a != referral_id_for("emis-c82002", "REF-1")
    # the separator keeps ("a:b","c") and ("a","b:c") apart
    assert referral_id_for("a:b", "c") != referral_id_for("a", "b:c")


def test_new_envelope_carries_correlation_and_causation_from_its_cause():
    cause = example("referral.submitted")
    accepted = example("referral.accepted")
    child = new_envelope(
        ReferralAcceptedV1,
        accepted.data,
        producer="referral-intake",
        referral_id=uuid.uuid4(),
        caused_by=cause,
    )
    assert child.correlation_id == cause.correlation_id
    assert child.causation_id == cause.event_id
    assert child.event_type == "referral.accepted" and child.schema_version == 1
    assert child.occurred_at.utcoffset().total_seconds() == 0


def test_occurred_at_is_normalised_to_utc():
    doc = example_json("referral.status")
    doc["occurred_at"] = "2026-06-01T10:00:00+01:00"
    event = parse_event(json.dumps(doc).encode())
    assert event.occurred_at == datetime.fromisoformat("2026-06-01T09:00:00+00:00")


def test_only_submitted_and_commissioner_events_lack_a_referral_id():
    doc = example_json("outcome.kpi")
    doc["referral_id"] = str(uuid.uuid4())
    with pytest.raises(ContractError, match="referral_id"):
        parse_event(json.dumps(doc).encode())
    assert parse_event(_raw("referral.submitted")).referral_id is None


def test_a_suppressed_kpi_cell_cannot_carry_numbers():
    doc = example_json("outcome.kpi")
    doc["data"]["suppression"] = "primary"
    with pytest.raises(ContractError, match="suppressed cell"):
        parse_event(json.dumps(doc).encode())


def test_every_event_has_a_topic_and_every_topic_a_dlq():
    for event_type in ENVELOPES:
        assert topic_for(event_type).endswith(".v1")
    names = [name for name, _, _ in all_topic_layouts()]
    for t in TOPICS:
        assert t.name in names and t.dlq in names
    assert len(names) == len(set(names))


@given(st.text(min_size=1, max_size=64), st.text(min_size=1, max_size=128))
def test_submitted_events_round_trip_for_any_source_ids(system, ref):
    doc = example_json("referral.submitted")
    doc["data"]["source_system"] = system
    doc["data"]["source_referral_id"] = ref
    event = ReferralSubmittedV1.model_validate_json(json.dumps(doc))
    assert parse_event(dump_event(event)) == event


@given(st.binary(max_size=300))
def test_parse_event_raises_only_contract_errors_on_arbitrary_bytes(raw):
    try:
        parse_event(raw)
    except ContractError:
        pass
