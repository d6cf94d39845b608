"""Running one service as its own process under load: the shared part of the service benchmarks.

The service is built exactly as its `python -m` entry point builds it, against the benchmark
database and its own copy of every topic (a fresh TOPIC_PREFIX), so nothing reaches the local
stack's topics. Throughput is timed by the database clock, from the first transaction that
applied an input to the last output the relay marked sent; latency from an input record's
timestamp to the timestamp of the output it caused.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder
from referral_schemas import Envelope, dump_event
from referral_schemas.topics import Party, topics_consumed_by, topics_produced_by
from servicekit.db.relay import KeyPartitions
from servicekit.messaging.admin import TopicLayout, delete_topics, ensure_topics
from servicekit.service import run_loop
from servicekit.settings import InfraSettings
from servicekit.stack.control import platform_topics
from servicekit.testing import reset_schema

from bench.common import cpu_s, kafka_pid, peak_rss_mb, postgres_cpu_s


@dataclass(frozen=True)
class Target:
    service: str  # e.g. "triage"
    module: str  # e.g. "triage"
    env_prefix: str  # e.g. "TRIAGE"
    input_topic: str
    answer_topics: tuple[str, ...]
    done_sql: str  # counts inputs fully handled, for the child to know when to stop
    extra_env: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------- the service (child process)
async def serve_until_done(module: str, done_sql: str, expect: int) -> dict[str, Any]:
    service = importlib.import_module(f"{module}.bootstrap").bootstrap()
    await service.start()
    try:
        await _until_assigned(service)
        print(READY, flush=True)
        ready = os.times()
        conn = await asyncpg.connect(service.dsn)
        try:
            # Once a second: the count scans the table the service is writing, on the cores it is
            # measured on (up to 15 ms at 20,000 referrals; four times a second in each of two
            # instances took about 3% of the machine's CPU in a run), and the time measured comes
            # from the rows' own timestamps, not from when this loop notices the end.
            while await conn.fetchval(done_sql) < expect or await conn.fetchval(
                "SELECT count(*) FROM outbox"
            ):
                await asyncio.sleep(1.0)
            done = os.times()
            elapsed = await conn.fetchval(
                "SELECT extract(epoch FROM (SELECT last_published_at FROM outbox_relay)"
                " - (SELECT min(received_at) FROM inbox))::float8"
            )
        finally:
            await conn.close()
    finally:
        await service.stop()
    cpu = done.user - ready.user + done.system - ready.system
    return {"elapsed_s": elapsed, "inputs": expect, "rss_mb": peak_rss_mb(), "cpu_s": cpu}


READY = "consuming"


async def _until_assigned(service: Any, timeout_s: float = 60) -> None:
    """Until each of the service's consumers has partitions: a paced run starts its clock then,
    not after a fixed pause that a slow start-up (a broker just restarted) could outlast."""
    async with asyncio.timeout(timeout_s):
        while not all(
            sub.consumer is not None and sub.consumer.assignment() for sub in service.broker.subscribers
        ):
            await asyncio.sleep(0.05)


def child_main(argv: list[str]) -> None:
    module, done_sql, expect = argv
    # On the loop the service's own entry point runs it on.
    print(json.dumps(run_loop(serve_until_done(module, done_sql, int(expect)))), flush=True)


# ---------------------------------------------------------------- the orchestrator
def records_of(events: Iterable[Envelope[Any]]) -> list[tuple[bytes, bytes]]:
    """The events as (key, value) records, serialised before any clock starts: a group's backlog
    is produced while its instances run, and building the events there took CPU from them."""
    return [(str(e.referral_id or e.event_id).encode(), dump_event(e)) for e in events]


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]], rate: float | None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    if rate is None:
        await _send_backlog(producer, topic, records)
        await producer.stop()
        return
    start = time.perf_counter()
    pending = []
    for i, (key, value) in enumerate(records):
        pending.append(await producer.send(topic, value, key=key))
        if rate:
            delay = start + (i + 1) / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
    await asyncio.gather(*pending)
    await producer.stop()


async def _send_backlog(producer: AIOKafkaProducer, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    """The records as whole record batches per partition, all built before the first is sent: a
    backlog for instances already running is produced while they are measured, on the same
    cores. For 20,000 referrals a send() per record took this process 0.55-0.69 s of CPU, whole
    batches 0.35-0.41 s, most of it before anything is sent."""
    keys = KeyPartitions(producer)
    await keys.look_up([topic])
    batches: list[tuple[int, BatchBuilder]] = []
    open_batches: dict[int, BatchBuilder] = {}
    for key, value in records:
        partition = keys.of(topic, key)
        batch = open_batches.get(partition)
        if batch is None or batch.append(key=key, value=value, timestamp=None) is None:
            batch = open_batches[partition] = producer.create_batch()
            batch.append(key=key, value=value, timestamp=None)
            batches.append((partition, batch))
    sent = [await producer.send_batch(batch, topic, partition=partition) for partition, batch in batches]
    await asyncio.gather(*sent)


async def answer_times(
    bootstrap: str,
    inputs: str,
    answers: list[str],
    count: int,
    cause_of: Callable[[dict[str, Any]], str] = lambda d: d["causation_id"],
    sent_times: dict[str, int] | None = None,
) -> list[tuple[int, float]]:
    """For each input record answered: its timestamp, and the milliseconds to the first answer
    naming it as its cause. `sent_times`, if given, gets each input's timestamp by event id."""

    async def read(topics: list[str], key_of: Callable[[dict[str, Any]], str], want: int) -> dict[str, int]:
        c = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=f"lat-{uuid.uuid4().hex[:6]}",
        )
        await c.start()
        out: dict[str, int] = {}
        try:
            async with asyncio.timeout(120):
                while len(out) < want:
                    for rs in (await c.getmany(timeout_ms=500)).values():
                        for r in rs:
                            out.setdefault(key_of(json.loads(r.value)), r.timestamp)
        finally:
            await c.stop()
        return out

    sent = await read([inputs], lambda d: d["event_id"], count)
    if sent_times is not None:
        sent_times.update(sent)
    answered = await read(answers, cause_of, count)
    return [(sent[k], float(answered[k] - sent[k])) for k in sent if k in answered]


def add_group_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a benchmark's service group: how many instances, after how many warm-ups."""
    parser.add_argument("--processes", type=int, default=1, help="service instances in the group")
    parser.add_argument(
        "--warm-up-runs",
        type=int,
        default=1,
        help="unmeasured runs of the same work first, while the broker and database warm up",
    )


def warm_up_line(args: argparse.Namespace) -> str:
    return f"measured after {args.warm_up_runs} unmeasured run(s) of the same work"


def latencies(timed: list[tuple[int, float]], after_s: float = 0) -> list[float]:
    """The latencies of `answer_times`, sorted; with `after_s`, only of inputs sent that long
    after the first (past the warm-up)."""
    start = min((t for t, _ in timed), default=0) + after_s * 1000
    return sorted(ms for t, ms in timed if t >= start)


def service_topics(prefix: str, service: str) -> list[TopicLayout]:
    """The topics `service` reads or writes, with the dead-letter topics of those it reads. All
    the platform's 148 partitions took the broker 1.2 s of CPU to create, and about 0.7 s more
    when a run's topics are deleted (a minute later, within a later run), on the cores measured."""
    party = Party(service)
    consumed = topics_consumed_by(party)
    names = {t.name for t in (*consumed, *topics_produced_by(party))} | {t.dlq for t in consumed if t.dlq}
    return [layout for layout in platform_topics(prefix) if layout.name.removeprefix(prefix) in names]


def run_once(
    target: Target,
    admin: str,
    events: Callable[[], Iterable[Envelope[Any]]],
    count: int,
    rate: float | None,
    prepare: Callable[[str], None] | None = None,
    processes: int = 1,
    warm_up_runs: int = 0,
) -> dict[str, Any]:
    """One measurement on fresh topics and a fresh schema: backlog (rate None) or paced.
    `prepare(admin_url)` runs on the fresh schema first (state the inputs need). With several
    `processes`, that many instances of the service share the work as one consumer group; their
    input is produced once all of them hold partitions. `warm_up_runs` of the same work go first,
    unmeasured: a broker just started compiles its hot paths as it goes, and in the first
    outcomes run after a restart that took 0.044-0.051 ms of its CPU an event, against
    0.012-0.022 once it had run a few, on the two cores the service is measured on."""
    for _ in range(warm_up_runs):
        run_once(target, admin, events, count, rate, prepare, processes)
    bootstrap = InfraSettings().kafka_bootstrap_servers
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    layouts = service_topics(prefix, target.service)
    asyncio.run(ensure_topics(bootstrap, layouts))
    reset_schema(admin, target.service)
    if prepare is not None:
        prepare(admin)
    env = os.environ | {
        "DATABASE_URL": admin,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "TOPIC_PREFIX": prefix,
        f"{target.env_prefix}_HTTP_PORT": "0",
        f"{target.env_prefix}_LOG_LEVEL": "WARNING",
        **dict(target.extra_env),
    }
    command = [sys.executable, "-m", "bench.service_bench", target.module, target.done_sql, str(count)]
    # A group of instances gets its backlog once every instance holds partitions: the broker
    # hands all partitions to the first member to join at once, so a backlog waiting for them
    # was mostly drained by whichever instance started first (11 batches against 32).
    produce_first = rate is None and processes == 1
    records = records_of(events())
    try:
        if produce_first:
            asyncio.run(produce(bootstrap, prefix + target.input_topic, records, None))
        broker = kafka_pid()
        before = {"postgres": postgres_cpu_s(), "kafka broker": cpu_s(broker) if broker else 0.0}
        procs = [
            subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) for _ in range(processes)
        ]
        if not produce_first:
            for proc in procs:  # every instance migrated, started and holding partitions
                assert proc.stdout is not None
                while (line := proc.stdout.readline()) and line.strip() != READY:
                    pass
                if not line:
                    raise RuntimeError(f"the {target.service} process exited before consuming")
            asyncio.run(produce(bootstrap, prefix + target.input_topic, records, rate))
        results = []
        for proc in procs:
            out, _ = proc.communicate(timeout=1800)
            if proc.returncode != 0:
                raise RuntimeError(f"the {target.service} process failed (exit {proc.returncode})")
            results.append(json.loads(out.strip().splitlines()[-1]))
        after = {"postgres": postgres_cpu_s(), "kafka broker": cpu_s(broker) if broker else 0.0}
        # Every instance times the same database clock; the one that stopped last saw it all.
        result: dict[str, Any] = max(results, key=lambda r: r["elapsed_s"])
        result["rss_mb"] = max(r["rss_mb"] for r in results)
        # The service's own from holding partitions to done; the database's and the broker's
        # from the processes' start (their migrations and joins too, a small part).
        result["cpu_s"] = {target.service: sum(r["cpu_s"] for r in results)} | {
            name: after[name] - before[name] for name in after
        }
        if rate is not None:
            answers = [prefix + t for t in target.answer_topics]
            # When each input was produced (its record's timestamp, in ms), by event id: paced
            # inputs are built before the clock starts, so the time one was built says nothing.
            result["sent_ms"] = sent_ms = {}
            timed = asyncio.run(
                answer_times(bootstrap, prefix + target.input_topic, answers, count, sent_times=sent_ms)
            )
            result["latencies"] = latencies(timed)
            # The service has just started: its first second pays for first statements on new
            # connections and first sends to each partition.
            result["steady_latencies"] = latencies(timed, after_s=1)
        return result
    finally:
        asyncio.run(delete_topics(bootstrap, [t.name for t in layouts]))


if __name__ == "__main__":
    child_main(sys.argv[1:])
