"""`python -m referrals_demo demo|reconcile` (what `make demo`, `referrals demo` and
`referrals reconcile` run)."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from rich.console import Console

from referrals_demo.reconcile import reconcile as reconcile_run
from referrals_demo.report import show_report
from referrals_demo.run import Ports, run

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.command()
def demo(
    referrals: Annotated[int, typer.Option(help="referrals to submit")] = 300,
    rate: Annotated[float, typer.Option(help="referrals submitted per second")] = 25.0,
    serve: Annotated[
        bool | None, typer.Option(help="keep the services up for the dashboard (default: on a terminal)")
    ] = None,
    outcomes_port: Annotated[int, typer.Option(help="outcomes' HTTP port (the dashboard)")] = 8084,
    providers_port: Annotated[int, typer.Option(help="the played providers' webhook port")] = 8090,
) -> None:
    """Run the whole workflow on a synthetic LLR population and print its KPIs."""
    keep = sys.stdin.isatty() if serve is None else serve
    # Piped output (a log, CI) gets room for the KPI tables instead of 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=120)
    run(referrals, rate, Ports(outcomes=outcomes_port, providers=providers_port), keep, console)


@app.command()
def reconcile(
    prefix: Annotated[str, typer.Option(help="the run's topic prefix (the demo prints it)")] = "",
    final: Annotated[bool, typer.Option(help="also require every referral to be in a final state")] = False,
) -> None:
    """Check a run: every referral accounted for once, every side effect once, KPIs recomputable."""
    from servicekit.settings import InfraSettings

    infra = InfraSettings()
    report = asyncio.run(
        reconcile_run(
            infra.database_url.get_secret_value(), infra.kafka_bootstrap_servers, prefix, expect_final=final
        )
    )
    show_report(report, Console())
    raise typer.Exit(0 if report.ok else 1)


if __name__ == "__main__":
    app()
