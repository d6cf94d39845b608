"""The commissioners' dashboard: uptake, completion and activity change by programme and district,
and the Core20 gap over time, drawn with Plotly from the same suppressed cells as the API.

The figures are computed on the server and embedded in the page, both as chart data and as
tables (which also carry the suppression notes); Plotly's bundle is served from the installed
package, so the page needs nothing from the internet.
"""

from __future__ import annotations

import html
import importlib.resources
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import asyncpg
from referral_schemas.enums import KpiDimension, KpiName
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from outcomes.domain.dimensions import MONTH, Dimension
from outcomes.domain.kpis import KPIS, Aggregate, KpiCell
from outcomes.service_layer.reporting import kpi_cells

_AGGREGATES = {k.name: k.aggregate for k in KPIS}
_TITLES = {k.name: k.description for k in KPIS}


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    by: str
    series: dict[str, tuple[KpiName, dict[str, float | None]]]
    """Series name -> its KPI and, per category, the value (None when suppressed)."""
    kind: str  # bar or line


def _series(cells: Sequence[KpiCell], kpi: KpiName) -> dict[str, float | None]:
    return {c.dimension_value: c.value for c in cells if c.kpi is kpi}


def _bar(
    chart_id: str, title: str, by: Dimension, cells: Sequence[KpiCell], kpis: Sequence[KpiName]
) -> Chart:
    return Chart(chart_id, title, str(by), {k.value: (k, _series(cells, k)) for k in kpis}, "bar")


async def charts(conn: asyncpg.Connection) -> list[Chart]:
    by_programme = await kpi_cells(conn, by=KpiDimension.PROGRAMME)
    by_district = await kpi_cells(conn, by=KpiDimension.DISTRICT)
    core20 = await kpi_cells(conn, by=MONTH, filters={KpiDimension.CORE20: "core20"})
    rest = await kpi_cells(conn, by=MONTH, filters={KpiDimension.CORE20: "rest"})
    both = (KpiName.UPTAKE, KpiName.COMPLETION)
    return [
        _bar(
            "programme-rates",
            "Uptake and completion by programme",
            KpiDimension.PROGRAMME,
            by_programme,
            both,
        ),
        _bar(
            "programme-activity",
            "Change in activity minutes per week, baseline to 12 weeks, by programme",
            KpiDimension.PROGRAMME,
            by_programme,
            (KpiName.ACTIVITY_MINUTES_CHANGE,),
        ),
        _bar("district-rates", "Uptake and completion by district", KpiDimension.DISTRICT, by_district, both),
        Chart(
            "core20-gap",
            "Uptake by month of referral: Core20 areas and the rest",
            "month",
            {
                "core20": (KpiName.UPTAKE, _series(core20, KpiName.UPTAKE)),
                "rest": (KpiName.UPTAKE, _series(rest, KpiName.UPTAKE)),
            },
            "line",
        ),
    ]


def _shown(kpi: KpiName, value: float | None) -> str:
    if value is None:
        return "suppressed"
    if _AGGREGATES[kpi] is Aggregate.RATE:
        return f"{value:.1%}"
    return f"{value:+.1f}" if _AGGREGATES[kpi] is Aggregate.MEAN else f"{value:.1f}"


def _table(chart: Chart) -> str:
    categories = sorted({c for _, s in chart.series.values() for c in s})
    head = "".join(f"<th>{html.escape(name)}</th>" for name in chart.series)
    rows = []
    for category in categories:
        values = []
        for name, (kpi, series) in chart.series.items():
            shown = _shown(kpi, series[category]) if category in series else "-"
            values.append(f'<td data-series="{html.escape(name)}">{html.escape(shown)}</td>')
        label = html.escape(category)
        rows.append(f'<tr data-category="{label}"><th>{label}</th>{"".join(values)}</tr>')
    return (
        f'<table id="{chart.chart_id}-table"><thead><tr><th>{html.escape(chart.by)}</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _figure(chart: Chart) -> dict[str, Any]:
    traces = []
    for name, (_, series) in chart.series.items():
        categories = sorted(series)
        trace: dict[str, Any] = {
            "name": name,
            "x": categories,
            "y": [series[c] for c in categories],
            "type": "bar" if chart.kind == "bar" else "scatter",
        }
        if chart.kind == "line":
            trace["mode"] = "lines+markers"
            trace["connectgaps"] = False
        traces.append(trace)
    rate = all(_AGGREGATES[kpi] is Aggregate.RATE for kpi, _ in chart.series.values())
    layout = {
        "barmode": "group",
        "yaxis": {"tickformat": ".0%" if rate else ""},
        "margin": {"t": 20, "b": 120},
    }
    return {"data": traces, "layout": layout}


def page(found: Sequence[Chart]) -> str:
    sections = "".join(
        f'<section><h2>{html.escape(c.title)}</h2><div class="chart" id="{c.chart_id}"></div>'
        f"{_table(c)}</section>"
        for c in found
    )
    figures = json.dumps({c.chart_id: _figure(c) for c in found}).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Physical activity referrals: outcomes</title>
<script src="/dashboard/plotly.js"></script>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}.chart{{height:420px}}
table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}}</style>
</head><body>
<h1>Physical activity referrals: outcomes</h1>
<p>Leicester, Leicestershire and Rutland. Figures resting on fewer than 5 people are suppressed,
as are any that would let them be worked out. Definitions: <a href="/kpis/definitions">/kpis/definitions</a>;
all cells: <a href="/kpis.csv?by=programme">CSV</a>.</p>
{sections}
<script>
const figures = {figures};
for (const [id, fig] of Object.entries(figures)) {{
  Plotly.newPlot(id, fig.data, fig.layout, {{displayModeBar: false, responsive: true}});
}}
</script>
</body></html>"""


@cache
def _plotly_bundle() -> bytes:
    return (importlib.resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()


def routes(pool: Callable[[], asyncpg.Pool]) -> list[BaseRoute]:
    async def dashboard(_: Request) -> Response:
        async with pool().acquire() as conn:
            found = await charts(conn)
        return HTMLResponse(page(found))

    async def plotly(_: Request) -> Response:
        return Response(
            _plotly_bundle(),
            media_type="text/javascript",
            headers={"cache-control": "public, max-age=86400"},
        )

    return [
        Route("/dashboard", dashboard, methods=["GET"]),
        Route("/dashboard/plotly.js", plotly, methods=["GET"]),
    ]
