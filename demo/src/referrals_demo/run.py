"""The demo run: the four services as processes on the local stack, GP systems and discharge teams
submitting a synthetic population, providers working it through, and the KPIs at the end.

Each run starts from empty service schemas and its own copy of every topic (a fresh prefix), so
the KPIs printed are this run's.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from aiokafka import AIOKafkaConsumer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from servicekit.messaging.admin import delete_topics_with_prefix, ensure_topics
from servicekit.settings import InfraSettings, StackSettings
from servicekit.stack.control import platform_topics
from servicekit.testing import reset_schema

from referrals_demo.load import SUBMITTED, submit
from referrals_demo.population import referrals
from referrals_demo.providers import WEBHOOK_PROVIDERS, Providers, api_keys, secret_env, webhook_secret
from referrals_demo.reconcile import reconcile
from referrals_demo.report import show_report

SERVICES = (
    ("referral-intake", "referral_intake", "INTAKE"),
    ("triage", "triage", "TRIAGE"),
    ("provider-notify", "provider_notify", "NOTIFY"),
    ("outcomes", "outcomes", "OUTCOMES"),
)
# Where a referral's life ends, as its referrer hears it.
# Every demo run's topics start with it, followed by the run's own time and suffix.
DEMO_PREFIX = "demo-"
FINAL = {"completed", "closed", "rejected", "returned_to_referrer", "signposted", "cancelled"}


@dataclass(frozen=True)
class Ports:
    intake: int = 8081
    triage: int = 8082
    notify: int = 8083
    outcomes: int = 8084
    providers: int = 8090

    def of(self, module: str) -> int:
        return {
            "referral_intake": self.intake,
            "triage": self.triage,
            "provider_notify": self.notify,
            "outcomes": self.outcomes,
        }[module]


class Demo:
    def __init__(
        self, count: int, rate: float, ports: Ports, console: Console, home: Path | None = None
    ) -> None:
        self.count, self.rate, self.ports, self.console = count, rate, ports, console
        self.infra = InfraSettings()
        self.prefix = f"{DEMO_PREFIX}{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:4]}."
        self.home = home or StackSettings().dir / "demo"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.statuses: dict[str, str] = {}
        self._env: dict[str, str] = {}
        self.seen: Counter[str] = Counter()

    # ------------------------------------------------------------------ services
    async def fresh_topics(self) -> None:
        """This run's topics, empty; earlier runs' topics go."""
        # Their schemas are reset when the services start, so nothing can use their events, and
        # each run's 148 partitions would otherwise stay on the broker for good.
        bootstrap = self.infra.kafka_bootstrap_servers
        await delete_topics_with_prefix(bootstrap, DEMO_PREFIX)
        await ensure_topics(bootstrap, platform_topics(self.prefix))

    def start_services(self, *, fresh_topics: bool = True) -> None:
        """Empty schemas, and (unless the caller has made them and filled some) fresh topics."""
        admin = self.infra.database_url.get_secret_value()
        for service, _, _ in SERVICES:
            reset_schema(admin, service)
        if fresh_topics:
            asyncio.run(self.fresh_topics())
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        channels = self.home / "providers.yaml"
        channels.write_text(
            yaml.safe_dump(
                {
                    "providers": [
                        {
                            "provider_id": p,
                            "channel": "webhook",
                            "url": f"http://127.0.0.1:{self.ports.providers}/providers/{p}/assignments",
                            "secret_env": secret_env(p),
                        }
                        for p in WEBHOOK_PROVIDERS
                    ]
                }
            )
        )
        keys = json.dumps(api_keys())
        env = os.environ | {
            "DATABASE_URL": admin,
            "KAFKA_BOOTSTRAP_SERVERS": self.infra.kafka_bootstrap_servers,
            "TOPIC_PREFIX": self.prefix,
            "INTAKE_ACCEPT_TEST_NHS_NUMBERS": "true",
            "NOTIFY_PROVIDERS_FILE": str(channels),
            "NOTIFY_API_KEYS": keys,
            "OUTCOMES_API_KEYS": keys,
            "OUTCOMES_KPI_PUBLISH_INTERVAL_S": "5",
            **{secret_env(p): webhook_secret(p) for p in WEBHOOK_PROVIDERS},
        }
        self._env = env
        for service, _, _ in SERVICES:
            self.launch(service)

    def launch(self, service: str) -> None:
        """Start `service` as its own process (again, after a crash), logging to its file."""
        module, prefix = next((m, p) for s, m, p in SERVICES if s == service)
        log = (self.home / "logs" / f"{service}.log").open("ab")
        self.procs[service] = subprocess.Popen(  # noqa: S603 - our own modules
            [sys.executable, "-m", module],
            env=self._env | {f"{prefix}_HTTP_PORT": str(self.ports.of(module))},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    async def wait_ready(self) -> None:
        async with httpx.AsyncClient() as client, asyncio.timeout(120):
            for service, module, _ in SERVICES:
                url = f"http://127.0.0.1:{self.ports.of(module)}/ready"
                while True:
                    proc = self.procs[service]
                    if proc.poll() is not None:
                        raise RuntimeError(
                            f"{service} exited with {proc.returncode}; see {self.home / 'logs' / service}.log"
                        )
                    try:
                        if (await client.get(url)).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.25)

    def stop_services(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    # ------------------------------------------------------------------ the run
    async def play(self) -> Providers:
        bootstrap = self.infra.kafka_bootstrap_servers
        providers = Providers(
            f"http://127.0.0.1:{self.ports.notify}", f"http://127.0.0.1:{self.ports.outcomes}"
        )
        server = uvicorn.Server(
            uvicorn.Config(
                providers.webhook_app(), host="127.0.0.1", port=self.ports.providers, log_config=None,
                access_log=False,
            )
        )  # fmt: skip
        background = [
            asyncio.create_task(server.serve()),
            asyncio.create_task(providers.read_kafka(bootstrap, self.prefix + "provider.assignments.v1")),
            asyncio.create_task(self._follow_statuses(bootstrap)),
        ]
        try:
            with Progress(
                TextColumn("{task.description:<44}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=self.console,
            ) as progress:  # fmt: skip
                submitted = progress.add_task("GP systems and discharge teams submit", total=self.count)
                answered = progress.add_task("intake answers (accepted or rejected)", total=self.count)
                placed = progress.add_task("assignments made (of triage decisions)", total=None)
                finished = progress.add_task("referrals finished (any final state)", total=self.count)
                submitting = asyncio.create_task(self._submit(bootstrap, progress, submitted))
                async with asyncio.timeout(max(600, self.count)):
                    while True:
                        progress.update(answered, completed=self.seen["accepted"] + self.seen["rejected"])
                        progress.update(
                            placed, completed=self.seen["assigned"], total=self.seen["triaged"] or None
                        )
                        done = sum(1 for s in self.statuses.values() if s in FINAL)
                        progress.update(finished, completed=done)
                        if submitting.done() and done >= self.count and providers.busy == 0:
                            break
                        await asyncio.sleep(0.3)
                await submitting
            await asyncio.sleep(2 * 5)  # two KPI publishing passes and the last relay round
            return providers
        finally:
            server.should_exit = True
            for task in background[1:]:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await providers.close()

    async def _submit(self, bootstrap: str, progress: Progress, task: Any) -> None:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        await producer.start()
        try:
            await submit(
                producer, self.prefix + SUBMITTED, referrals(self.count), rate=self.rate,
                on_sent=lambda n: progress.update(task, completed=n),
            )  # fmt: skip
        finally:
            await producer.stop()

    async def _follow_statuses(self, bootstrap: str) -> None:
        consumer = AIOKafkaConsumer(
            self.prefix + "referral.status.v1", bootstrap_servers=bootstrap, auto_offset_reset="earliest",
            group_id=f"demo-referrers-{uuid.uuid4().hex[:6]}",
        )  # fmt: skip
        await consumer.start()
        try:
            async for record in consumer:
                event = json.loads(record.value or b"{}")
                data = event.get("data", {})
                status = data.get("status")
                if status is None:
                    continue
                self.seen[status] += 1
                key = f"{data['source_system']}:{data['source_referral_id']}"
                if self.statuses.get(key) not in FINAL:
                    self.statuses[key] = status
        finally:
            await consumer.stop()

    # ------------------------------------------------------------------ the summary
    async def summary(self, providers: Providers) -> None:
        ends = Counter(s for s in self.statuses.values())
        table = Table(title="How the referrals ended (as their referrers heard it)")
        table.add_column("status")
        table.add_column("referrals", justify="right")
        for status, n in ends.most_common():
            table.add_row(status, str(n))
        self.console.print(table)
        taken = ", ".join(f"{n} by {channel}" for channel, n in providers.tally.taken.items())
        self.console.print(f"Providers took {sum(providers.tally.taken.values())} assignments ({taken}).")
        if providers.tally.refused:
            self.console.print(f"[yellow]{len(providers.tally.refused)} provider requests were refused, e.g.")
            for line in providers.tally.refused[:3]:
                self.console.print(f"  {line}", markup=False)
        base = f"http://127.0.0.1:{self.ports.outcomes}"
        async with httpx.AsyncClient() as client:
            cells = (await client.get(f"{base}/kpis", params={"by": "programme"})).json()["cells"]
            gap = (await client.get(f"{base}/kpis", params={"by": "core20"})).json()["cells"]
        report = await reconcile(
            self.infra.database_url.get_secret_value(),
            self.infra.kafka_bootstrap_servers,
            self.prefix,
            expect_final=True,
        )
        show_report(report, self.console)
        self.console.print(_kpi_table("KPIs by programme (cells under 5 suppressed)", cells))
        self.console.print(_kpi_table("KPIs, Core20 areas and the rest", gap))
        self.console.print(
            f"Dashboard: [bold]{base}/dashboard[/bold]   KPIs as CSV: {base}/kpis.csv?by=district"
        )


# (KPI, column heading) in the summary tables.
SHOWN = (
    ("uptake", "uptake"),
    ("completion", "completed"),
    ("adherence", "attended"),
    ("inactive_to_active_12w", "inactive→active"),
    ("activity_minutes_change", "MVPA min/wk"),
    ("wellbeing_change", "SWEMWBS"),
)


def _kpi_table(title: str, cells: list[dict[str, Any]]) -> Table:
    by = {(c["kpi"], c["dimension_value"]): c for c in cells}
    table = Table(title=title)
    table.add_column("")
    table.add_column("referred", justify="right")
    for _, heading in SHOWN:
        table.add_column(heading, justify="right")
    for value in sorted({c["dimension_value"] for c in cells}):
        referred = by.get(("uptake", value))
        count = (
            "supp." if referred is None or referred["denominator"] is None else str(referred["denominator"])
        )
        table.add_row(value, count, *(_shown(kpi, by.get((kpi, value))) for kpi, _ in SHOWN))
    return table


def _shown(kpi: str, cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "-"
    if cell["suppression"] != "none":
        return "supp."
    value = cell["value"]
    return f"{value:+.1f}" if kpi.endswith("_change") else f"{value:.0%}"


def run(count: int, rate: float, ports: Ports, serve: bool, console: Console) -> Path:
    demo = Demo(count, rate, ports, console)
    console.print(f"[bold]Demo[/bold]: {count} referrals at {rate:g}/s; topics under {demo.prefix!r}")
    console.print(f"Service logs: {demo.home}/logs")
    demo.start_services()
    try:
        asyncio.run(demo.wait_ready())
        console.print("referral-intake, triage, provider-notify and outcomes are ready")
        providers = asyncio.run(demo.play())
        asyncio.run(demo.summary(providers))
        if serve:
            console.print("The services keep running for the dashboard; Ctrl-C stops them.")
            try:
                signal.pause()
            except KeyboardInterrupt:
                pass
    finally:
        demo.stop_services()
    return demo.home
