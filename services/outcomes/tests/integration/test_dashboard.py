"""The commissioners' dashboard in a real headless Chromium (from the OS packages, via Playwright):
its charts draw and its figures are the database's."""

from __future__ import annotations

import asyncio
import shutil
import socket

import pytest
import uvicorn
from outcomes.entrypoints.dashboard import charts
from playwright.async_api import async_playwright

pytestmark = pytest.mark.infra


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "headless Chromium is missing: `make browser` installs it from the OS packages"
    return path


@pytest.fixture
async def served(outcomes, population):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(outcomes.service.asgi(), host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_the_dashboard_draws_every_chart_with_the_figures_from_the_database(outcomes, served):
    async with outcomes.service.pool.acquire() as conn:
        expected = await charts(conn)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            response = await page.goto(f"{served}/dashboard")
            assert response is not None and response.status == 200
            for chart in expected:
                # Plotly draws one trace group per series, each with a point per category.
                await page.wait_for_selector(f"#{chart.chart_id} .main-svg", timeout=15_000)
                traces = await page.locator(f"#{chart.chart_id} .trace").count()
                assert traces == len(chart.series), chart.chart_id
                drawn = await page.evaluate(
                    "id => document.getElementById(id).data.map(t => [t.name, t.x, t.y])", chart.chart_id
                )
                assert drawn == [
                    [name, sorted(values), [values[c] for c in sorted(values)]]
                    for name, (_, values) in chart.series.items()
                ]
            assert errors == []
            # The tables under the charts say the same, and show which cells are suppressed.
            uptake = await page.locator(
                '#programme-rates-table tr[data-category="exercise_referral"] td[data-series="uptake"]'
            ).inner_text()
            value = dict(expected[0].series["uptake"][1])["exercise_referral"]
            assert uptake == ("suppressed" if value is None else f"{value:.1%}")
            withheld = sum(
                v is None for c in expected for _, values in c.series.values() for v in values.values()
            )
            assert await page.locator("td", has_text="suppressed").count() == withheld
        finally:
            await browser.close()
