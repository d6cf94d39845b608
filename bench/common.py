"""What every benchmark shares: where it runs, how it measures, how it prints."""

from __future__ import annotations

import os
import platform
import resource

from servicekit.provision import provision
from servicekit.settings import InfraSettings


def bench_database_url(admin: str) -> str:
    """The benchmarks' own database beside the stack's, so runs never touch real data."""
    return admin.rsplit("/", 1)[0] + "/referrals_bench"


def provisioned_bench_database() -> str:
    url = bench_database_url(InfraSettings().database_url.get_secret_value())
    provision(url)
    return url


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], p: float) -> float:
    """The p-quantile (0..1) of sorted `values`, nearest rank."""
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def machine_line() -> str:
    return f"machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}"
