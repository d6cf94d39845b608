"""`python -m referrals_demo demo|reconcile|load|trace` (what `make demo` and `referrals demo`,
`referrals reconcile`, `referrals load` and `referrals trace` run)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer
from referral_schemas.enums import SourceType
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


@app.command()
def load(
    count: Annotated[int, typer.Option(min=0, help="referral.submitted events to publish")],
    rate: Annotated[
        float | None, typer.Option(min=0.001, help="at most this many a second (default: no limit)")
    ] = None,
    source: Annotated[
        list[SourceType] | None, typer.Option(help="only referrals from this kind of referrer (repeatable)")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="the population's seed (default: a new one, so new referrals)")
    ] = None,
    prefix: Annotated[
        str | None, typer.Option(help="the deployment's topic prefix (default: TOPIC_PREFIX)")
    ] = None,
) -> None:
    """Publish synthetic referrals to a running deployment's referral.submitted topic."""
    from servicekit.settings import InfraSettings

    from referrals_demo.load import TopicMissing
    from referrals_demo.load import load as load_run

    infra = InfraSettings()
    console = _console()
    try:
        done = asyncio.run(
            load_run(
                infra.kafka_bootstrap_servers,
                infra.topic_prefix if prefix is None else prefix,
                count,
                rate=rate,
                sources=frozenset(source) if source else None,
                seed=seed,
                console=console,
            )
        )
    except TopicMissing as exc:
        console.print(f"[red]{exc}", highlight=False)
        raise typer.Exit(1) from exc
    console.print(
        f"Sent {done.sent} referral.submitted events to {done.topic} on {infra.kafka_bootstrap_servers} "
        f"in {done.elapsed_s:.1f}s (seed {done.seed})",
        highlight=False,
        soft_wrap=True,
    )
    if done.first:
        console.print(f"The first of them: referrals trace {done.first}", highlight=False)


@app.command()
def trace(
    referral: Annotated[
        str, typer.Argument(help="a referral id, or source_system:source_referral_id (the referrer's)")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print the journey as JSON")] = False,
) -> None:
    """A referral's journey through the four services, in time order, from their own tables."""
    from outcomes.settings import OutcomesSettings
    from servicekit.settings import InfraSettings

    from referrals_demo.trace import SERVICES, referral_id_of, show
    from referrals_demo.trace import trace as trace_run

    try:
        referral_id = referral_id_of(referral)
    except ValueError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[red]{exc}", highlight=False)
        raise typer.Exit(2) from exc
    secret = OutcomesSettings().episode_key_secret.get_secret_value().encode()
    journey = asyncio.run(trace_run(InfraSettings().database_url.get_secret_value(), referral_id, secret))
    if as_json:
        print(json.dumps(journey.as_json(), indent=2))
    elif journey.found:
        show(journey, _console())
    if not journey.found:
        looked = [s for s in SERVICES if s not in journey.unavailable]
        why = f"no row in {_names(looked)}" if looked else "no service's tables are in this database"
        if looked and journey.unavailable:
            why += f"; no tables of {_names(list(journey.unavailable))} in this database"
        Console(stderr=True, soft_wrap=True).print(
            f"[red]Referral {referral_id} ({referral}) is not known to any service: {why}.", highlight=False
        )
        raise typer.Exit(1)


def _names(services: list[str]) -> str:
    return services[0] if len(services) == 1 else f"{', '.join(services[:-1])} or {services[-1]}"


def _console() -> Console:
    # Piped output (a log, CI) gets room for the tables instead of 80 columns.
    return Console() if sys.stdout.isatty() else Console(width=120)


if __name__ == "__main__":
    app()
