"""The KPI API for commissioners: cells as JSON or CSV, and the KPIs' definitions.

`GET /kpis?by=district&period=2026-03&programme=exercise_referral` breaks every KPI down by a
dimension over the episodes referred in a month (all months when absent), filtered by any other
dimensions' values. Cells below 5 are suppressed, as everywhere outcomes publishes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import asyncpg
from referral_schemas.enums import KpiDimension
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from outcomes.domain.dimensions import DIMENSIONS, MONTH, Dimension
from outcomes.domain.kpis import KPIS, KpiCell
from outcomes.service_layer.reporting import kpi_cells

CSV_COLUMNS = (
    "kpi", "dimension", "dimension_value", "period", "numerator", "denominator", "episodes", "value",
    "suppression",
)  # fmt: skip
_BY_NAME: dict[str, Dimension] = {str(d): d for d in DIMENSIONS}


class QueryError(ValueError):
    pass


def parse_query(params: Any) -> tuple[Dimension, str | None, dict[Dimension, str]]:
    """(by, period, filters) from a query string; QueryError naming what is wrong."""
    by_name = params.get("by", KpiDimension.ALL.value)
    if by_name not in _BY_NAME:
        raise QueryError(f"by must be one of {', '.join(_BY_NAME)}, not {by_name!r}")
    filters: dict[Dimension, str] = {}
    for name, value in params.items():
        if name in ("by", "period", "format"):
            continue
        dimension = _BY_NAME.get(name)
        if dimension is None or dimension in (KpiDimension.ALL, MONTH):
            raise QueryError(f"unknown filter {name!r}; filter by {', '.join(_filterable())}, or period")
        filters[dimension] = value
    return _BY_NAME[by_name], params.get("period"), filters


def _filterable() -> list[str]:
    return [str(d) for d in DIMENSIONS if d not in (KpiDimension.ALL, MONTH)]


def cell_row(cell: KpiCell) -> dict[str, Any]:
    return {
        "kpi": cell.kpi.value,
        "dimension": str(cell.dimension),
        "dimension_value": cell.dimension_value,
        "period": cell.period,
        "numerator": cell.numerator,
        "denominator": cell.denominator,
        "episodes": cell.episodes,
        "value": cell.value,
        "suppression": cell.suppression.value,
    }


def routes(pool: Callable[[], asyncpg.Pool]) -> list[BaseRoute]:
    async def cells(request: Request) -> list[KpiCell] | Response:
        try:
            by, period, filters = parse_query(request.query_params)
            async with pool().acquire() as conn:
                return await kpi_cells(conn, by=by, period=period, filters=filters)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    async def as_json(request: Request) -> Response:
        found = await cells(request)
        if isinstance(found, Response):
            return found
        return JSONResponse(
            {"query": dict(request.query_params), "cells": [cell_row(c) for c in found]},
        )

    async def as_csv(request: Request) -> Response:
        found = await cells(request)
        if isinstance(found, Response):
            return found
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(cell_row(c) for c in found)
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="kpis.csv"'},
        )

    async def definitions(_: Request) -> Response:
        return JSONResponse(
            [
                {
                    "kpi": k.name.value,
                    "aggregate": k.aggregate.value,
                    "description": k.description,
                    "numerator": k.numerator,
                    "denominator": k.denominator,
                }
                for k in KPIS
            ]
        )

    return [
        Route("/kpis", as_json, methods=["GET"]),
        Route("/kpis.csv", as_csv, methods=["GET"]),
        Route("/kpis/definitions", definitions, methods=["GET"]),
    ]
