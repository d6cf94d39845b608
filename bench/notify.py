"""provider-notify under load: webhook delivery to 50 local providers, one slow and one failing.

    uv run python -m bench.notify [--assignments 20000] [--rate 200] [--seconds 10] [--processes 1]

Fifty webhook providers are served on loopback by one receiver process (a small asyncio HTTP/1.1
server, so that the receivers cost little of the CPU the service needs): 48 answer at once,
`bench-slow` answers after 2 s and `bench-failing` always answers 503. Every request's signature
is verified against the provider's secret, which the service reads from the environment variable
its generated NOTIFY_PROVIDERS_FILE names. The service runs as its own process (see
bench/service_bench.py) with retries short enough that the failing provider's deliveries are
parked within the run (NOTIFY_GIVE_UP_AFTER_S=5).

Backlog: `--assignments` assignment.created events wait on Kafka, spread evenly over the 50
providers; deliveries/s to the 48 healthy providers from the receivers' clock (first to last
POST), and the slowest and fastest healthy provider's own rate. As many healthy assignments are
then delivered again without the slow and failing providers, to show whether they lower the
others' rate. The run lasts until the slow provider has taken its share (8 at a time, 2 s each).

Latency: `--rate` assignments/s for `--seconds`, over all 50 providers; milliseconds from the
producer handing the record to Kafka to the receiver reading the POST, healthy providers only.
Peak RSS is the service process's, over each run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from provider_notify.domain.signing import Verified, verify
from referral_schemas import Envelope, new_envelope
from referral_schemas.examples import example

from bench.common import cpu_line, machine_line, pct, provisioned_bench_database
from bench.service_bench import Target, run_once

HEALTHY = [f"bench-hook-{i:02d}" for i in range(48)]
SLOW, FAILING = "bench-slow", "bench-failing"
SLOW_S = 2.0
WARM_UP_S = 1.0  # the first second of the paced run is also shown apart: pools connect then
DONE_SQL = "SELECT count(*) FROM assignments WHERE delivery_state <> 'pending'"


def secret_env(provider_id: str) -> str:
    return "BENCH_NOTIFY_SECRET_" + provider_id.upper().replace("-", "_")


def secret_of(provider_id: str) -> bytes:
    return f"bench-secret-of-{provider_id}".encode()


# ---------------------------------------------------------------- the receivers (own process)
class Receivers:
    """What the 50 endpoints took: per provider, each delivery id's first arrival (unix s)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.first: dict[str, dict[str, float]] = {}
        self.requests = 0
        self.repeats = 0
        self.refused = 0

    def take(self, provider: str, headers: dict[bytes, bytes], body: bytes) -> int:
        now = time.time()
        self.requests += 1
        if provider == FAILING:
            return 503
        result = verify(
            headers.get(b"referrals-signature", b"").decode(), body, [secret_of(provider)], now=int(now)
        )
        if not isinstance(result, Verified):
            self.refused += 1
            return 401
        delivery = headers.get(b"referrals-delivery-id", b"").decode()
        seen = self.first.setdefault(provider, {})
        if delivery in seen:
            self.repeats += 1
        else:
            seen[delivery] = now
        return 200

    def stats(self) -> bytes:
        return json.dumps(
            {"first": self.first, "requests": self.requests, "repeats": self.repeats, "refused": self.refused}
        ).encode()


REASONS = {200: b"OK", 401: b"Unauthorized", 404: b"Not Found", 503: b"Service Unavailable"}


class _Http(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, one request at a time per connection (as httpx sends them)."""

    def __init__(self, receivers: Receivers) -> None:
        self.receivers = receivers
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].split(b"\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, path, _ = head[0].split(b" ", 2)
            self.handle(method, path.decode(), headers, body)

    def handle(self, method: bytes, path: str, headers: dict[bytes, bytes], body: bytes) -> None:
        if path.startswith("/p/") and method == b"POST":
            provider = path[3:]
            status = self.receivers.take(provider, headers, body)
            if provider == SLOW:
                asyncio.get_running_loop().call_later(SLOW_S, self.answer, status, b"{}")
                return
            self.answer(status, b"{}")
        elif path == "/stats":
            self.answer(200, self.receivers.stats())
        elif path == "/reset":
            self.receivers.reset()
            self.answer(200, b"{}")
        else:
            self.answer(404, b"{}")

    def answer(self, status: int, body: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
            % (status, REASONS[status], len(body), body)
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve_receivers() -> None:
    receivers = Receivers()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Http(receivers), "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


class ReceiverProcess:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.notify", "--serve-receivers"], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.base = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


# ---------------------------------------------------------------- the service's configuration
def providers_file(base: str, directory: Path) -> Path:
    path = directory / "providers.yaml"
    providers = [
        {"provider_id": p, "channel": "webhook", "url": f"{base}/p/{p}", "secret_env": secret_env(p)}
        for p in [*HEALTHY, SLOW, FAILING]
    ]
    path.write_text(yaml.safe_dump({"providers": providers}), encoding="utf-8")
    return path


def target(path: Path) -> Target:
    return Target(
        service="provider-notify",
        module="provider_notify",
        env_prefix="NOTIFY",
        input_topic="assignment.created.v1",
        answer_topics=("assignment.delivered.v1", "assignment.delivery_failed.v1"),
        done_sql=DONE_SQL,
        extra_env=(
            ("NOTIFY_PROVIDERS_FILE", str(path)),
            ("NOTIFY_RETRY_BASE_S", "0.5"),
            ("NOTIFY_RETRY_CAP_S", "2"),
            ("NOTIFY_GIVE_UP_AFTER_S", "5"),
            ("NOTIFY_REMIND_BEFORE_WORKING_DAYS", "0"),
            *((secret_env(p), secret_of(p).decode()) for p in [*HEALTHY, SLOW, FAILING]),
        ),
    )


# ---------------------------------------------------------------- the inputs
def assignments(providers: list[str], count: int, ids: dict[str, str]) -> Iterator[Envelope[Any]]:
    """`count` assignments round-robin over `providers`; `ids` gets each one's assignment id by
    its event id."""
    template = example("assignment.created")
    deadline = datetime.now(UTC) + timedelta(days=5)  # the example's deadline has passed
    for i in range(count):
        data = template.data.model_copy(
            update={
                "provider_id": providers[i % len(providers)],
                "assignment_id": uuid.UUID(int=i + 1, version=4),
                "contact_deadline": deadline,
            }
        )
        event = new_envelope(type(template), data, producer="triage", referral_id=uuid.uuid4())
        ids[str(event.event_id)] = str(data.assignment_id)
        yield event


# ---------------------------------------------------------------- measuring
def healthy_rate(first: dict[str, dict[str, float]]) -> tuple[int, float, float, float]:
    """Healthy deliveries, deliveries/s first to last POST, and the slowest and fastest provider's rate."""
    times = sorted(t for p in HEALTHY for t in first.get(p, {}).values())
    if len(times) < 2:
        return len(times), float("nan"), float("nan"), float("nan")
    rates = []
    for p in HEALTHY:
        mine = sorted(first.get(p, {}).values())
        if len(mine) > 1:
            rates.append((len(mine) - 1) / (mine[-1] - mine[0]))
    return len(times), (len(times) - 1) / (times[-1] - times[0]), min(rates), max(rates)


def backlog_run(
    receivers: ReceiverProcess, admin: str, path: Path, count: int, providers: list[str], processes: int
) -> dict[str, Any]:
    receivers.get("/reset")
    started = time.perf_counter()
    result = run_once(
        target(path), admin, lambda: assignments(providers, count, {}), count, None, processes=processes
    )
    stats = receivers.get("/stats")
    delivered, rate, slowest, fastest = healthy_rate(stats["first"])
    return {
        "count": count,
        "expected": sum(1 for i in range(count) if providers[i % len(providers)] in HEALTHY),
        "healthy": delivered,
        "rate": rate,
        "slowest": slowest,
        "fastest": fastest,
        "slow": len(stats["first"].get(SLOW, {})),
        "posts": stats["requests"],
        "repeats": stats["repeats"],
        "refused": stats["refused"],
        "rss_mb": result["rss_mb"],
        "cpu_s": result["cpu_s"],
        "wall_s": time.perf_counter() - started,
    }


def paced_run(
    receivers: ReceiverProcess, admin: str, path: Path, rate: float, seconds: float, processes: int
) -> dict[str, Any]:
    receivers.get("/reset")
    count = int(rate * seconds)
    ids: dict[str, str] = {}
    providers = [*HEALTHY, SLOW, FAILING]
    result = run_once(
        target(path), admin, lambda: assignments(providers, count, ids), count, rate, processes=processes
    )
    # Each assignment's hand-over: the time its record was produced (unix s).
    sent = {ids[event_id]: ms / 1000 for event_id, ms in result["sent_ms"].items()}
    stats = receivers.get("/stats")
    pairs = [(sent[d], (t - sent[d]) * 1000) for p in HEALTHY for d, t in stats["first"].get(p, {}).items()]
    latencies = sorted(ms for _, ms in pairs)
    warm = min(sent.values()) + WARM_UP_S
    steady = sorted(ms for at, ms in pairs if at >= warm)
    return {
        "count": count,
        "healthy": len(latencies),
        "p50": pct(latencies, 0.5),
        "p99": pct(latencies, 0.99),
        "steady_p50": pct(steady, 0.5),
        "steady_p99": pct(steady, 0.99),
        "max": latencies[-1] if latencies else float("nan"),
        "kafka_p50": pct(result["latencies"], 0.5),
        "kafka_p99": pct(result["latencies"], 0.99),
        "repeats": stats["repeats"],
        "refused": stats["refused"],
        "rss_mb": result["rss_mb"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assignments", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--skip", choices=["without", "latency"], action="append", default=[])
    parser.add_argument("--processes", type=int, default=1, help="service instances in the group")
    parser.add_argument("--serve-receivers", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_receivers:
        asyncio.run(serve_receivers())
        return
    admin = provisioned_bench_database()
    receivers = ReceiverProcess()
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        with tempfile.TemporaryDirectory() as directory:
            path = providers_file(receivers.base, Path(directory))
            everyone = [*HEALTHY, SLOW, FAILING]
            rows.append(
                (
                    "with slow+failing",
                    backlog_run(receivers, admin, path, args.assignments, everyone, args.processes),
                )
            )
            if "without" not in args.skip:
                healthy_share = rows[0][1]["expected"]
                rows.append(
                    (
                        "healthy only",
                        backlog_run(receivers, admin, path, healthy_share, HEALTHY, args.processes),
                    )
                )
            paced = None
            if "latency" not in args.skip:
                paced = paced_run(receivers, admin, path, args.rate, args.seconds, args.processes)
    finally:
        receivers.stop()
    print(machine_line())
    print(
        f"provider-notify: webhook delivery to 50 loopback providers ({len(HEALTHY)} healthy,"
        f" 1 answering after {SLOW_S:.0f} s, 1 always 503)"
    )
    print(
        f"backlog of {args.assignments} assignments (healthy-only run: as many as the healthy ones got);"
        f" {args.processes} process(es)"
    )
    print("deliv/s: to healthy providers, first to last; slowest/fastest: one healthy provider's own;")
    print("slow: taken by the 2 s provider; POSTs: every request, retries to the failing one included")
    print(
        f"{'run':<20}{'healthy':>9}{'deliv/s':>9}{'slowest':>9}{'fastest':>9}{'slow':>6}{'POSTs':>7}"
        f"{'repeats':>9}{'RSS MB':>8}{'wall s':>8}"
    )
    for name, r in rows:
        print(
            f"{name:<20}{r['healthy']:>9}{r['rate']:>9.0f}{r['slowest']:>9.1f}{r['fastest']:>9.1f}"
            f"{r['slow']:>6}{r['posts']:>7}{r['repeats']:>9}{r['rss_mb']:>8.1f}{r['wall_s']:>8.0f}"
        )
    for name, r in rows:
        print(cpu_line(name, r["cpu_s"], r["count"]))
    if paced is not None:
        print(
            f"latency at {args.rate:.0f} assignments/s for {args.seconds:.0f} s ({paced['count']} over 50 providers),"
            " healthy providers, input record to the receiver reading the POST"
        )
        print(
            f"{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'after 1 s: p50':>16}{'p99':>7}"
            f"{'event p50':>11}{'event p99':>11}{'RSS MB':>8}"
        )
        print(
            f"{paced['p50']:>8.1f}{paced['p99']:>8.1f}{paced['max']:>8.1f}{paced['steady_p50']:>16.1f}"
            f"{paced['steady_p99']:>7.1f}{paced['kafka_p50']:>11.0f}{paced['kafka_p99']:>11.0f}"
            f"{paced['rss_mb']:>8.1f}"
        )
        print("(event: to assignment.delivered / delivery_failed on Kafka, all 50 providers)")
    refused = sum(r["refused"] for _, r in rows) + (paced["refused"] if paced else 0)
    if refused:
        raise SystemExit(f"{refused} deliveries failed signature verification")
    if any(r["healthy"] != r["expected"] for _, r in rows):
        raise SystemExit("not every healthy assignment was delivered: the figures measure something else")


if __name__ == "__main__":
    main()
