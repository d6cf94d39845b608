"""End to end through the four services running as processes on real Kafka and PostgreSQL: a GP's
referral published to Kafka becomes an assignment delivered to a provider, the provider accepts
it over HTTP, the GP hears every step, and outcomes records the milestone de-identified."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import httpx
import pytest
from outcomes.domain.episode_key import episode_key
from outcomes.settings import LOCAL_EPISODE_KEY_SECRET
from referral_schemas import referral_id_for

pytestmark = pytest.mark.infra

TRACED = ("INTAKE", "TRIAGE", "NOTIFY", "OUTCOMES")
FIRST_PORT = 28100  # this file's HTTP ports: the first four free from here (see tests/conftest.py)


async def test_a_gp_referral_on_kafka_becomes_a_provider_assignment_and_a_status_trail(
    four_services, tmp_path
):
    env = {
        "NOTIFY_API_KEYS": json.dumps({"active-leicester": hashlib.sha256(b"leicester-token").hexdigest()}),
        # Each service writes its spans to a file of its own.
        **{f"{p}_TRACE_EXPORTER": f"jsonl:{tmp_path / p.lower()}.jsonl" for p in TRACED},
    }
    async with four_services(env, first_port=FIRST_PORT) as services:
        submission = await services.gp_submits()
        rid = referral_id_for(submission.data.source_system, submission.data.source_referral_id)
        episode = episode_key(LOCAL_EPISODE_KEY_SECRET.encode(), rid)

        def ours(event: dict) -> bool:
            return event["referral_id"] == str(rid) or (
                event["event_type"] == "outcome.recorded" and event["data"]["episode_id"] == episode
            )

        topics = (
            "assignment.created.v1",
            "assignment.delivered.v1",
            "referral.status.v1",
            "outcome.recorded.v1",
        )
        async with services.journey(topics, ours) as seen:
            await seen.until(lambda: seen["assignment.delivered.v1"] and "assigned" in seen.statuses())
            assignment = seen["assignment.created.v1"][0]["data"]
            accepted = {
                "response_id": "lcl-e2e-1",
                "assignment_id": assignment["assignment_id"],
                "provider_id": assignment["provider_id"],
                "response": "accepted",
                # After the referral: outcomes refuses milestones dated before it.
                "recorded_at": datetime.now(UTC).isoformat(),
            }
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    f"{services.url('provider_notify')}/providers/{assignment['provider_id']}/responses",
                    json=accepted,
                    headers={"Authorization": "Bearer leicester-token"},
                )
            assert answer.status_code == 200, answer.text
            await seen.until(
                lambda: "accepted_by_provider" in seen.statuses() and seen["outcome.recorded.v1"]
            )
    # The services have stopped, so their spans are all written.

    assignment = seen["assignment.created.v1"][0]
    assert assignment["data"]["provider_id"] == "active-leicester"
    assert seen["assignment.delivered.v1"][0]["data"]["channel"] == "kafka"
    assert assignment["data"]["contact"]["nhs_number"] == "9990000018"
    assert assignment["correlation_id"] == str(submission.correlation_id)  # one journey end to end
    assert seen.statuses()[:5] == ["received", "accepted", "triaged", "assigned", "accepted_by_provider"]
    [outcome] = seen["outcome.recorded.v1"]
    assert outcome["data"]["milestone"] == "accepted"
    assert outcome["data"]["provider_id"] == "active-leicester"
    assert outcome["referral_id"] is None and str(rid) not in json.dumps(outcome)

    # One referral, one trace: every service's spans about it share the trace the GP's event began.
    spans = [
        json.loads(line)
        for p in TRACED
        for line in (tmp_path / f"{p.lower()}.jsonl").read_text().splitlines()
    ]
    ours = [s for s in spans if s["attributes"].get("referral.id") == str(rid)]
    services = {s["resource"]["attributes"]["service.name"] for s in ours}
    assert services == {"referral-intake", "triage", "provider-notify", "outcomes"}
    assert len({s["context"]["trace_id"] for s in ours}) == 1
