"""`referrals load`: synthetic referrals pushed into a running deployment's referral.submitted
topic, read back from Kafka and checked against the contract."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from referral_schemas import parse_event
from referral_schemas.enums import SourceType
from referrals_demo.__main__ import app
from referrals_demo.load import SUBMITTED
from referrals_demo.reconcile import read_records
from servicekit.messaging.admin import TopicLayout, delete_topics, ensure_topics
from typer.testing import CliRunner

pytestmark = pytest.mark.infra


@pytest.fixture
def deployment(kafka_bootstrap, monkeypatch):
    """A deployment's referral.submitted topic under its own TOPIC_PREFIX; returns the topic."""
    prefix = f"load{uuid.uuid4().hex[:8]}."
    topic = prefix + SUBMITTED
    asyncio.run(ensure_topics(kafka_bootstrap, [TopicLayout(topic, 12)]))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("TOPIC_PREFIX", prefix)
    yield topic
    asyncio.run(asyncio.wait_for(delete_topics(kafka_bootstrap, [topic]), 30))


def _submissions(bootstrap: str, topic: str):
    records = asyncio.run(read_records(bootstrap, topic))
    return [(r.key, parse_event(r.value)) for r in records]


def test_each_load_publishes_exactly_its_count_of_new_valid_submissions(deployment, kafka_bootstrap):
    first = CliRunner().invoke(app, ["load", "--count", "25", "--rate", "500"])
    second = CliRunner().invoke(app, ["load", "--count", "15"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert f"Sent 25 referral.submitted events to {deployment}" in first.output
    assert f"Sent 15 referral.submitted events to {deployment}" in second.output
    submissions = _submissions(kafka_bootstrap, deployment)
    assert len(submissions) == 40
    assert {e.event_type for _, e in submissions} == {"referral.submitted"}
    assert len({e.event_id for _, e in submissions}) == 40
    # Keyed as referrer systems key them, and each load's referrals are new ones (no resubmissions).
    assert all(
        key == f"{e.data.source_system}:{e.data.source_referral_id}".encode() for key, e in submissions
    )
    assert len({(e.data.source_system, e.data.source_referral_id) for _, e in submissions}) == 40
    # Each load names one of its referrals for `referrals trace`.
    named = [line.rsplit(" ", 1)[1] for line in first.output.splitlines() if "referrals trace" in line]
    assert len(named) == 1 and named[0].encode() in {key for key, _ in submissions}


def test_a_load_from_one_kind_of_referrer_sends_only_its_referrals(deployment, kafka_bootstrap):
    result = CliRunner().invoke(app, ["load", "--count", "12", "--source", "hospital_discharge"])

    assert result.exit_code == 0, result.output
    submissions = _submissions(kafka_bootstrap, deployment)
    assert len(submissions) == 12
    assert {e.data.source_type for _, e in submissions} == {SourceType.HOSPITAL_DISCHARGE}


def test_a_load_to_a_prefix_without_topics_fails_naming_the_topic(kafka_bootstrap, monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("TOPIC_PREFIX", f"absent{uuid.uuid4().hex[:8]}.")

    result = CliRunner().invoke(app, ["load", "--count", "5"])

    assert result.exit_code == 1
    assert "absent" in result.output and "referral.submitted.v1' does not exist" in result.output
