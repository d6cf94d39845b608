"""Faults survived: the four services as processes on real Kafka and PostgreSQL, each killed with
SIGKILL at random moments while 20,000 referrals flow, restarted, and the run reconciled —
nothing lost, nothing duplicated, KPIs equal to a recomputation. Loopback only, bounded in time.

The counts of each run are printed (run with -s to see them) and recorded in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import time
from collections import Counter

import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from referral_schemas import dump_event
from referrals_demo.population import referrals
from referrals_demo.providers import Providers
from referrals_demo.reconcile import Report, reconcile
from referrals_demo.run import SERVICES, Demo, Ports
from rich.console import Console

pytestmark = pytest.mark.infra

REFERRALS = int(os.environ.get("FAULT_TEST_REFERRALS", "20000"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _submit(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, max_batch_size=512 * 1024)
    await producer.start()
    try:
        for event in referrals(count, seed=99):
            key = f"{event.data.source_system}:{event.data.source_referral_id}".encode()
            await producer.send(topic, dump_event(event), key=key)
        await producer.flush()
    finally:
        await producer.stop()


async def _kill_in_turn(demo: Demo, rng: random.Random, rounds: int, kills: Counter[str]) -> None:
    """Each service in turn, `rounds` times: SIGKILL at a random moment, restart a moment later."""
    for _ in range(rounds):
        for service, _, _ in SERVICES:
            await asyncio.sleep(rng.uniform(1.0, 4.0))
            os.kill(demo.procs[service].pid, signal.SIGKILL)
            demo.procs[service].wait()
            kills[service] += 1
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            demo.launch(service)


async def _settled(demo: Demo, database_url: str, bootstrap: str, timeout_s: float) -> Report:
    """Reconcile until every check passes (the run has drained) or the time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        report = await reconcile(database_url, bootstrap, demo.prefix, expect_final=False)
        if report.ok or time.monotonic() > deadline:
            return report
        await asyncio.sleep(5)


def test_killing_each_service_at_random_loses_and_duplicates_nothing(
    test_database_url, kafka_bootstrap, monkeypatch, tmp_path
):
    monkeypatch.setenv("DATABASE_URL", test_database_url)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    ports = Ports(*(_free_port() for _ in range(5)))
    demo = Demo(REFERRALS, 0, ports, Console(quiet=True), home=tmp_path)
    rng = random.Random(int(time.time()))
    kills: Counter[str] = Counter()
    # The webhook providers' endpoint: takes deliveries (and their repeats), answers nothing.
    receiver = Providers("http://unused", "http://unused", play=False)

    async def run() -> Report:
        server = uvicorn.Server(
            uvicorn.Config(receiver.webhook_app(), host="127.0.0.1", port=ports.providers, log_config=None)
        )
        serving = asyncio.create_task(server.serve())
        try:
            await demo.wait_ready()
            submitting = asyncio.create_task(
                _submit(kafka_bootstrap, demo.prefix + "referral.submitted.v1", REFERRALS)
            )
            await _kill_in_turn(demo, rng, rounds=2, kills=kills)
            await submitting
            await demo.wait_ready()
            return await _settled(demo, test_database_url, kafka_bootstrap, timeout_s=600)
        finally:
            server.should_exit = True
            await serving

    demo.start_services()
    try:
        report = asyncio.run(run())
    finally:
        demo.stop_services()
        asyncio.run(receiver.close())
    print(f"\nreferrals {REFERRALS}, kills {dict(kills)}, restarts {sum(kills.values())}")
    for c in report.checks:
        print(f"  {'ok' if c.ok else 'FAILED'}  {c.name}: {c.detail}")
    print(f"  statuses: {dict(report.statuses)}")
    assert report.ok, [c for c in report.checks if not c.ok]
    assert sum(kills.values()) == 2 * len(SERVICES)
