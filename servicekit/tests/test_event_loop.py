"""Service processes run on uvloop."""

from __future__ import annotations

import asyncio

import uvloop
from servicekit.service import run_loop


def test_a_service_process_runs_its_work_on_uvloop_and_gets_its_result():
    async def main() -> tuple[type, int]:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()), 42

    loop_type, result = run_loop(main())

    assert loop_type is uvloop.Loop
    assert result == 42
