"""`referrals`: the operator's command line (stack, database, dead letters)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from servicekit.stack.proc import StackError

app = typer.Typer(help="Operate the active-referrals platform.", no_args_is_help=True)
db_app = typer.Typer(help="Database roles, schemas and migrations.", no_args_is_help=True)
dlq_app = typer.Typer(help="Inspect and replay dead-letter topics.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(dlq_app, name="dlq")
console = Console()


def _show(components: list) -> bool:  # type: ignore[type-arg]
    table = Table("component", "endpoint", "state")
    for c in components:
        table.add_row(c.name, c.endpoint, f"[green]{c.detail}" if c.healthy else f"[red]{c.detail}")
    console.print(table)
    return all(c.healthy for c in components)


@app.command()
def up() -> None:
    """Start Kafka and PostgreSQL (or use KAFKA_BOOTSTRAP_SERVERS/DATABASE_URL), provision, create topics."""
    from servicekit.stack import control

    try:
        healthy = _show(control.up())
    except StackError as exc:
        console.print(f"[red]stack failed: {exc}")
        raise typer.Exit(1) from exc
    if not healthy:
        raise typer.Exit(1)
    console.print("[green]stack is up and healthy")


# Verbs implemented by the demo package (which needs the services' packages), run in a child
# process with every option passed through, --help included.
_DELEGATED = {
    "demo": "Run the four services on a synthetic LLR population and print the KPIs.",
    "reconcile": "Check a run: every referral accounted for once, every side effect once.",
    "load": "Publish synthetic referrals to a running deployment's referral.submitted.",
    "trace": "A referral's journey through the four services, by id or source:id.",
}


def _delegate(verb: str) -> None:
    def run(ctx: typer.Context) -> None:
        import subprocess
        import sys

        raise typer.Exit(subprocess.call([sys.executable, "-m", "referrals_demo", verb, *ctx.args]))  # noqa: S603

    app.command(
        name=verb,
        help=f"{_DELEGATED[verb]} (options: --help)",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )(run)


for _verb in _DELEGATED:
    _delegate(_verb)


@app.command()
def down() -> None:
    """Stop the local Kafka and PostgreSQL (their data stays in .stack/)."""
    from servicekit.stack import control

    control.down()


@app.command()
def status() -> None:
    """Report whether Kafka and PostgreSQL answer; exit 1 if either does not."""
    from servicekit.stack import control

    if not _show(control.status()):
        raise typer.Exit(1)


@app.command()
def logs(
    component: Annotated[str | None, typer.Argument(help="kafka or postgres; both if omitted")] = None,
    lines: Annotated[int, typer.Option(help="lines from the end of each log")] = 50,
) -> None:
    """Show the end of the stack's logs."""
    from servicekit.stack import control

    console.print(control.logs(component, lines), markup=False, highlight=False)


@db_app.command("provision")
def db_provision() -> None:
    """Create the database, the per-service roles and schemas (idempotent)."""
    from servicekit.provision import provision
    from servicekit.settings import InfraSettings

    roles = provision(InfraSettings().database_url.get_secret_value())
    console.print(f"provisioned roles and schemas: {', '.join(roles)}")


@db_app.command("migrate")
def db_migrate(service: Annotated[str, typer.Argument(help="e.g. referral-intake")]) -> None:
    """Apply a service's pending migrations as the service's own role."""
    from servicekit.db.migrate import migrate_service

    applied = migrate_service(service)
    console.print(f"{service}: {len(applied)} migration(s) applied {applied}")


@dlq_app.command("list")
def dlq_list(
    topic: Annotated[str, typer.Argument(help="the original topic, or its .dlq")],
    limit: Annotated[int, typer.Option(help="at most this many entries")] = 100,
) -> None:
    """List the entries of a dead-letter topic with their reasons."""
    from servicekit.messaging.dlq_tools import list_dead_letters
    from servicekit.settings import InfraSettings

    entries = asyncio.run(list_dead_letters(InfraSettings().kafka_bootstrap_servers, topic, limit))
    table = Table("partition", "offset", "reason", "detail", "consumer", "original")
    for e in entries:
        table.add_row(
            str(e.partition),
            str(e.offset),
            e.reason,
            e.detail[:120],
            e.consumer,
            f"{e.original_topic}[{e.original_partition}]@{e.original_offset}",
        )
    console.print(table)
    console.print(f"{len(entries)} dead letter(s)")


@dlq_app.command("replay")
def dlq_replay(
    topic: Annotated[str, typer.Argument(help="the original topic, or its .dlq")],
    limit: Annotated[int | None, typer.Option(help="replay at most this many")] = None,
) -> None:
    """Republish dead letters not replayed before onto their original topic."""
    from servicekit.messaging.dlq_tools import replay_dead_letters
    from servicekit.settings import InfraSettings

    count = asyncio.run(replay_dead_letters(InfraSettings().kafka_bootstrap_servers, topic, limit))
    console.print(f"replayed {count} dead letter(s)")


if __name__ == "__main__":
    app()
