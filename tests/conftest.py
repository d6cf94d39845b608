"""What the cross-service tests share: the four services as real processes on the local stack
(`four_services`), a GP system publishing to them, and a reader of one referral's events on Kafka.

Each start gets its own copy of every topic (a fresh TOPIC_PREFIX, deleted afterwards) and empty
service schemas, so nothing another test left on the topics or in the tables can reach it.
HTTP ports are taken below the kernel's ephemeral range (32768 and up on Linux), where no
outgoing connection to Kafka or PostgreSQL can be holding one by the time a service binds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from referral_schemas import dump_event, new_envelope
from referral_schemas.events.referral import ReferralSubmitted
from referral_schemas.examples import example
from referral_schemas.registry import ReferralSubmittedV1
from servicekit.messaging.admin import delete_topics, ensure_topics
from servicekit.stack.control import platform_topics
from servicekit.testing import reset_schema, with_changes

# module → its settings' environment prefix, in the order they start
SERVICES = {
    "referral_intake": "INTAKE",
    "triage": "TRIAGE",
    "provider_notify": "NOTIFY",
    "outcomes": "OUTCOMES",
}
EPHEMERAL_PORTS_START = 32768


def local_ports(count: int, first: int) -> list[int]:
    """`count` loopback ports free now, the lowest from `first` up and below the ephemeral range."""
    ports: list[int] = []
    for port in range(first, EPHEMERAL_PORTS_START):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the services' uvicorn binds
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError(f"fewer than {count} free loopback ports from {first} to {EPHEMERAL_PORTS_START - 1}")


def _launch(module: str, env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-m", module], env=env, stdout=out, stderr=subprocess.STDOUT)


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


async def _wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient() as client, asyncio.timeout(60):
        while proc.poll() is None:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{log.stem} exited with {proc.returncode}:\n{_tail(log)}")


def _stop(procs: Collection[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Journey:
    """The events on the run's topics that `ours` picks, read from the beginning, by topic (named
    without the run's prefix, e.g. `journey["assignment.created.v1"]`), and their record keys."""

    def __init__(self, consumer: AIOKafkaConsumer, prefix: str, ours: Callable[[dict[str, Any]], bool]):
        self._consumer, self._prefix, self._ours = consumer, prefix, ours
        self._seen: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self._keys: defaultdict[str, list[str | None]] = defaultdict(list)

    def __getitem__(self, topic: str) -> list[dict[str, Any]]:
        return self._seen[topic]

    def keyed(self, topic: str) -> list[tuple[str | None, dict[str, Any]]]:
        """(record key, event) of each event seen on `topic`, in order."""
        return list(zip(self._keys[topic], self._seen[topic], strict=True))

    def statuses(self) -> list[str]:
        """The referral's statuses as its referrer heard them, in order."""
        return [e["data"]["status"] for e in self._seen["referral.status.v1"]]

    async def until(self, done: Callable[[], object], timeout_s: float = 60) -> None:
        """Read on until `done()` is true; fails, saying what was seen, after `timeout_s`."""
        try:
            async with asyncio.timeout(timeout_s):
                while not done():
                    for records in (await self._consumer.getmany(timeout_ms=500)).values():
                        for r in records:
                            event = json.loads(r.value)
                            if self._ours(event):
                                topic = r.topic.removeprefix(self._prefix)
                                self._seen[topic].append(event)
                                self._keys[topic].append(r.key.decode() if r.key is not None else None)
        except TimeoutError:
            seen = {topic: len(events) for topic, events in self._seen.items()}
            raise AssertionError(
                f"not there after {timeout_s}s; seen {seen}, statuses {self.statuses()}"
            ) from None


@dataclass
class RunningServices:
    prefix: str
    bootstrap: str
    ports: dict[str, int]  # module → HTTP port
    logs: Path

    def url(self, module: str) -> str:
        return f"http://127.0.0.1:{self.ports[module]}"

    async def gp_submits(self, changes: Mapping[str, Any] | None = None) -> ReferralSubmittedV1:
        """EMIS Web publishes the contracts' example GP referral on referral.submitted.v1, under a
        fresh source referral id unless `changes` (dotted paths, see `with_changes`) name one;
        returns the event published. A cancellation is the same referral with action "cancel"."""
        doc = with_changes(
            example("referral.submitted").data.model_dump(mode="json"),
            {"source_referral_id": f"E2E-{uuid.uuid4().hex[:10]}", **(changes or {})},
        )
        submission = new_envelope(
            ReferralSubmittedV1,
            ReferralSubmitted.model_validate_json(json.dumps(doc)),
            producer="emis-web",
            referral_id=None,
        )
        key = f"{submission.data.source_system}:{submission.data.source_referral_id}".encode()
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                self.prefix + "referral.submitted.v1", dump_event(submission), key=key
            )
        finally:
            await producer.stop()
        return submission

    @contextlib.asynccontextmanager
    async def journey(
        self, topics: Collection[str], ours: Callable[[dict[str, Any]], bool]
    ) -> AsyncIterator[Journey]:
        """A reader of `topics` (names without the prefix) keeping the events `ours` picks."""
        consumer = AIOKafkaConsumer(
            *(self.prefix + t for t in topics),
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="earliest",
            group_id=f"e2e-{uuid.uuid4().hex[:6]}",
        )
        await consumer.start()
        try:
            yield Journey(consumer, self.prefix, ours)
        finally:
            await consumer.stop()


FourServices = Callable[..., contextlib.AbstractAsyncContextManager[RunningServices]]


@pytest.fixture
def four_services(test_database_url: str, kafka_bootstrap: str, tmp_path: Path) -> FourServices:
    """`async with four_services(env, first_port=N) as services:` runs referral-intake, triage,
    provider-notify and outcomes as processes (`python -m ...`) on the test database, each from an
    empty schema, and on a fresh copy of every topic; ready when the block starts, stopped
    (SIGTERM, waited for) and the topics deleted when it ends. `env` is added to every service's
    environment; HTTP ports are the first four free from `first_port`. Logs: `services.logs`."""

    @contextlib.asynccontextmanager
    async def start(
        env: Mapping[str, str] | None = None, *, first_port: int
    ) -> AsyncIterator[RunningServices]:
        prefix = f"e2e{uuid.uuid4().hex[:8]}."
        topics = platform_topics(prefix)
        await ensure_topics(kafka_bootstrap, topics)
        for service in ("referral-intake", "triage", "provider-notify", "outcomes"):
            reset_schema(test_database_url, service)
        ports = dict(zip(SERVICES, local_ports(len(SERVICES), first_port), strict=True))
        full_env = (
            os.environ
            | {
                "DATABASE_URL": test_database_url,
                "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "TOPIC_PREFIX": prefix,
                "INTAKE_ACCEPT_TEST_NHS_NUMBERS": "true",  # the contracts' examples use test numbers
            }
            | {f"{SERVICES[m]}_HTTP_PORT": str(port) for m, port in ports.items()}
            | dict(env or {})
        )
        logs = tmp_path / "service-logs"
        logs.mkdir(exist_ok=True)
        procs: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for module in SERVICES:
                procs[module] = _launch(module, full_env, logs / f"{module}.log")
            for module, port in ports.items():
                await _wait_ready(port, procs[module], logs / f"{module}.log")
            yield RunningServices(prefix, kafka_bootstrap, ports, logs)
        finally:
            _stop(procs.values())
            await asyncio.wait_for(delete_topics(kafka_bootstrap, [t.name for t in topics]), 60)

    return start
