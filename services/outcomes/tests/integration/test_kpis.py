"""KPIs summed by Postgres equal the domain's from-scratch computation over the same episodes, and
the API serves them as JSON and CSV with disclosure control."""

from __future__ import annotations

import csv
import io

import pytest
from outcomes.domain.dimensions import DIMENSIONS, MONTH
from outcomes.domain.kpis import compute
from outcomes.service_layer.reporting import kpi_cells
from referral_schemas.enums import District, KpiDimension, KpiName

pytestmark = pytest.mark.infra


async def test_every_breakdown_from_the_database_equals_the_from_scratch_computation(outcomes, population):
    assert len(population) == 400
    # Every KPI has figures to compare, not only empty or suppressed cells.
    assert {c.kpi for c in compute(population, by=KpiDimension.ALL) if c.value is not None} == set(KpiName)
    async with outcomes.service.pool.acquire() as conn:
        for by in DIMENSIONS:
            assert await kpi_cells(conn, by=by) == compute(population, by=by), by
            assert await kpi_cells(conn, by=by, period="2026-02") == compute(
                population, by=by, period="2026-02"
            ), by


async def test_a_filtered_breakdown_equals_the_computation_over_the_matching_episodes(outcomes, population):
    in_melton = [e for e in population if e.profile.district is District.MELTON]
    carers = [e for e in population if "carer" in e.profile.plus_groups]
    async with outcomes.service.pool.acquire() as conn:
        got = await kpi_cells(conn, by=KpiDimension.PROGRAMME, filters={KpiDimension.DISTRICT: "melton"})
        assert got == compute(in_melton, by=KpiDimension.PROGRAMME)
        got = await kpi_cells(conn, by=MONTH, filters={KpiDimension.PRIORITY_GROUP: "carer"})
        assert got == compute(carers, by=MONTH)


async def test_small_cells_are_suppressed_in_what_the_api_serves(outcomes, population):
    response = await outcomes.client.get("/kpis", params={"by": "provider", "period": "2026-01"})
    assert response.status_code == 200
    cells = response.json()["cells"]
    assert cells
    for cell in cells:
        if cell["suppression"] == "none":
            assert cell["episodes"] >= 5 and cell["value"] is not None
        else:
            assert (cell["numerator"], cell["denominator"], cell["value"]) == (None, None, None)
    assert any(c["suppression"] != "none" for c in cells)


async def test_the_csv_export_holds_the_same_cells_as_the_json(outcomes, population):
    params = {"by": "district", "programme": "exercise_referral"}
    as_json = (await outcomes.client.get("/kpis", params=params)).json()["cells"]
    response = await outcomes.client.get("/kpis.csv", params=params)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["kpi"], r["dimension_value"], r["suppression"]) for r in rows] == [
        (c["kpi"], c["dimension_value"], c["suppression"]) for c in as_json
    ]
    shown = [r for r in rows if r["suppression"] == "none"]
    assert shown and all(
        float(r["value"]) == c["value"] for r, c in zip(rows, as_json, strict=True) if r in shown
    )


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"by": "postcode"}, "by must be one of"),
        ({"nhs_number": "9990000018"}, "unknown filter 'nhs_number'"),
        ({"period": "March"}, "period must be a month"),
    ],
)
async def test_a_malformed_kpi_query_is_answered_with_what_is_wrong(outcomes, params, problem):
    response = await outcomes.client.get("/kpis", params=params)
    assert response.status_code == 400
    assert problem in response.json()["error"]


async def test_every_kpi_is_defined_with_its_numerator_and_denominator(outcomes):
    definitions = (await outcomes.client.get("/kpis/definitions")).json()
    assert len(definitions) == 10
    assert all(d["numerator"] and d["denominator"] for d in definitions)
