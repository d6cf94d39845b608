"""One hop through the service kit against a bare aiokafka → asyncpg → aiokafka loop.

    uv run python -m bench.kit_hop [--events 60000] [--rate 1000] [--seconds 10] [--rounds 5]

Both hops run as separate processes on the same input, one after the other, against the local
stack. Throughput: a backlog of N events, timed from the first record consumed to the last
output acknowledged; bare and kit take turns for several rounds, because one run on this shared
machine can be a third faster or slower than the next, and the median of each is reported with
its range and the median of the per-round ratios. Latency: events produced at a steady rate while the hop runs, measured
from the input record's timestamp to the output record's timestamp. RSS: the hop process's
peak resident set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid
import weakref
from collections.abc import Callable
from typing import Any

import asyncpg
import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from referral_schemas import new_envelope
from referral_schemas.examples import example
from referral_schemas.registry import ProviderActivityV1, ProviderResponseV1
from servicekit.db.migrate import KIT_MIGRATIONS, apply_migrations
from servicekit.db.relay import OutboxRelay, RelayConfig, idempotent_producer
from servicekit.db.uow import UnitOfWork
from servicekit.messaging.admin import TopicLayout, ensure_topics
from servicekit.messaging.broker import create_broker
from servicekit.messaging.consumer import ConsumerPolicy, EventConsumer
from servicekit.messaging.dead_letters import DeadLetterPublisher
from servicekit.settings import InfraSettings
from servicekit.testing import reset_schema

from bench.common import machine_line, pct, peak_rss_mb, provisioned_bench_database
from bench.service_bench import answer_times, latencies, records_of
from bench.service_bench import produce as produce_events

PARTITIONS = 6
BATCH = 500
STATE_DDL = (
    "CREATE TABLE IF NOT EXISTS hop_state (event_id uuid PRIMARY KEY, referral_id uuid, response text)"
)


# ---------------------------------------------------------------- the kit hop (child process)
class StagedState:
    """Repository that batches its inserts into one statement at commit (one per batch)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.rows: list[tuple[Any, Any, str]] = []
        uow.on_flush(self.flush)

    async def flush(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            "INSERT INTO hop_state SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])",
            [r[0] for r in self.rows],
            [r[1] for r in self.rows],
            [r[2] for r in self.rows],
        )


async def run_kit(
    dsn: str, bootstrap: str, in_topic: str, out_topic: str, expect: int, group: str
) -> dict[str, Any]:
    producer = idempotent_producer(bootstrap)
    await producer.start()
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=4)
    template = example("provider.activity").data
    repos: weakref.WeakKeyDictionary[UnitOfWork, StagedState] = weakref.WeakKeyDictionary()

    async def handle(event: Any, uow: UnitOfWork) -> None:
        repo = repos.get(uow)
        if repo is None:
            repo = repos[uow] = StagedState(uow)
        repo.rows.append((event.event_id, event.referral_id, event.data.response.value))
        follow = new_envelope(
            ProviderActivityV1,
            template,
            producer="bench",
            referral_id=event.referral_id,
            caused_by=event,
        )
        uow.publish(follow, topic=out_topic, key=str(event.referral_id), aggregate_type="referral")

    consumer = EventConsumer(
        name="bench-kit",
        handlers={"provider.response": handle},
        uow_factory=lambda: UnitOfWork(pool),
        dead_letters=DeadLetterPublisher(producer, "bench-kit"),
        policy=ConsumerPolicy(batch_max_records=BATCH),
    )
    broker = create_broker(bootstrap, service="bench-kit", tracing=False)  # as services run by default
    consumer.subscribe(broker, in_topic, group_id=group)
    relay = OutboxRelay(dsn, producer, RelayConfig(schema="intake", batch_size=2000))
    relay_task = asyncio.create_task(relay.run())
    await broker.start()
    # Several kit processes may share the group; one of them relays. All stop when every
    # output is out, as the database records it.
    while True:
        async with pool.acquire() as c:
            if await c.fetchval("SELECT published FROM outbox_relay") >= expect:
                break
        await asyncio.sleep(0.05)
    async with pool.acquire() as c:
        # From the first transaction that applied an input to the last output published:
        # both stamped by the database clock, whatever the consumers' group join took.
        elapsed = await c.fetchval(
            "SELECT extract(epoch FROM (SELECT last_published_at FROM outbox_relay)"
            " - (SELECT min(received_at) FROM inbox))::float8"
        )
    await broker.stop()
    relay_task.cancel()
    await asyncio.gather(relay_task, return_exceptions=True)
    await producer.stop()
    await pool.close()
    return {"elapsed_s": elapsed, "events": expect, "rss_mb": peak_rss_mb()}


# ---------------------------------------------------------------- the bare loop (child process)
def _cause_only(doc: dict[str, Any]) -> bytes:
    return json.dumps({"caused_by": doc["event_id"]}).encode()


async def run_bare(
    dsn: str,
    bootstrap: str,
    in_topic: str,
    out_topic: str,
    expect: int,
    forward: Callable[[dict[str, Any]], bytes] = _cause_only,
) -> dict[str, Any]:
    """The bare loop; `forward` makes the output record from the input event. Wall-clock
    `started`/`finished` let several loops chained over topics be timed together."""
    consumer = AIOKafkaConsumer(
        in_topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-bare-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=BATCH,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_batch_size=512 * 1024,
    )
    conn = await asyncpg.connect(dsn)
    await consumer.start()
    await producer.start()
    done = 0
    started: float | None = None
    started_at = time.time()
    while done < expect:
        batches = await consumer.getmany(timeout_ms=100, max_records=BATCH)
        records = [r for rs in batches.values() for r in rs]
        if not records:
            continue
        if started is None:
            started, started_at = time.perf_counter(), time.time()
        docs = [json.loads(r.value) for r in records]
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO hop_state SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])",
                [d["event_id"] for d in docs],
                [d["referral_id"] for d in docs],
                [d["data"]["response"] for d in docs],
            )
        futures = [
            await producer.send(out_topic, forward(d), key=r.key) for d, r in zip(docs, records, strict=True)
        ]
        await asyncio.gather(*futures)
        await consumer.commit()
        done += len(records)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    finished = time.time()
    await consumer.stop()
    await producer.stop()
    await conn.close()
    return {
        "elapsed_s": elapsed,
        "events": expect,
        "rss_mb": peak_rss_mb(),
        "started": started_at,
        "finished": finished,
    }


def child_main(args: argparse.Namespace) -> None:
    if args.child == "kit":
        result = asyncio.run(
            run_kit(args.dsn, args.bootstrap, args.in_topic, args.out_topic, args.expect, args.group)
        )
    else:
        result = asyncio.run(run_bare(args.dsn, args.bootstrap, args.in_topic, args.out_topic, args.expect))
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------- the orchestrator
async def produce(bootstrap: str, topic: str, count: int, rate: float | None = None) -> None:
    template = example("provider.response").data
    referrals = [uuid.uuid4() for _ in range(2000)]
    events = (
        new_envelope(
            ProviderResponseV1, template, producer="bench", referral_id=referrals[i % len(referrals)]
        )
        for i in range(count)
    )
    await produce_events(bootstrap, topic, records_of(events), rate)


def spawn(
    kind: str, dsn: str, bootstrap: str, in_topic: str, out_topic: str, expect: int, processes: int = 1
) -> list[subprocess.Popen[str]]:
    group = f"bench-{kind}-{uuid.uuid4().hex[:6]}"
    return [spawn_one(kind, dsn, bootstrap, in_topic, out_topic, expect, group) for _ in range(processes)]


def spawn_one(
    kind: str, dsn: str, bootstrap: str, in_topic: str, out_topic: str, expect: int, group: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.kit_hop",
            "--child",
            kind,
            "--dsn",
            dsn,
            "--bootstrap",
            bootstrap,
            "--in-topic",
            in_topic,
            "--out-topic",
            out_topic,
            "--expect",
            str(expect),
            "--group",
            group,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


async def fresh_topics(bootstrap: str, tag: str) -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:6]
    names = (f"bench.{tag}.in.{suffix}", f"bench.{tag}.out.{suffix}")
    await ensure_topics(
        bootstrap, [TopicLayout(n, PARTITIONS) for n in names] + [TopicLayout(names[0] + ".dlq", 1)]
    )
    return names


def fresh_schema(admin_bench: str) -> str:
    dsn = reset_schema(admin_bench, "referral-intake")
    apply_migrations(dsn, "intake", [KIT_MIGRATIONS])
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(STATE_DDL)
    return dsn


def finish(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=1200)
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def throughput(
    kind: str, admin_bench: str, bootstrap: str, events: int, processes: int = 1
) -> dict[str, Any]:
    dsn = fresh_schema(admin_bench)
    in_t, out_t = asyncio.run(fresh_topics(bootstrap, kind))
    asyncio.run(produce(bootstrap, in_t, events))
    results = finish(spawn(kind, dsn, bootstrap, in_t, out_t, events, processes))
    # Every process measures the same span from the database; the figure is the same.
    return {"eps": events / results[0]["elapsed_s"], "rss_mb": max(r["rss_mb"] for r in results)}


def latency(
    kind: str, admin_bench: str, bootstrap: str, rate: int, seconds: int, processes: int = 1
) -> dict[str, Any]:
    dsn = fresh_schema(admin_bench)
    in_t, out_t = asyncio.run(fresh_topics(bootstrap, kind + "lat"))
    paced = rate * seconds
    procs = spawn(kind, dsn, bootstrap, in_t, out_t, paced, processes)
    time.sleep(3)  # let the consumer join its group before the clock starts
    asyncio.run(produce(bootstrap, in_t, paced, rate=rate))
    rss = max(r["rss_mb"] for r in finish(procs))
    # The bare loop names the cause in a field of its own; the kit in the envelope.
    lats = latencies(
        asyncio.run(
            answer_times(bootstrap, in_t, [out_t], paced, lambda d: d.get("causation_id") or d["caused_by"])
        )
    )
    return {"p50_ms": pct(lats, 0.50), "p99_ms": pct(lats, 0.99), "rss_mb": rss, "samples": len(lats)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=60000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5, help="throughput runs of each hop, in turn")
    parser.add_argument("--child", choices=["kit", "bare"])
    parser.add_argument("--dsn")
    parser.add_argument("--bootstrap")
    parser.add_argument("--in-topic")
    parser.add_argument("--out-topic")
    parser.add_argument("--expect", type=int)
    parser.add_argument("--group")
    parser.add_argument(
        "--kit-processes", type=int, default=1, help="kit consumer processes in one group (one relays)"
    )
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    admin_bench = provisioned_bench_database()
    bootstrap = InfraSettings().kafka_bootstrap_servers
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], "kit": []}
    for _ in range(args.rounds):
        runs["bare"].append(throughput("bare", admin_bench, bootstrap, args.events))
        runs["kit"].append(throughput("kit", admin_bench, bootstrap, args.events, args.kit_processes))
    paced = {
        "bare": latency("bare", admin_bench, bootstrap, args.rate, args.seconds),
        "kit": latency("kit", admin_bench, bootstrap, args.rate, args.seconds, args.kit_processes),
    }
    ratios = sorted(k["eps"] / b["eps"] for b, k in zip(runs["bare"], runs["kit"], strict=True))
    print(machine_line())
    print(
        f"events: {args.events} backlog x {args.rounds} rounds (bare and kit in turn); latency at "
        f"{args.rate}/s for {args.seconds}s; batch {BATCH}; {PARTITIONS} partitions; "
        f"kit processes: {args.kit_processes}"
    )
    print(f"{'hop':<6}{'events/s':>10}{'range':>15}{'p50 ms':>9}{'p99 ms':>9}{'RSS MB':>9}")
    for kind, rounds in runs.items():
        eps = sorted(r["eps"] for r in rounds)
        rss = max(paced[kind]["rss_mb"], *(r["rss_mb"] for r in rounds))
        print(
            f"{kind:<6}{statistics.median(eps):>10.0f}{f'{eps[0]:.0f}-{eps[-1]:.0f}':>15}"
            f"{paced[kind]['p50_ms']:>9.1f}{paced[kind]['p99_ms']:>9.1f}{rss:>9.1f}"
        )
    print(
        f"kit / bare throughput: {statistics.median(ratios):.0%} (median of the rounds' ratios; "
        f"range {ratios[0]:.0%}-{ratios[-1]:.0%})"
    )


if __name__ == "__main__":
    main()
