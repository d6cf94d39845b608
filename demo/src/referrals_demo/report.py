"""A reconciliation report as a table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from referrals_demo.reconcile import Report


def show_report(report: Report, console: Console) -> None:
    table = Table(title="Reconciliation")
    table.add_column("check")
    table.add_column("", justify="center")
    table.add_column("counts")
    for c in report.checks:
        table.add_row(c.name, "[green]ok" if c.ok else "[red]FAILED", c.detail)
    console.print(table)
    statuses = ", ".join(f"{s} {n}" for s, n in report.statuses.most_common())
    console.print(f"Referral statuses: {statuses}")
