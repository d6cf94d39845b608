"""Faults of the infrastructure mid-run: the Kafka broker stopped and restarted, PostgreSQL stopped
and restarted, poison injected on every topic the services consume. The services (as processes)
wait and recover by themselves; the run is reconciled afterwards. Loopback only, bounded in time.

These stop the project's own local broker and database, so they need the local stack (not
KAFKA_BOOTSTRAP_SERVERS/DATABASE_URL pointing elsewhere).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Awaitable, Callable

import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from referral_schemas import dump_event
from referrals_demo.population import referrals
from referrals_demo.providers import Providers
from referrals_demo.reconcile import Report, reconcile
from referrals_demo.run import Demo, Ports
from rich.console import Console
from servicekit.messaging.dlq_tools import list_dead_letters
from servicekit.settings import StackSettings
from servicekit.stack.control import external_infra, log
from servicekit.stack.kafka import LocalKafka
from servicekit.stack.postgres import LocalPostgres

pytestmark = [
    pytest.mark.infra,
    pytest.mark.skipif(
        external_infra(), reason="stops the local broker and database; external ones are not ours"
    ),
]

COUNT = 3000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _submit(bootstrap: str, topic: str, count: int, seed: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, max_batch_size=512 * 1024)
    await producer.start()
    try:
        for event in referrals(count, seed=seed):
            key = f"{event.data.source_system}:{event.data.source_referral_id}".encode()
            await producer.send(topic, dump_event(event), key=key)
        await producer.flush()
    finally:
        await producer.stop()


def _run_with(
    fault: Callable[[Demo, str], Awaitable[None]], database_url: str, bootstrap: str, tmp_path, seed: int
) -> tuple[Report, dict[str, int]]:
    """The run's reconciliation once drained, and the services that exited on their own."""
    ports = Ports(*(_free_port() for _ in range(5)))
    demo = Demo(COUNT, 0, ports, Console(quiet=True), home=tmp_path)
    receiver = Providers("http://unused", "http://unused", play=False)

    async def run() -> Report:
        server = uvicorn.Server(
            uvicorn.Config(receiver.webhook_app(), host="127.0.0.1", port=ports.providers, log_config=None)
        )
        serving = asyncio.create_task(server.serve())
        try:
            await demo.wait_ready()
            await _submit(bootstrap, demo.prefix + "referral.submitted.v1", COUNT, seed)
            await fault(demo, bootstrap)
            deadline = time.monotonic() + 300
            while True:
                report = await reconcile(database_url, bootstrap, demo.prefix, expect_final=False)
                if report.ok or time.monotonic() > deadline:
                    return report
                await asyncio.sleep(5)
        finally:
            server.should_exit = True
            await serving
            await receiver.close()

    demo.start_services()
    try:
        report = asyncio.run(run())
        exited = {s: p.returncode for s, p in demo.procs.items() if p.poll() is not None}
    finally:
        demo.stop_services()
    return report, exited


def _assert_settled(report: Report, exited: dict[str, int]) -> None:
    for c in report.checks:
        print(f"  {'ok' if c.ok else 'FAILED'}  {c.name}: {c.detail}")
    assert report.ok, [c for c in report.checks if not c.ok]
    assert exited == {}, f"services gave up instead of waiting: {exited}"


@pytest.fixture
def env(test_database_url, kafka_bootstrap, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", test_database_url)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    return test_database_url, kafka_bootstrap


def test_the_services_wait_out_a_broker_restart_mid_run(env, tmp_path):
    async def restart_kafka(demo: Demo, bootstrap: str) -> None:
        await asyncio.sleep(2)  # referrals are in flight
        kafka = LocalKafka(StackSettings(), log)
        await asyncio.to_thread(kafka.down)
        await asyncio.sleep(5)
        await asyncio.to_thread(kafka.up)

    _assert_settled(*_run_with(restart_kafka, *env, tmp_path, seed=11))


def test_the_services_wait_out_a_database_restart_mid_run(env, tmp_path):
    async def restart_postgres(demo: Demo, bootstrap: str) -> None:
        await asyncio.sleep(2)
        postgres = LocalPostgres(StackSettings(), log)
        await asyncio.to_thread(postgres.down)
        await asyncio.sleep(5)
        await asyncio.to_thread(postgres.up)

    _assert_settled(*_run_with(restart_postgres, *env, tmp_path, seed=12))


POISON = [
    b"\x00\xffnot json at all",
    b'{"event_type": "referral.submitted", "schema_version": 1}',  # no envelope fields
    json.dumps({"event_id": "not-a-uuid", "event_type": "no.such.event"}).encode(),
    b'{"padding": "' + b"x" * 300_000 + b'"}',  # over the 256 KiB limit
]


def test_poison_on_every_consumed_topic_goes_to_dead_letters_and_the_run_completes(env, tmp_path):
    consumed = sorted(_consumed_topics())
    injected: dict[str, int] = {}

    async def inject(demo: Demo, bootstrap: str) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=1024 * 1024)
        await producer.start()
        try:
            for topic in consumed:
                for i, value in enumerate(POISON):
                    await producer.send_and_wait(demo.prefix + topic, value, key=f"poison-{i}".encode())
                injected[topic] = len(POISON)
        finally:
            await producer.stop()

    prefix: list[str] = []

    async def inject_and_note(demo: Demo, bootstrap: str) -> None:
        prefix.append(demo.prefix)
        await inject(demo, bootstrap)

    _assert_settled(*_run_with(inject_and_note, *env, tmp_path, seed=13))
    _, bootstrap = env
    for topic, n in injected.items():
        letters = asyncio.run(list_dead_letters(bootstrap, prefix[0] + topic, limit=1000))
        poison = [dl for dl in letters if (dl.key or b"").startswith(b"poison-")]
        # Every consumer group of the topic dead-letters each poison record once, with a reason.
        assert len(poison) >= n, (topic, len(poison))
        assert all(dl.reason for dl in poison)


def _consumed_topics() -> set[str]:
    """The topics the four services subscribe to."""
    return {
        "referral.submitted.v1",
        "referral.accepted.v1",
        "referral.triaged.v1",
        "referral.status.v1",
        "assignment.created.v1",
        "assignment.delivered.v1",
        "assignment.declined.v1",
        "assignment.expired.v1",
        "provider.response.v1",
        "provider.activity.v1",
    }
