"""The main job end to end: `make demo`'s run on real Kafka and PostgreSQL with the four services
as processes — referrals from every source reach a final state, providers on both channels work
them through, and outcomes reports KPIs for the programmes."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

import httpx
import psycopg
import pytest
from referrals_demo.reconcile import reconcile
from referrals_demo.run import FINAL, Demo, Ports
from rich.console import Console

pytestmark = pytest.mark.infra


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_demo_takes_every_referral_to_a_final_state_and_reports_kpis(
    test_database_url, kafka_bootstrap, monkeypatch, tmp_path
):
    monkeypatch.setenv("DATABASE_URL", test_database_url)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    ports = Ports(*(_free_port() for _ in range(5)))
    demo = Demo(120, 60.0, ports, Console(quiet=True), home=tmp_path)
    demo.start_services()
    try:
        asyncio.run(demo.wait_ready())
        providers = asyncio.run(demo.play())
        cells = httpx.get(f"http://127.0.0.1:{ports.outcomes}/kpis", params={"by": "programme"}).json()[
            "cells"
        ]
        dashboard = httpx.get(f"http://127.0.0.1:{ports.outcomes}/dashboard")
        report = asyncio.run(reconcile(test_database_url, kafka_bootstrap, demo.prefix, expect_final=True))
    finally:
        demo.stop_services()

    assert report.ok, [c for c in report.checks if not c.ok]
    assert len(demo.statuses) == 120
    assert set(demo.statuses.values()) <= FINAL
    ends = Counter(demo.statuses.values())
    assert ends["completed"] > 0 and ends["closed"] > 0
    assert ends["rejected"] > 0  # the population's deliberate mistakes, answered with reasons
    sources = {
        key.split(":")[0] for key, status in demo.statuses.items() if status in {"completed", "closed"}
    }
    assert sources == {"emis-web", "systmone", "elemental-sp", "uhl-discharge"}
    assert set(providers.tally.taken) == {"kafka", "webhook"}
    assert providers.tally.refused == []
    assert sum(providers.tally.outcomes.values()) == sum(providers.tally.taken.values())
    programmes = {c["dimension_value"] for c in cells if c["kpi"] == "uptake"}
    assert len(programmes) >= 6
    assert dashboard.status_code == 200 and "Uptake and completion by programme" in dashboard.text

    with psycopg.connect(test_database_url) as conn:
        # Every decline was answered: the referral went to its next provider (a later placement)
        # or, where no other service near the patient offers its programme with room, back to
        # the referrer with that reason. Which referrals the providers decline depends on the
        # order their work interleaves, so either answer may be the only one in a run.
        declines = conn.execute(
            "SELECT p.referral_id, r.state, r.decision::jsonb -> 'reasons',"
            " EXISTS (SELECT 1 FROM triage.placements n"
            "         WHERE n.referral_id = p.referral_id AND n.attempt = p.attempt + 1)"
            " FROM triage.placements p JOIN triage.referrals r USING (referral_id)"
            " WHERE p.state = 'declined'"
        ).fetchall()
        assert len(declines) == providers.tally.outcomes["declined"] > 0
        returned_codes = {"placement.no_capacity", "placement.attempts_exhausted"}
        for referral_id, state, reasons, reassigned in declines:
            returned = state == "unplaced" and returned_codes & {r["code"] for r in reasons}
            assert reassigned or returned, (referral_id, state, reasons)
        # Rejected referrals went back to their referrers with machine-readable reasons.
        rejections = conn.execute(
            "SELECT reasons::jsonb FROM intake.status_history WHERE status = 'rejected'"
        ).fetchall()
        assert rejections and all(r[0] and all(reason["code"] for reason in r[0]) for r in rejections)
