"""What every benchmark shares: where it runs, how it measures, how it prints."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import time
from pathlib import Path

from servicekit.provision import provision
from servicekit.settings import InfraSettings, StackSettings


def bench_database_url(admin: str) -> str:
    """The benchmarks' own database beside the stack's, so runs never touch real data."""
    return admin.rsplit("/", 1)[0] + "/referrals_bench"


def provisioned_bench_database() -> str:
    url = bench_database_url(InfraSettings().database_url.get_secret_value())
    provision(url)
    return url


def peak_rss_mb() -> float:
    """This process's peak resident set since it started its program (VmHWM). Not getrusage's
    maxrss: Linux carries that across exec from the forked copy of the parent, so a service
    process started by a benchmark holding its backlog in memory reported the benchmark's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], p: float) -> float:
    """The p-quantile (0..1) of sorted `values`, nearest rank."""
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def machine_line() -> str:
    return (
        f"machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()};"
        f" reference loop {reference_loop_s():.3f} s"
    )


def reference_loop_s() -> float:
    """CPU seconds for a fixed pure-Python loop, best of three, taken as a run ends. This shared
    machine's speed drifts by half within an hour (the same code, minutes apart, cost 0.26 and
    0.42 ms of CPU a decision), so figures are only compared between runs of similar reference."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        sum(i * i for i in range(1_000_000))
        best = min(best, time.process_time() - started)
    return best


def kafka_pid() -> int | None:
    pid_file = StackSettings().dir / "kafka" / "kafka.pid"
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pass
    found = subprocess.run(["pgrep", "-f", "kafka.Kafka"], capture_output=True, text=True, check=False)
    pids = [int(p) for p in found.stdout.split()]
    return pids[0] if pids else None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int, *, reaped: bool = False) -> float:
    """CPU seconds (user + system) `pid` has used; with `reaped`, its exited children's too."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLOCK_TICKS


def postgres_cpu_s() -> float:
    """Every PostgreSQL process's CPU, with the postmaster's exited backends."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() != "postgres":
                    continue
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            # The postmaster is the postgres process whose parent is not one.
            total += cpu_s(int(proc.name), reaped=not _is_postgres(parent))
    return total


def _is_postgres(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except OSError:
        return False


def cpu_line(label: str, used: dict[str, float], inputs: int) -> str:
    """CPU milliseconds per input, by process: what bounds the rate on a machine of few cores."""
    cells = ", ".join(f"{name} {s * 1000 / inputs:.3f}" for name, s in used.items())
    return f"{label}: CPU ms per input: {cells}; all {sum(used.values()) * 1000 / inputs:.2f}"
