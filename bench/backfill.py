"""Replaying a backfill through the whole pipeline: N referrals already waiting on
referral.submitted when the four services start, timed until all of them have drained, with
every process's RSS and the deliveries so far sampled once a second.

    uv run python -m bench.backfill [--referrals 1000000]

The provider directory is the packaged one with every monthly capacity multiplied
(`--capacity-factor`, 60 by default): the population's referrals all fall in this month, and a
backfill measures how fast the pipeline places and delivers them, not how soon the seed
directory's month fills (about 25,000 places).

Each referral is generated (the demo's synthetic population) and produced before the services
start, so generating them costs the run nothing. The services then start on empty schemas, as in
`bench.pipeline`, and the clock runs from their launch to the moment the run is seen drained
(every consumer group of the run at the end of its topics, every outbox sent, no delivery pending,
intake holding every referral, one assignment per placement). Progress is read from the
assignment.delivered topic's end offsets, so the curve shows whether the rate holds as the tables
grow; RSS is each service's /metrics figure and the broker's VmRSS. The run is too large for the
full reconciliation of `bench.pipeline`, which reads every event back: the drain's own checks
stand in for it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.resources
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from referral_schemas import dump_event
from referrals_demo.population import referrals
from referrals_demo.run import SERVICES, Demo, Ports
from rich.console import Console
from servicekit.messaging.admin import delete_topics
from servicekit.settings import InfraSettings
from servicekit.stack.control import platform_topics

from bench.common import kafka_pid, machine_line, provisioned_bench_database
from bench.pipeline import (
    DELIVERED,
    SUBMITTED,
    Sampler,
    cpu_snapshot,
    free_port,
    print_cpu,
    wait_drained,
    wait_for_port,
)


async def produce_backfill(bootstrap: str, topic: str, count: int, seed: int) -> float:
    """Generate and send `count` referrals as fast as one producer can; the seconds it took."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1024 * 1024)
    await producer.start()
    try:
        start = time.perf_counter()
        pending = []
        for i, e in enumerate(referrals(count, seed=seed, today=date.today())):
            key = f"{e.data.source_system}:{e.data.source_referral_id}".encode()
            pending.append(await producer.send(topic, dump_event(e), key=key))
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending = []
            if (i + 1) % 100_000 == 0:
                print(f"  {i + 1:,} produced", flush=True)
        await asyncio.gather(*pending)
        return time.perf_counter() - start
    finally:
        await producer.stop()


@dataclass
class Progress:
    """assignment.delivered records so far, once a second."""

    bootstrap: str
    topic: str
    samples: list[tuple[float, int]] = field(default_factory=list)

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            while True:
                at = time.time()
                parts = consumer.partitions_for_topic(self.topic) or set()
                if not parts:
                    await consumer._client.force_metadata_update()
                ends = (
                    await consumer.end_offsets([TopicPartition(self.topic, p) for p in parts])
                    if parts
                    else {}
                )
                self.samples.append((at, sum(ends.values())))
                await asyncio.sleep(max(0.0, at + 1 - time.time()))
        finally:
            await consumer.stop()


@dataclass
class Backfill:
    referrals: int
    produced_s: float = 0.0
    launched_at: float = 0.0
    ready_at: float = 0.0
    drained_at: float | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    rss_samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    progress: list[tuple[float, int]] = field(default_factory=list)

    @property
    def elapsed_s(self) -> float:
        return (self.drained_at or float("nan")) - self.launched_at

    @property
    def delivered_s(self) -> float:
        """From the services' launch to the first sample showing every delivery made."""
        final = self.progress[-1][1] if self.progress else 0
        reached = next((at for at, n in self.progress if n == final), float("nan"))
        return reached - self.launched_at


async def _replay(
    demo: Demo, run: Backfill, admin: str, bootstrap: str, timeout_s: float, providers: int
) -> None:
    broker = kafka_pid()
    sampler = Sampler(demo, broker)
    progress = Progress(bootstrap, demo.prefix + DELIVERED)
    tasks = [asyncio.create_task(sampler.run()), asyncio.create_task(progress.run())]
    try:
        await demo.wait_ready()
        run.ready_at = time.time()
        before = cpu_snapshot(demo, broker, providers)

        def drained() -> None:
            after = cpu_snapshot(demo, broker, providers)
            run.cpu = {name: after[name] - before[name] for name in after}

        run.drained_at, _ = await wait_drained(
            admin, bootstrap, demo.prefix, run.referrals, timeout_s, on_drained=drained, reconciled=False
        )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    run.rss_samples, run.progress = sampler.samples, progress.samples


def rss_at(run: Backfill, name: str, share: float) -> float:
    """RSS of `name` at `share` of the replay's time (the nearest sample at or after it)."""
    when = run.launched_at + share * run.elapsed_s
    for at, row in run.rss_samples:
        if at >= when and name in row:
            return row[name]
    return float("nan")


def chart(path: Path, run: Backfill) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    ax = axes[0]
    ax.plot([(at - run.launched_at) / 60 for at, _ in run.progress], [n for _, n in run.progress])
    ax.set_title(
        f"Backfill of {run.referrals:,} referrals: deliveries ({run.referrals / run.delivered_s:.0f} referrals/s)"
    )
    ax.set_xlabel("minutes since the services started")
    ax.set_ylabel("assignment.delivered events (cumulative)")
    ax.grid(alpha=0.3)
    ax = axes[1]
    names = sorted({n for _, row in run.rss_samples for n in row})
    for name in names:
        pts = [((at - run.launched_at) / 60, row[name]) for at, row in run.rss_samples if name in row]
        ax.plot([t for t, _ in pts], [mb for _, mb in pts], label=name)
    ax.set_yscale("log")
    ax.set_title("RSS during the backfill (MB, log scale)")
    ax.set_xlabel("minutes since the services started")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def scaled_directory(home: Path, factor: int) -> Path:
    """The packaged provider directory with every monthly capacity times `factor`."""
    from triage.directory.load import PACKAGED

    directory = yaml.safe_load((importlib.resources.files("triage.directory") / PACKAGED).read_text())
    for service in directory["services"]:
        service["monthly_capacity"] = {p: n * factor for p, n in service["monthly_capacity"].items()}
    directory["version"] += f"-bench-x{factor}"
    path = home / "providers-directory.yaml"
    path.write_text(yaml.safe_dump(directory, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--chart", default="docs/perf-backfill.png")
    parser.add_argument("--capacity-factor", type=int, default=60, help="times every monthly capacity")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds the replay may take")
    args = parser.parse_args()

    admin = provisioned_bench_database()
    os.environ["DATABASE_URL"] = admin  # Demo and the services: the benchmark database only
    bootstrap = InfraSettings().kafka_bootstrap_servers
    ports = Ports(*(free_port() for _ in range(5)))
    home = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    os.environ["TRIAGE_DIRECTORY_FILE"] = str(scaled_directory(home, args.capacity_factor))  # triage reads it
    demo = Demo(args.referrals, 0, ports, Console(quiet=True), home=home)
    run = Backfill(args.referrals)
    providers = subprocess.Popen(
        [sys.executable, "-m", "bench.pipeline", "--child", "providers", "--port", str(ports.providers)]
    )
    try:
        wait_for_port(ports.providers, providers)
        asyncio.run(demo.fresh_topics())
        print(f"backfill: producing {args.referrals:,} referrals ...", flush=True)
        run.produced_s = asyncio.run(
            produce_backfill(bootstrap, demo.prefix + SUBMITTED, args.referrals, seed=7)
        )
        print(f"backfill: replaying (service logs under {home}/logs) ...", flush=True)
        run.launched_at = time.time()
        demo.start_services(fresh_topics=False)
        try:
            asyncio.run(_replay(demo, run, admin, bootstrap, args.timeout, providers.pid))
        finally:
            demo.stop_services()
    finally:
        providers.terminate()
        providers.wait(timeout=30)
        asyncio.run(delete_topics(bootstrap, [t.name for t in platform_topics(demo.prefix)]))

    chart(Path(args.chart), run)
    print()
    print(machine_line())
    print(
        f"backfill: {args.referrals:,} referrals on referral.submitted (produced in {run.produced_s:.0f} s) before"
        f" the four services started; monthly capacities x{args.capacity_factor}"
    )
    if run.drained_at is None:
        raise SystemExit(f"NOT drained within {args.timeout:.0f} s")
    delivered = run.progress[-1][1] if run.progress else 0
    print(
        f"{delivered:,} assignments delivered, the last {run.delivered_s:.0f} s after the services started:"
        f" {run.referrals / run.delivered_s:.0f} referrals/s"
    )
    print(
        f"replayed and drained (every referrer's status sent too) in {run.elapsed_s:.0f} s ({run.elapsed_s / 60:.1f} min): "
        f"{run.referrals / run.elapsed_s:.0f} referrals/s from the services' start"
    )
    print()
    print(f"{'RSS MB':<18}{'at 10%':>8}{'at 50%':>8}{'at 90%':>8}{'end':>8}{'peak':>8}{'10%→end':>9}")
    for name in [s for s, _, _ in SERVICES] + ["kafka broker"]:
        marks = [rss_at(run, name, share) for share in (0.1, 0.5, 0.9)]
        series = [row[name] for _, row in run.rss_samples if name in row]
        end, peak = (series[-1], max(series)) if series else (float("nan"),) * 2
        print(f"{name:<18}" + "".join(f"{m:>8.0f}" for m in [*marks, end, peak]) + f"{end - marks[0]:>+9.0f}")
    print()
    print_cpu("backfill: services ready to drained", run.cpu, run.drained_at - run.ready_at, run.referrals)
    print(f"chart: {args.chart}")


if __name__ == "__main__":
    main()
