"""`python -m referrals_demo` (what `make demo` and `referrals demo` run)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from referrals_demo.run import Ports, run

app = typer.Typer(add_completion=False)


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


if __name__ == "__main__":
    app()
