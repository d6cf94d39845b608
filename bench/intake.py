"""referral-intake under load: throughput of a backlog, latency at a steady rate, peak RSS.

    uv run python -m bench.intake [--referrals 20000] [--rate 200] [--seconds 10]

The service runs as its own process, exactly as `python -m referral_intake` builds it, against
the benchmark database and its own copy of the topics (a fresh TOPIC_PREFIX), so nothing
reaches the local stack's topics. Submissions come from `bench.population` (about 10% with a
mistake intake must reject).
- Throughput: N submissions waiting on the topic; from the first transaction applying one to
  the last answer marked sent by the relay, both by the database clock.
- Latency: submissions produced at a steady rate while the service runs; from the submission
  record's timestamp to the timestamp of its answer (referral.accepted or referral.rejected).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from referral_schemas import dump_event
from servicekit.messaging.admin import delete_topics, ensure_topics
from servicekit.settings import InfraSettings
from servicekit.stack.control import platform_topics
from servicekit.testing import reset_schema

from bench.common import machine_line, pct, peak_rss_mb, provisioned_bench_database
from bench.population import submissions

SERVICE = "referral-intake"


# ---------------------------------------------------------------- the service (child process)
async def run_service(expect: int) -> dict[str, Any]:
    from referral_intake.bootstrap import bootstrap

    service = bootstrap()
    await service.start()
    try:
        conn = await asyncpg.connect(service.dsn)
        try:
            while True:
                done = await conn.fetchval(
                    "SELECT count(*) FROM referrals WHERE received_at IS NOT NULL"
                    " AND NOT EXISTS (SELECT 1 FROM outbox WHERE sent_at IS NULL)"
                )
                if done >= expect:
                    break
                await asyncio.sleep(0.05)
            elapsed = await conn.fetchval(
                "SELECT extract(epoch FROM (SELECT max(sent_at) FROM outbox)"
                " - (SELECT min(received_at) FROM inbox))::float8"
            )
        finally:
            await conn.close()
    finally:
        await service.stop()
    return {"elapsed_s": elapsed, "referrals": expect, "rss_mb": peak_rss_mb()}


# ---------------------------------------------------------------- the orchestrator
async def produce(bootstrap: str, topic: str, count: int, rate: float | None, seed: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    start = time.perf_counter()
    pending = []
    for i, event in enumerate(submissions(count, seed=seed)):
        key = f"{event.data.source_system}:{event.data.source_referral_id}".encode()
        pending.append(await producer.send(topic, dump_event(event), key=key))
        if rate:
            delay = start + (i + 1) / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
    await asyncio.gather(*pending)
    await producer.stop()


async def answer_latencies(bootstrap: str, prefix: str, count: int) -> list[float]:
    async def read(topics: list[str], key_of: Any) -> dict[str, int]:
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
                while len(out) < count:
                    for rs in (await c.getmany(timeout_ms=500)).values():
                        for r in rs:
                            out[key_of(json.loads(r.value))] = r.timestamp
        finally:
            await c.stop()
        return out

    sent = await read([prefix + "referral.submitted.v1"], lambda d: d["event_id"])
    answered = await read(
        [prefix + "referral.accepted.v1", prefix + "referral.rejected.v1"], lambda d: d["causation_id"]
    )
    return sorted(float(answered[k] - sent[k]) for k in sent if k in answered)


def spawn(env: dict[str, str], expect: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.intake", "--child", "--expect", str(expect)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def child_env(admin: str, prefix: str) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": admin,
        "KAFKA_BOOTSTRAP_SERVERS": InfraSettings().kafka_bootstrap_servers,
        "TOPIC_PREFIX": prefix,
        "INTAKE_ACCEPT_TEST_NHS_NUMBERS": "true",
        "INTAKE_HTTP_PORT": "0",
        "INTAKE_LOG_LEVEL": "WARNING",
    }


def run_once(admin: str, referrals: int, rate: float | None, seed: int) -> dict[str, Any]:
    bootstrap = InfraSettings().kafka_bootstrap_servers
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    layouts = platform_topics(prefix)
    asyncio.run(ensure_topics(bootstrap, layouts))
    reset_schema(admin, SERVICE)
    try:
        if rate is None:
            asyncio.run(produce(bootstrap, prefix + "referral.submitted.v1", referrals, None, seed))
            proc = spawn(child_env(admin, prefix), referrals)
        else:
            proc = spawn(child_env(admin, prefix), referrals)
            time.sleep(4)  # the service migrates and joins its group before the clock starts
            asyncio.run(produce(bootstrap, prefix + "referral.submitted.v1", referrals, rate, seed))
        out, _ = proc.communicate(timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(f"the intake process failed (exit {proc.returncode})")
        result = json.loads(out.strip().splitlines()[-1])
        if rate is not None:
            result["latencies"] = asyncio.run(answer_latencies(bootstrap, prefix, referrals))
        return result
    finally:
        asyncio.run(delete_topics(bootstrap, [t.name for t in layouts]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--referrals", type=int, default=20000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--expect", type=int)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(run_service(args.expect))), flush=True)
        return
    admin = provisioned_bench_database()
    backlog = run_once(admin, args.referrals, None, seed=1)
    paced = run_once(admin, args.rate * args.seconds, args.rate, seed=2)
    lats = paced["latencies"]
    print(machine_line())
    print(f"referral-intake: {args.referrals} backlog; latency at {args.rate}/s for {args.seconds}s")
    print(f"{'referrals/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'RSS MB':>9}")
    print(
        f"{backlog['referrals'] / backlog['elapsed_s']:>12.0f}{pct(lats, 0.5):>9.1f}{pct(lats, 0.99):>9.1f}"
        f"{max(backlog['rss_mb'], paced['rss_mb']):>9.1f}"
    )


if __name__ == "__main__":
    main()
