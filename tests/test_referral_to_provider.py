"""End to end through the four services running as processes on real Kafka and PostgreSQL: a GP's
referral published to Kafka becomes an assignment delivered to a provider, the provider accepts
it over HTTP, the GP hears every step, and outcomes records the milestone de-identified."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from outcomes.domain.episode_key import episode_key
from outcomes.settings import LOCAL_EPISODE_KEY_SECRET
from referral_schemas import dump_event, new_envelope, referral_id_for
from referral_schemas.events.referral import ReferralSubmitted
from referral_schemas.examples import example
from referral_schemas.registry import ReferralSubmittedV1
from servicekit.testing import reset_schema, with_changes

pytestmark = pytest.mark.infra

TRACED = ("INTAKE", "TRIAGE", "NOTIFY", "OUTCOMES")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _wait_ready(port: int, proc: subprocess.Popen[str]) -> None:
    async with httpx.AsyncClient() as client, asyncio.timeout(60):
        while proc.poll() is None:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"service exited with {proc.returncode}")


async def test_a_gp_referral_on_kafka_becomes_a_provider_assignment_and_a_status_trail(
    test_database_url, kafka_bootstrap, isolated_topic_prefix, tmp_path
):
    prefix = isolated_topic_prefix
    for service in ("referral-intake", "triage", "provider-notify", "outcomes"):
        reset_schema(test_database_url, service)
    base_env = os.environ | {
        "DATABASE_URL": test_database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TOPIC_PREFIX": prefix,
        "INTAKE_ACCEPT_TEST_NHS_NUMBERS": "true",
        "NOTIFY_API_KEYS": json.dumps({"active-leicester": hashlib.sha256(b"leicester-token").hexdigest()}),
    }
    ports = {
        "referral_intake": _free_port(),
        "triage": _free_port(),
        "provider_notify": _free_port(),
        "outcomes": _free_port(),
    }
    procs = {
        module: subprocess.Popen(
            [sys.executable, "-m", module],
            env=base_env
            | {
                "INTAKE_HTTP_PORT": str(ports["referral_intake"]),
                "TRIAGE_HTTP_PORT": str(ports["triage"]),
                "NOTIFY_HTTP_PORT": str(ports["provider_notify"]),
                "OUTCOMES_HTTP_PORT": str(ports["outcomes"]),
                # Each service writes its spans to a file of its own.
                **{f"{p}_TRACE_EXPORTER": f"jsonl:{tmp_path / p.lower()}.jsonl" for p in TRACED},
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # an unread pipe would fill and stall the service
            text=True,
        )
        for module in ports
    }
    try:
        for module, port in ports.items():
            await _wait_ready(port, procs[module])
        doc = with_changes(
            example("referral.submitted").data.model_dump(mode="json"),
            {"source_referral_id": f"E2E-{uuid.uuid4().hex[:10]}"},
        )
        submission = new_envelope(
            ReferralSubmittedV1,
            ReferralSubmitted.model_validate_json(json.dumps(doc)),
            producer="emis-web",
            referral_id=None,
        )
        rid = referral_id_for(submission.data.source_system, submission.data.source_referral_id)
        episode = episode_key(LOCAL_EPISODE_KEY_SECRET.encode(), rid)
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                prefix + "referral.submitted.v1", dump_event(submission), key=b"emis:e2e"
            )
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            prefix + "assignment.created.v1",
            prefix + "assignment.delivered.v1",
            prefix + "referral.status.v1",
            prefix + "outcome.recorded.v1",
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
            group_id=f"e2e-{uuid.uuid4().hex[:6]}",
        )
        await consumer.start()
        seen: dict[str, list[dict]] = {
            "assignment.created": [],
            "assignment.delivered": [],
            "referral.status": [],
            "outcome.recorded": [],
        }

        async def until(done) -> None:
            async with asyncio.timeout(60):
                while not done():
                    for records in (await consumer.getmany(timeout_ms=500)).values():
                        for r in records:
                            event = json.loads(r.value)
                            ours = event["referral_id"] == str(rid) or (
                                event["event_type"] == "outcome.recorded"
                                and event["data"]["episode_id"] == episode
                            )
                            if ours:
                                seen[event["event_type"]].append(event)

        def statuses() -> list[str]:
            return [s["data"]["status"] for s in seen["referral.status"]]

        try:
            await until(lambda: seen["assignment.delivered"] and "assigned" in statuses())
            assignment = seen["assignment.created"][0]["data"]
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
                    f"http://127.0.0.1:{ports['provider_notify']}/providers/{assignment['provider_id']}/responses",
                    json=accepted,
                    headers={"Authorization": "Bearer leicester-token"},
                )
            assert answer.status_code == 200, answer.text
            await until(lambda: "accepted_by_provider" in statuses() and seen["outcome.recorded"])
        finally:
            await consumer.stop()
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            proc.communicate(timeout=30)

    assignment = seen["assignment.created"][0]
    assert assignment["data"]["provider_id"] == "active-leicester"
    assert seen["assignment.delivered"][0]["data"]["channel"] == "kafka"
    assert assignment["data"]["contact"]["nhs_number"] == "9990000018"
    assert assignment["correlation_id"] == str(submission.correlation_id)  # one journey end to end
    assert statuses()[:5] == ["received", "accepted", "triaged", "assigned", "accepted_by_provider"]
    [outcome] = seen["outcome.recorded"]
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
