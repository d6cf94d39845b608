"""The whole pipeline under load: the four services as processes, a referral from submission to
its provider's delivery, beside a bare four-hop relay with the same batching.

    uv run python -m bench.pipeline [--referrals 20000] [--rates 100,500] [--seconds 20]

Everything runs against the local stack (`referrals up`), on the benchmark database and a fresh
copy of every topic per run (the demo's `Demo`: empty service schemas, a new topic prefix). The
three webhook providers are served by the demo's provider endpoint (taking deliveries, answering
nothing) in a process of its own; the other providers read their Kafka topic, which counts as
delivered when provider-notify publishes to it.

- Throughput: a backlog of N referrals (the demo's synthetic population, serialised beforehand)
  produced as fast as one producer can, the services already up. Timed from the first
  referral.submitted record's timestamp to the last assignment.delivered record's timestamp;
  the run then has to drain (every consumer group of the run at the end of its topics, every
  outbox sent, no delivery pending, intake holding every referral) and `referrals reconcile`'s
  checks must pass. A 1,000,000-referral backfill is extrapolated from this rate, not run.
- Latency: referrals produced at a steady rate (e.g. 100/s and 500/s) for some seconds, fresh
  services each; per referral from its referral.submitted record's timestamp to its
  assignment.delivered record's timestamp (joined on referral_id, computed for the submission
  with `referral_id_for`).
- Resources: RSS of each service (its /metrics `process_resident_memory_bytes`) and of the Kafka
  broker (/proc VmRSS), sampled every second: start (services ready), peak, end (drained).
- CPU: seconds of CPU (user + system, /proc) each process used from the first submission of the
  backlog to its drain: the four services, every PostgreSQL process, the broker, and the webhook
  providers' process; shown per referral, so the 2-core budget can be read off (1,000 ms of CPU
  a second per core).
- Baseline: four bare consume → insert → produce hops (kit_hop's bare loop, forwarding a record
  of the same shape so that hops chain) over five fresh topics, four processes at once, on a
  backlog of N events; from the first record the first hop took to the last output of the
  fourth hop acknowledged.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from referral_schemas import dump_event, referral_id_for
from referrals_demo.population import referrals
from referrals_demo.reconcile import Report, read_records, reconcile
from referrals_demo.run import SERVICES, Demo, Ports
from rich.console import Console
from servicekit.messaging.admin import TopicLayout, delete_topics, ensure_topics
from servicekit.settings import InfraSettings
from servicekit.stack.control import platform_topics

from bench.common import cpu_s, kafka_pid, machine_line, pct, postgres_cpu_s, provisioned_bench_database
from bench.kit_hop import run_bare

BATCH = 500  # the bare hops' batch, as kit_hop's (the services' consumers batch up to 500 too)
PARTITIONS = 6
SCHEMAS = ("intake", "triage", "notify", "outcomes")
SUBMITTED = "referral.submitted.v1"
DELIVERED = "assignment.delivered.v1"
ACCEPTED = "referral.accepted.v1"
CREATED = "assignment.created.v1"
# The services have just started when a paced run begins: their first seconds pay for new
# database connections, first statements and first connections to providers. Latency is also
# reported without the referrals submitted in this first stretch.
WARM_UP_S = 5
HOPS = (
    "submitted→accepted (intake)",
    "accepted→assignment.created (triage)",
    "created→delivered (notify)",
)


# ---------------------------------------------------------------- children
def chained(doc: dict[str, Any]) -> bytes:
    """The input event forwarded as a new one naming it as its cause, so that four hops chain."""
    return json.dumps(doc | {"event_id": str(uuid.uuid4()), "causation_id": doc["event_id"]}).encode()


def serve_providers(port: int) -> None:
    """The three webhook providers' endpoint: verifies and takes each delivery, answers nothing."""
    import uvicorn
    from referrals_demo.providers import Providers

    receiver = Providers("http://unused", "http://unused", play=False)
    uvicorn.run(
        receiver.webhook_app(),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        log_level="warning",
    )


# ---------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the providers' endpoint exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port}")


def population(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """`count` referral.submitted records (key, value), serialised before any clock starts."""
    return [
        (f"{e.data.source_system}:{e.data.source_referral_id}".encode(), dump_event(e))
        for e in referrals(count, seed=seed, today=date.today())
    ]


async def produce_records(
    bootstrap: str, topic: str, records: list[tuple[bytes, bytes]], rate: float | None
) -> float:
    """Send `records` (paced at `rate`/s, or as fast as possible); returns the seconds it took."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    try:
        start = time.perf_counter()
        pending = []
        for i, (key, value) in enumerate(records):
            pending.append(await producer.send(topic, value, key=key))
            if rate:
                delay = start + (i + 1) / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
        await asyncio.gather(*pending)
        return time.perf_counter() - start
    finally:
        await producer.stop()


async def read_stamped(bootstrap: str, topic: str) -> list[tuple[int, dict[str, Any]]]:
    """(Kafka timestamp ms, event) for every record on `topic` up to its end offsets of now."""
    return [
        (r.timestamp, json.loads(r.value))
        for r in await read_records(bootstrap, topic)
        if r.value is not None
    ]


def vm_rss_mb(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    m = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    return int(m.group(1)) / 1024 if m else None


def cpu_snapshot(demo: Demo, broker_pid: int | None, providers_pid: int) -> dict[str, float]:
    row = {service: cpu_s(demo.procs[service].pid) for service, _, _ in SERVICES}
    row["postgres"] = postgres_cpu_s()
    if broker_pid is not None:
        row["kafka broker"] = cpu_s(broker_pid)
    row["webhook providers"] = cpu_s(providers_pid)
    return row


METRIC = re.compile(r"^process_resident_memory_bytes\s+(\S+)", re.MULTILINE)
_FULL_GC = 'generation="2"'
GC_COUNT = re.compile(r"^kit_gc_pause_seconds_count\{" + _FULL_GC + r"\}\s+(\S+)", re.MULTILINE)
GC_SUM = re.compile(r"^kit_gc_pause_seconds_sum\{" + _FULL_GC + r"\}\s+(\S+)", re.MULTILINE)
GC_UNDER_50MS = re.compile(
    r"^kit_gc_pause_seconds_bucket\{" + _FULL_GC + r',le="0.05"\}\s+(\S+)', re.MULTILINE
)


def full_collections(page: str) -> tuple[float, float, float] | None:
    """(full collections, their seconds in all, how many took 50 ms or more) from /metrics."""
    found = [r.search(page) for r in (GC_COUNT, GC_SUM, GC_UNDER_50MS)]
    if not all(found):
        return None
    count, total, under = (float(m.group(1)) for m in found if m)
    return count, total, count - under


@dataclass
class Sampler:
    """RSS of the four services (their /metrics) and of the broker (/proc), once a second."""

    demo: Demo
    broker_pid: int | None
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    gc: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # the last page's

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                at = time.time()
                found = await asyncio.gather(*(self._service(client, s, m) for s, m, _ in SERVICES))
                row = {s: mb for (s, _, _), mb in zip(SERVICES, found, strict=True) if mb is not None}
                if self.broker_pid is not None and (mb := vm_rss_mb(self.broker_pid)) is not None:
                    row["kafka broker"] = mb
                self.samples.append((at, row))
                await asyncio.sleep(max(0.0, at + 1 - time.time()))

    async def _service(self, client: httpx.AsyncClient, service: str, module: str) -> float | None:
        try:
            page = await client.get(f"http://127.0.0.1:{self.demo.ports.of(module)}/metrics")
            if (collections := full_collections(page.text)) is not None:
                self.gc[service] = collections
            m = METRIC.search(page.text)
            if m:
                return float(m.group(1)) / 2**20
        except httpx.HTTPError:
            pass
        return vm_rss_mb(self.demo.procs[service].pid)  # too busy to answer: the kernel's figure

    def summary(self) -> dict[str, tuple[float, float, float]]:
        """process → (start, peak, end) MB."""
        series: defaultdict[str, list[float]] = defaultdict(list)
        for _, row in self.samples:
            for name, mb in row.items():
                series[name].append(mb)
        return {name: (v[0], max(v), v[-1]) for name, v in series.items()}


# ---------------------------------------------------------------- drained?
class Drain:
    """Whether a run has drained: intake holds every referral, every consumer group of the run
    is at the end of every topic it reads, every outbox row is sent, no delivery is pending."""

    def __init__(self, admin_url: str, bootstrap: str, prefix: str, expect: int) -> None:
        self.admin_url, self.bootstrap, self.prefix, self.expect = admin_url, bootstrap, prefix, expect

    async def __aenter__(self) -> Drain:
        self.conn = await asyncpg.connect(self.admin_url)
        self.kafka_admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self.kafka_admin.start()
        self.offsets = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await self.offsets.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.offsets.stop()
        await self.kafka_admin.close()
        await self.conn.close()

    async def _database_settled(self) -> bool:
        unsent = " + ".join(f"(SELECT count(*) FROM {s}.outbox)" for s in SCHEMAS)
        row = await self.conn.fetchrow(
            f"SELECT (SELECT count(*) FROM intake.referrals) AS held, {unsent} AS unsent,"
            " (SELECT count(*) FROM notify.assignments WHERE delivery_state = 'pending') AS pending,"
            " (SELECT count(*) FROM triage.placements) AS placements,"
            " (SELECT count(*) FROM notify.assignments) AS assignments"
        )
        return bool(
            row["held"] >= self.expect
            and row["unsent"] == 0
            and row["pending"] == 0
            and row["placements"] == row["assignments"]
        )

    async def _lag(self) -> tuple[int, dict[TopicPartition, int]]:
        groups = [g[0] for g in await self.kafka_admin.list_consumer_groups() if g[0].startswith(self.prefix)]
        committed: dict[tuple[str, TopicPartition], int] = {}
        topics: set[tuple[str, str]] = set()
        for group in groups:
            for tp, meta in (await self.kafka_admin.list_consumer_group_offsets(group)).items():
                committed[(group, tp)] = meta.offset
                topics.add((group, tp.topic))
        await self.offsets._client.force_metadata_update()
        tps = {TopicPartition(t, p) for _, t in topics for p in (self.offsets.partitions_for_topic(t) or ())}
        ends = await self.offsets.end_offsets(list(tps)) if tps else {}
        lag = 0
        for group, topic in topics:
            for tp, end in ends.items():
                if tp.topic == topic:
                    lag += max(0, end - max(0, committed.get((group, tp), 0)))
        return lag, ends

    async def settled(self) -> bool:
        """Settled twice over, with nothing produced in between."""
        # Consumer lag first: asking the broker is cheap, while the database's counts scan whole
        # tables (20 ms at 20,000 referrals) and would tax the run they watch.
        lag, ends = await self._lag()
        if lag or not await self._database_settled():
            return False
        await asyncio.sleep(0.3)
        if not await self._database_settled():
            return False
        lag_again, ends_again = await self._lag()
        return lag_again == 0 and ends_again == ends


async def wait_drained(
    admin_url: str,
    bootstrap: str,
    prefix: str,
    expect: int,
    timeout_s: float,
    on_drained: Callable[[], None] = lambda: None,
    reconciled: bool = True,
) -> tuple[float | None, Report | None]:
    """Wall-clock time the run was first seen drained (None: not within the time), and the
    reconciliation then, retried until it passes or the time is up."""
    deadline = time.monotonic() + timeout_s
    drained_at = None
    async with Drain(admin_url, bootstrap, prefix, expect) as drain:
        while time.monotonic() < deadline:
            seen = time.time()
            if await drain.settled():
                drained_at = seen
                on_drained()
                break
            await asyncio.sleep(0.2)
    if not reconciled:
        return drained_at, None
    while True:
        report = await reconcile(admin_url, bootstrap, prefix, expect_final=False)
        if report.ok or time.monotonic() > deadline:
            return drained_at, report
        await asyncio.sleep(2)


# ---------------------------------------------------------------- one pipeline run
@dataclass
class Run:
    label: str
    referrals: int
    rate: float | None
    submit_s: float = 0.0
    first_submitted_ms: int = 0
    last_delivered_ms: int = 0
    drained_at: float | None = None
    delivered: int = 0
    latencies: list[float] = field(default_factory=list)
    steady_latencies: list[float] = field(default_factory=list)  # submitted after WARM_UP_S
    delivered_ms: list[int] = field(default_factory=list)
    submitted_ms: list[int] = field(default_factory=list)
    rss: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    rss_samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    report: Report | None = None
    cpu: dict[str, float] = field(default_factory=dict)  # process → CPU seconds, submission to drain
    gc: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # service → full collections
    hops: dict[str, list[float]] = field(default_factory=dict)

    @property
    def elapsed_s(self) -> float:
        return (self.last_delivered_ms - self.first_submitted_ms) / 1000

    @property
    def per_s(self) -> float:
        return self.referrals / self.elapsed_s if self.elapsed_s > 0 else float("nan")


def run_pipeline(
    label: str,
    records: list[tuple[bytes, bytes]],
    rate: float | None,
    ports: Ports,
    home: Path,
    admin_url: str,
    bootstrap: str,
    timeout_s: float,
    providers_pid: int,
) -> Run:
    demo = Demo(len(records), rate or 0, ports, Console(quiet=True), home=home)
    run = Run(label, len(records), rate)
    demo.start_services()
    try:
        asyncio.run(_drive(demo, run, records, admin_url, bootstrap, timeout_s, providers_pid))
    finally:
        demo.stop_services()
    asyncio.run(_measure(demo.prefix, run, bootstrap))
    asyncio.run(delete_topics(bootstrap, [t.name for t in platform_topics(demo.prefix)]))
    return run


async def _drive(
    demo: Demo,
    run: Run,
    records: list[tuple[bytes, bytes]],
    admin_url: str,
    bootstrap: str,
    timeout_s: float,
    providers_pid: int,
) -> None:
    await demo.wait_ready()
    broker_pid = kafka_pid()
    sampler = Sampler(demo, broker_pid)
    sampling = asyncio.create_task(sampler.run())
    # A first sample of the services at rest, and time for every consumer to join its group
    # (as bench.service_bench waits) before the clock starts.
    await asyncio.sleep(5)
    try:
        before = cpu_snapshot(demo, broker_pid, providers_pid)

        def drained() -> None:
            after = cpu_snapshot(demo, broker_pid, providers_pid)
            run.cpu = {name: after[name] - before[name] for name in after}

        run.submit_s = await produce_records(bootstrap, demo.prefix + SUBMITTED, records, run.rate)
        run.drained_at, run.report = await wait_drained(
            admin_url, bootstrap, demo.prefix, len(records), timeout_s, on_drained=drained
        )
    finally:
        sampling.cancel()
        await asyncio.gather(sampling, return_exceptions=True)
    run.rss, run.rss_samples, run.gc = sampler.summary(), sampler.samples, sampler.gc


async def _measure(prefix: str, run: Run, bootstrap: str) -> None:
    submitted: dict[uuid.UUID, int] = {}
    for ts, doc in await read_stamped(bootstrap, prefix + SUBMITTED):
        data = doc["data"]
        submitted.setdefault(referral_id_for(data["source_system"], data["source_referral_id"]), ts)
    delivered: dict[uuid.UUID, int] = {}
    for ts, doc in await read_stamped(bootstrap, prefix + DELIVERED):
        rid = uuid.UUID(doc["referral_id"])
        delivered[rid] = min(ts, delivered.get(rid, ts))
    # Where the time goes: the first event of each stage per referral, and the delivery by channel.
    stages: list[dict[uuid.UUID, int]] = [submitted]
    for topic in (ACCEPTED, CREATED):
        first: dict[uuid.UUID, int] = {}
        for ts, doc in await read_stamped(bootstrap, prefix + topic):
            rid = uuid.UUID(doc["referral_id"])
            first[rid] = min(ts, first.get(rid, ts))
        stages.append(first)
    stages.append(delivered)
    for name, (a, b) in zip(HOPS, itertools.pairwise(stages), strict=True):
        run.hops[name] = sorted(float(b[r] - a[r]) for r in b if r in a)
    channel = {}
    for _, doc in await read_stamped(bootstrap, prefix + DELIVERED):
        channel[uuid.UUID(doc["referral_id"])] = doc["data"]["channel"]
    for ch in sorted(set(channel.values())):
        run.hops[f"submitted→delivered, {ch} providers"] = sorted(
            float(t - submitted[r]) for r, t in delivered.items() if r in submitted and channel.get(r) == ch
        )
    run.submitted_ms = sorted(submitted.values())
    run.delivered_ms = sorted(delivered.values())
    run.first_submitted_ms = run.submitted_ms[0]
    run.last_delivered_ms = run.delivered_ms[-1] if run.delivered_ms else run.first_submitted_ms
    run.delivered = len(delivered)
    run.latencies = sorted(float(t - submitted[r]) for r, t in delivered.items() if r in submitted)
    warm = run.first_submitted_ms + WARM_UP_S * 1000
    run.steady_latencies = sorted(
        float(t - submitted[r]) for r, t in delivered.items() if r in submitted and submitted[r] >= warm
    )


# ---------------------------------------------------------------- the bare baseline
def run_baseline(admin_bench: str, bootstrap: str, events: int) -> dict[str, Any]:
    from bench.kit_hop import fresh_schema
    from bench.kit_hop import produce as produce_responses

    dsn = fresh_schema(admin_bench)  # the intake schema with kit tables and hop_state
    suffix = uuid.uuid4().hex[:6]
    topics = [f"bench.chain{i}.{suffix}" for i in range(5)]
    asyncio.run(ensure_topics(bootstrap, [TopicLayout(t, PARTITIONS) for t in topics]))
    try:
        asyncio.run(produce_responses(bootstrap, topics[0], events))
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.pipeline",
                    "--child",
                    "bare-hop",
                    "--dsn",
                    dsn,
                    "--bootstrap",
                    bootstrap,
                    "--in-topic",
                    topics[i],
                    "--out-topic",
                    topics[i + 1],
                    "--expect",
                    str(events),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(4)
        ]
        hops = []
        for proc in procs:
            out, _ = proc.communicate(timeout=1200)
            if proc.returncode != 0:
                raise RuntimeError(f"a bare hop failed (exit {proc.returncode})")
            hops.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        asyncio.run(delete_topics(bootstrap, topics))
    elapsed = hops[3]["finished"] - hops[0]["started"]
    return {"events": events, "elapsed_s": elapsed, "per_s": events / elapsed}


# ---------------------------------------------------------------- the chart
def chart(path: Path, backlog: Run, paced: list[Run]) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    ax = axes[0]
    t0 = backlog.first_submitted_ms
    for stamps, name in (
        (backlog.submitted_ms, "submitted"),
        (backlog.delivered_ms, "delivered to a provider"),
    ):
        ax.plot(
            [(ts - t0) / 1000 for ts in stamps], range(1, len(stamps) + 1), label=name, drawstyle="steps-post"
        )
    ax.set_title(f"Backlog of {backlog.referrals:,} referrals ({backlog.per_s:.0f}/s end to end)")
    ax.set_xlabel("seconds since the first submission")
    ax.set_ylabel("referrals (cumulative)")
    ax.legend()
    ax.grid(alpha=0.3)

    ax = axes[1]
    for run in paced:
        lats = run.latencies
        if lats:
            ax.plot(lats, [(i + 1) / len(lats) for i in range(len(lats))],
                    label=f"{run.rate:g}/s (p50 {pct(lats, 0.5):.0f}, p99 {pct(lats, 0.99):.0f} ms)")  # fmt: skip
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xticks(
        [
            t
            for t in (50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
            if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]
        ]
    )
    ax.set_title("Submission → delivery latency (CDF)")
    ax.set_xlabel("ms (log)")
    ax.set_ylabel("fraction of delivered referrals")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3, which="both")

    ax = axes[2]
    if backlog.rss_samples:
        s0 = backlog.rss_samples[0][0]
        names = sorted({n for _, row in backlog.rss_samples for n in row})
        for name in names:
            pts = [(at - s0, row[name]) for at, row in backlog.rss_samples if name in row]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=name)
    ax.set_title("RSS during the backlog run")
    ax.set_xlabel("seconds since the services were ready")
    ax.set_ylabel("MB")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


# ---------------------------------------------------------------- the orchestrator
def checks_line(run: Run) -> str:
    report = run.report
    if report is None:
        return f"{run.label}: not reconciled"
    failed = [c for c in report.checks if not c.ok]
    drained = "drained" if run.drained_at is not None else "NOT drained within the time limit"
    if not failed:
        return f"{run.label}: {drained}; reconcile: all {len(report.checks)} checks ok"
    return f"{run.label}: {drained}; reconcile FAILED: " + "; ".join(f"{c.name} ({c.detail})" for c in failed)


def print_cpu(title: str, cpu: dict[str, float], wall: float, referrals: int) -> None:
    if not cpu:
        return
    total = sum(cpu.values())
    print(f"CPU, {title} ({wall:.1f} s; the machine has {os.cpu_count()} cores)")
    print(f"{'process':<20}{'CPU s':>8}{'cores':>7}{'ms/referral':>13}{'share':>7}")
    for name, used in sorted(cpu.items(), key=lambda kv: -kv[1]):
        print(
            f"{name:<20}{used:>8.1f}{used / wall:>7.2f}{used * 1000 / referrals:>13.2f}{used / total:>7.0%}"
        )
    print(f"{'all of them':<20}{total:>8.1f}{total / wall:>7.2f}{total * 1000 / referrals:>13.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--referrals", type=int, default=20000, help="the backlog (and baseline) size")
    parser.add_argument("--rates", default="100,500", help="paced rates for latency, referrals/s")
    parser.add_argument("--seconds", type=int, default=20, help="seconds each paced rate is held")
    parser.add_argument("--chart", default="docs/perf-pipeline.png")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a run may take to drain")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--child", choices=["bare-hop", "providers"])
    parser.add_argument("--dsn")
    parser.add_argument("--bootstrap")
    parser.add_argument("--in-topic")
    parser.add_argument("--out-topic")
    parser.add_argument("--expect", type=int)
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.child == "bare-hop":
        result = asyncio.run(
            run_bare(args.dsn, args.bootstrap, args.in_topic, args.out_topic, args.expect, forward=chained)
        )
        print(json.dumps(result), flush=True)
        return
    if args.child == "providers":
        serve_providers(args.port)
        return

    rates = [float(r) for r in args.rates.split(",") if r]
    admin_bench = provisioned_bench_database()
    os.environ["DATABASE_URL"] = admin_bench  # Demo and the services: the benchmark database only
    bootstrap = InfraSettings().kafka_bootstrap_servers
    print(
        f"serialising {args.referrals} + {sum(int(r * args.seconds) for r in rates)} referrals ...",
        flush=True,
    )
    backlog_records = population(args.referrals, seed=4242)
    paced_records = [population(int(r * args.seconds), seed=4300 + i) for i, r in enumerate(rates)]

    ports = Ports(*(free_port() for _ in range(5)))
    home = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    providers = subprocess.Popen(
        [sys.executable, "-m", "bench.pipeline", "--child", "providers", "--port", str(ports.providers)]
    )
    try:
        wait_for_port(ports.providers, providers)
        # Paced runs first: after a backlog (or the bare baseline) the database and the broker
        # are still writing it out (checkpoints, log flushes), which would be measured as the
        # paced runs' latency.
        paced = []
        for rate, records in zip(rates, paced_records, strict=True):
            print(
                f"pipeline: {rate:g}/s for {args.seconds}s (service logs under {home}/logs) ...", flush=True
            )
            paced.append(
                run_pipeline(
                    f"{rate:g}/s",
                    records,
                    rate,
                    ports,
                    home,
                    admin_bench,
                    bootstrap,
                    args.timeout,
                    providers.pid,
                )
            )
        print(f"pipeline: backlog of {args.referrals} ...", flush=True)
        backlog = run_pipeline(
            "backlog", backlog_records, None, ports, home, admin_bench, bootstrap, args.timeout, providers.pid
        )
    finally:
        providers.terminate()
        providers.wait(timeout=30)

    baseline = None
    if not args.no_baseline:
        print("baseline: four bare hops ...", flush=True)
        baseline = run_baseline(admin_bench, bootstrap, args.referrals)

    chart(Path(args.chart), backlog, paced)

    print()
    print(machine_line())
    print(
        f"pipeline: referral-intake, triage, provider-notify, outcomes as processes on the local stack; "
        f"{args.referrals} backlog; latency at {', '.join(f'{r:g}' for r in rates)}/s for {args.seconds}s each"
    )
    print(f"{'throughput':<34}{'items':>8}{'seconds':>9}{'per s':>9}")
    print(
        f"{'pipeline: referrals, to last delivery':<34}{backlog.referrals:>8}{backlog.elapsed_s:>9.1f}"
        f"{backlog.per_s:>9.0f}"
    )
    print(
        f"{'  of which delivered to a provider':<34}{backlog.delivered:>8}{backlog.elapsed_s:>9.1f}"
        f"{backlog.delivered / backlog.elapsed_s:>9.0f}"
    )
    if baseline is not None:
        print(f"{'bare relay, four hops: events':<34}{baseline['events']:>8}{baseline['elapsed_s']:>9.1f}"
              f"{baseline['per_s']:>9.0f}")  # fmt: skip
        print(f"pipeline / bare four-hop relay throughput: {backlog.per_s / baseline['per_s']:.1%}")
    if backlog.drained_at is not None:
        print(
            f"backlog submitted in {backlog.submit_s:.1f}s (one producer, as fast as it could); last delivery "
            f"{backlog.elapsed_s:.1f}s and every service drained {backlog.drained_at - backlog.first_submitted_ms / 1000:.1f}s "
            "after the first submission"
        )
    print(
        f"1,000,000-referral backfill at {backlog.per_s:.0f} referrals/s: about "
        f"{1_000_000 / backlog.per_s / 60:.0f} min (extrapolated from the backlog rate, not run)"
    )
    print()
    print(f"{'latency submitted→delivered':<28}{'sent/s':>8}{'delivered':>10}{'p50 ms':>8}{'p95 ms':>8}"
          f"{'p99 ms':>8}{'max ms':>8}{f'after {WARM_UP_S} s: p50':>18}{'p99':>6}")  # fmt: skip
    for run in paced:
        lats = run.latencies
        achieved = run.referrals / run.submit_s if run.submit_s else float("nan")
        print(
            f"{'at ' + run.label:<28}{achieved:>8.0f}{run.delivered:>10}{pct(lats, 0.50):>8.0f}"
            f"{pct(lats, 0.95):>8.0f}{pct(lats, 0.99):>8.0f}{(lats[-1] if lats else float('nan')):>8.0f}"
            f"{pct(run.steady_latencies, 0.5):>18.0f}{pct(run.steady_latencies, 0.99):>6.0f}"
        )
    print()
    print(f"{'where the time goes (ms)':<44}" + "".join(f"{'p50 @' + r.label:>12}{'p99':>7}" for r in paced))
    for hop in sorted(
        {h for r in paced for h in r.hops}, key=lambda h: (h not in HOPS, HOPS.index(h) if h in HOPS else h)
    ):
        cells = "".join(
            f"{pct(r.hops.get(hop, []), 0.5):>12.0f}{pct(r.hops.get(hop, []), 0.99):>7.0f}" for r in paced
        )
        print(f"{hop:<44}{cells}")
    print()
    head = "".join(f"{'@' + r.label + ' peak':>13}" for r in paced)
    print(f"{'RSS MB':<16}{'backlog start':>14}{'peak':>8}{'end':>8}{head}")
    for name in [s for s, _, _ in SERVICES] + ["kafka broker"]:
        start, peak, end = backlog.rss.get(name, (float("nan"),) * 3)
        others = "".join(f"{r.rss.get(name, (0, float('nan'), 0))[1]:>13.0f}" for r in paced)
        print(f"{name:<16}{start:>14.0f}{peak:>8.0f}{end:>8.0f}{others}")
    print()
    print(f"{'full GC collections':<20}" + "".join(f"{r.label:>26}" for r in [backlog, *paced]))
    print(f"{'':<20}" + f"{'count  mean ms  >=50 ms':>26}" * (1 + len(paced)))
    for name in [s for s, _, _ in SERVICES]:
        cells = ""
        for r in [backlog, *paced]:
            count, total, slow = r.gc.get(name, (0.0, 0.0, 0.0))
            mean = total * 1000 / count if count else float("nan")
            cells += f"{count:>12.0f}{mean:>8.1f}{slow:>6.0f}"
        print(f"{name:<20}{cells}")
    print()
    if backlog.drained_at is not None:
        wall = backlog.drained_at - backlog.first_submitted_ms / 1000
        print_cpu("backlog: first submission to drained", backlog.cpu, wall, backlog.referrals)
    print()
    for run in [backlog, *paced]:
        print(checks_line(run))
    print(f"chart: {args.chart}")


if __name__ == "__main__":
    main()
