"""`referrals trace`: one referral's journey read back from the four services' own tables,
after a small demo run on real Kafka and PostgreSQL with the services as processes (tracing on)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from referral_schemas import referral_id_for
from referrals_demo.__main__ import app
from referrals_demo.population import referrals
from referrals_demo.run import Demo, Ports
from referrals_demo.trace import reminder_state
from rich.console import Console
from typer.testing import CliRunner

SERVICES = ("referral-intake", "triage", "provider-notify", "outcomes")
TRACED = {"INTAKE": "intake", "TRIAGE": "triage", "NOTIFY": "notify", "OUTCOMES": "outcomes"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_run(test_database_url, kafka_bootstrap, tmp_path_factory):
    """A dozen referrals taken to their final states (one rejected by intake), the services
    tracing to files and outcomes keying episodes with a secret of its own."""
    home = tmp_path_factory.mktemp("trace-demo")
    env = {
        "DATABASE_URL": test_database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "OUTCOMES_EPISODE_KEY_SECRET": "trace-test-episode-secret",
        **{f"{p}_TRACE_EXPORTER": f"jsonl:{home / f'spans-{name}.jsonl'}" for p, name in TRACED.items()},
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        demo = Demo(12, 50.0, Ports(*(_free_port() for _ in range(5))), Console(quiet=True), home=home)
        demo.start_services()
        try:
            asyncio.run(demo.wait_ready())
            asyncio.run(demo.play())
        finally:
            demo.stop_services()
        yield demo, home, env


def _trace(env: dict[str, str], *args: str):
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        return CliRunner().invoke(app, ["trace", *args])


def _exported_trace_ids(home: Path) -> set[str]:
    ids = set()
    for spans in home.glob("spans-*.jsonl"):
        for line in spans.read_text().splitlines():
            ids.add(json.loads(line)["context"]["trace_id"].removeprefix("0x"))
    return ids


@pytest.mark.infra
def test_trace_shows_each_services_part_of_a_referral_that_went_through_the_pipeline(demo_run):
    demo, home, env = demo_run
    key = next(k for k, s in sorted(demo.statuses.items()) if s in {"completed", "closed"})
    source_system, source_referral_id = key.split(":", 1)

    result = _trace(env, key, "--json")

    assert result.exit_code == 0, result.output
    journey = json.loads(result.output)
    assert journey["found"] is True
    assert journey["referral_id"] == str(referral_id_for(source_system, source_referral_id))
    intake, triage, notify, outcomes = (journey["services"][s] for s in SERVICES)
    # intake: the referral and its status history, from submission to its final state.
    assert intake["referral"]["status"] == demo.statuses[key]
    statuses = [h["status"] for h in intake["status_history"]]
    assert statuses[:2] == ["received", "accepted"] and statuses[-1] == demo.statuses[key]
    assert "assigned" in statuses
    # triage: the decision (programme, rule version) and the placement(s) with their providers.
    decision = triage["referral"]["decision"]
    assert decision["decision"] == "assign" and decision["programme"] and decision["rule_version"]
    placements = triage["placements"]
    assert placements and all(p["provider_id"] for p in placements)
    # provider-notify: each placement's assignment, delivered, with the provider's responses.
    assert [a["assignment_id"] for a in notify["assignments"]] == [p["assignment_id"] for p in placements]
    final = notify["assignments"][-1]
    assert final["delivery_state"] == "delivered"
    assert final["provider_id"] == placements[-1]["provider_id"]
    assert {"accepted", "closed"} <= {r["response"] for r in final["responses"]}
    # Its reminder is judged as notify's timers would judge it now: no longer wanted, and why.
    assert final["reminder"]["open"] is False
    assert final["reminder"]["closed_reason"] == f"assignment {final['stage']}"
    # outcomes: the episode found under outcomes' own key (its secret from OUTCOMES_EPISODE_KEY_SECRET).
    assert outcomes["episode_id"] == journey["episode_id"]
    assert outcomes["episode"]["profile"]["programme"] == decision["programme"]
    assert outcomes["episode"]["profile"]["provider_id"] == placements[-1]["provider_id"]
    assert outcomes["episode"]["milestones"]["closed_on"] is not None
    # One timeline, in time order, with every service in it.
    times = [datetime.fromisoformat(s["at"]) for s in journey["timeline"]]
    assert times == sorted(times)
    assert {s["service"] for s in journey["timeline"]} == set(SERVICES)
    assert journey["timeline"][0]["what"] == "status received"
    # The trace ids stored with the assignments are the referral's real traces.
    assert journey["trace_ids"]
    assert set(journey["trace_ids"]) <= _exported_trace_ids(home)
    # Nothing that identifies the patient is shown (the demo's population is reproducible).
    patient = next(e.data.patient for e in referrals(12) if e.data.source_referral_id == source_referral_id)
    for identifier in (patient.nhs_number, patient.family_name, patient.phone, patient.email):
        assert identifier not in result.output


@pytest.mark.infra
def test_trace_prints_the_journey_as_tables_naming_every_service_and_the_trace_id(demo_run):
    demo, _, env = demo_run
    key = next(k for k, s in sorted(demo.statuses.items()) if s in {"completed", "closed"})
    journey = json.loads(_trace(env, key, "--json").output)

    result = _trace(env, journey["referral_id"])

    assert result.exit_code == 0, result.output
    for service in SERVICES:
        assert service in result.output
    assert journey["services"]["triage"]["placements"][-1]["provider_id"] in result.output
    assert journey["services"]["triage"]["referral"]["decision"]["rule_version"] in result.output
    assert f"Trace id(s): {journey['trace_ids'][0]}" in result.output


@pytest.mark.infra
def test_trace_of_a_rejected_referral_shows_intakes_reasons_and_nothing_downstream(demo_run):
    demo, _, env = demo_run
    key = next(k for k, s in demo.statuses.items() if s == "rejected")

    result = _trace(env, key, "--json")

    assert result.exit_code == 0, result.output
    journey = json.loads(result.output)
    intake = journey["services"]["referral-intake"]
    assert intake["referral"]["status"] == "rejected"
    assert intake["status_history"][-1]["reasons"][0]["code"]
    assert [journey["services"][s] for s in SERVICES[1:]] == [None, None, None]


@pytest.mark.infra
def test_trace_of_an_unknown_referral_says_so_and_exits_non_zero(test_database_url):
    unknown = f"emis-web:NO-SUCH-{uuid.uuid4().hex[:8]}"

    # Through the operator's command, as `referrals trace` runs it.
    done = subprocess.run(
        [sys.executable, "-m", "servicekit.cli", "trace", unknown],
        env=os.environ | {"DATABASE_URL": test_database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1
    assert f"({unknown}) is not known to any service" in done.stderr
    assert done.stdout == ""


def test_trace_refuses_an_argument_that_names_no_referral():
    result = CliRunner().invoke(app, ["trace", "not-a-referral"])

    assert result.exit_code == 2
    assert "neither a referral id (a UUID) nor source_system:source_referral_id" in result.output


def test_a_waiting_reminder_on_an_answered_assignment_reads_as_one_that_will_not_be_sent():
    closed = {"state": "waiting", "open": False, "closed_reason": "assignment accepted"}
    assert reminder_state(closed) == "waiting, will not be sent: assignment accepted"
    assert reminder_state(closed | {"open": True}) == "waiting"
    assert reminder_state(closed | {"state": "not_needed"}) == "not_needed"
