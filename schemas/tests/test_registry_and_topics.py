from pathlib import Path

import pytest
from referral_schemas import (
    EVENTS,
    TOPICS,
    Contract,
    DeidentifiedEnvelope,
    Envelope,
    Party,
    ReferralEnvelope,
    all_topic_layouts,
    topic,
    topic_for,
    topics_consumed_by,
    topics_produced_by,
)
from referral_schemas.topics import SERVICES, markdown_table

V1_EVENTS = {
    "referral.submitted",
    "referral.accepted",
    "referral.rejected",
    "referral.status",
    "referral.triaged",
    "assignment.created",
    "assignment.delivered",
    "assignment.delivery_failed",
    "assignment.declined",
    "assignment.expired",
    "assignment.reminded",
    "assignment.withdrawn",
    "provider.response",
    "provider.activity",
    "outcome.recorded",
    "outcome.kpi",
}


def test_the_registry_covers_every_v1_event():
    assert set(EVENTS) == V1_EVENTS


@pytest.mark.parametrize("event_type", sorted(V1_EVENTS))
def test_each_registry_entry_agrees_with_its_classes(event_type):
    spec = EVENTS[event_type]
    assert spec.event_type == spec.envelope.event_type_name() == event_type
    assert spec.version == spec.envelope.schema_version_number() == 1
    assert issubclass(spec.envelope, Envelope) and issubclass(spec.payload, Contract)
    assert spec.envelope.model_fields["data"].annotation is spec.payload
    assert spec.topic == topic_for(event_type)
    assert topic(spec.topic).carries(event_type)
    assert spec.schema_name == f"{event_type}.v1"


@pytest.mark.parametrize("event_type", sorted(V1_EVENTS - {"assignment.withdrawn", "assignment.reminded"}))
def test_an_event_with_a_topic_of_its_own_is_published_there(event_type):
    assert EVENTS[event_type].topic == f"{event_type}.v1"


def test_a_withdrawal_has_no_topic_of_its_own_and_goes_to_the_providers_feed():
    assert EVENTS["assignment.withdrawn"].topic == "provider.assignments.v1"
    assert topic_for("assignment.withdrawn") == "provider.assignments.v1"
    assert [t.name for t in TOPICS if t.carries("assignment.withdrawn")] == ["provider.assignments.v1"]


def test_a_reminder_has_no_topic_of_its_own_and_goes_to_the_providers_feed():
    assert topic_for("assignment.reminded") == "provider.assignments.v1"
    assert [t.name for t in TOPICS if t.carries("assignment.reminded")] == ["provider.assignments.v1"]


def test_payload_models_are_distinct_per_event():
    assert len({spec.payload for spec in EVENTS.values()}) == len(EVENTS)


def test_only_submission_may_lack_a_referral_id_and_only_the_commissioner_stream_must():
    kinds = {
        event_type: (
            "deidentified"
            if issubclass(spec.envelope, DeidentifiedEnvelope)
            else "referral"
            if issubclass(spec.envelope, ReferralEnvelope)
            else "submission"
        )
        for event_type, spec in EVENTS.items()
    }
    assert {t for t, k in kinds.items() if k == "submission"} == {"referral.submitted"}
    assert {t for t, k in kinds.items() if k == "deidentified"} == {"outcome.recorded", "outcome.kpi"}


def test_every_topic_carries_known_events_and_is_named_for_its_version():
    for t in TOPICS:
        assert t.event_types and set(t.event_types) <= set(EVENTS), t.name
        assert len(set(t.event_types)) == len(t.event_types), t.name
        assert t.name.endswith(".v1")
    assert len({t.name for t in TOPICS}) == len(TOPICS)


def test_every_event_is_carried_by_some_topic():
    assert {e for t in TOPICS for e in t.event_types} == set(EVENTS)


def test_providers_get_their_own_copy_of_assignments_and_withdrawals_keyed_by_provider():
    copy = topic("provider.assignments.v1")
    assert copy.event_types == ("assignment.created", "assignment.reminded", "assignment.withdrawn")
    assert copy.key == "provider_id"
    assert copy.producer is Party.PROVIDER_NOTIFY and copy.consumers == (Party.PROVIDER_SYSTEMS,)
    assert topic_for("assignment.created") == "assignment.created.v1"


def test_referral_flow_topics_are_keyed_by_referral():
    assert topic("referral.submitted.v1").key == "source_system:source_referral_id"
    for t in TOPICS:
        if all(issubclass(EVENTS[e].envelope, ReferralEnvelope) for e in t.event_types):
            assert t.key == "referral_id" or t.name == "provider.assignments.v1", t.name


def test_the_kpi_topic_is_compacted_on_the_cell():
    kpi = topic("outcome.kpi.v1")
    assert kpi.cleanup_policy == "compact" and kpi.key == "kpi:period:dimension:dimension_value"
    assert kpi.config() == {"cleanup.policy": "compact"}


def test_every_topic_a_service_consumes_has_a_dead_letter_topic():
    for t in TOPICS:
        consumed_by_a_service = bool(SERVICES.intersection(t.consumers))
        assert (t.dlq == f"{t.name}.dlq") if consumed_by_a_service else t.dlq is None, t.name


def test_identity_never_reaches_outcomes_or_commissioners():
    identity_topics = {
        "referral.submitted.v1",
        "referral.accepted.v1",
        "assignment.created.v1",
        "provider.assignments.v1",
    }
    for t in TOPICS:
        if t.name in identity_topics:
            assert Party.OUTCOMES not in t.consumers and Party.COMMISSIONERS not in t.consumers


def test_layouts_list_every_topic_and_dead_letter_topic_once():
    layouts = all_topic_layouts()
    names = [layout.name for layout in layouts]
    assert len(names) == len(set(names))
    assert set(names) == {t.name for t in TOPICS} | {t.dlq for t in TOPICS if t.dlq}
    for name, partitions, config in layouts:
        assert partitions >= 1
        assert config["cleanup.policy"] in {"delete", "compact"}
        if config["cleanup.policy"] == "delete":
            assert int(config["retention.ms"]) >= 30 * 24 * 3600 * 1000, name


def test_dead_letters_live_as_long_as_their_messages():
    layouts = {layout.name: layout for layout in all_topic_layouts()}
    submitted = topic("referral.submitted.v1")
    assert layouts["referral.submitted.v1.dlq"].config == submitted.config()
    assert layouts["referral.submitted.v1.dlq"].partitions == 1


def test_each_service_can_find_what_it_reads_and_writes():
    assert {t.name for t in topics_consumed_by(Party.TRIAGE)} == {
        "referral.accepted.v1",
        "referral.status.v1",
        "assignment.declined.v1",
        "assignment.expired.v1",
    }
    assert {t.name for t in topics_produced_by(Party.TRIAGE)} == {
        "referral.triaged.v1",
        "assignment.created.v1",
    }
    for service in SERVICES:
        assert topics_consumed_by(service) and topics_produced_by(service)


def test_unknown_topics_and_events_are_named_in_the_error():
    with pytest.raises(KeyError, match=r"referral\.teleported\.v1"):
        topic("referral.teleported.v1")
    with pytest.raises(KeyError, match=r"referral\.teleported"):
        topic_for("referral.teleported")
    with pytest.raises(KeyError, match="does not carry"):
        topic_for("provider.assignments")
    with pytest.raises(KeyError, match="no topic carries it"):
        topic_for("assignment.withdrawn", version=2)


def test_the_readme_topic_table_is_current():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme
