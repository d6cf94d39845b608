"""How service connections are opened: statements planned for their parameters; start-up objects
kept out of the garbage collector's full collections."""

from __future__ import annotations

import gc
import uuid
from contextlib import nullcontext

import pytest
from servicekit.db.pool import connect, create_pool
from servicekit.service import YOUNG_COLLECTION_EVERY, _prepare_collector

_LOOKUP = "SELECT * FROM lookups WHERE id = ANY($1::uuid[])"


async def _plans_of_lookup(conn) -> tuple[int, int]:
    row = await conn.fetchrow(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1", _LOOKUP
    )
    return row["generic_plans"], row["custom_plans"]


@pytest.mark.infra
async def test_pooled_and_relay_connections_plan_every_execution_for_its_parameters(kit_schema):
    pool = await create_pool(kit_schema, min_size=1, max_size=1)
    relay_conn = await connect(kit_schema)
    try:
        async with pool.acquire() as conn:
            await conn.execute("CREATE TABLE lookups (id uuid PRIMARY KEY, body text)")
        for conn_context in (pool.acquire(), nullcontext(relay_conn)):
            async with conn_context as conn:
                # On an empty table PostgreSQL would settle on a generic plan (a sequential scan) from
                # the sixth execution on.
                for _ in range(12):
                    await conn.fetch(_LOOKUP, [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()])
                assert await _plans_of_lookup(conn) == (0, 12)
    finally:
        await relay_conn.close()
        await pool.close()


def test_objects_built_before_start_are_left_out_of_full_collections():
    built_at_start_up = [{"rule": n} for n in range(1000)]
    thresholds = gc.get_threshold()
    try:
        _prepare_collector()
        assert gc.get_freeze_count() >= len(built_at_start_up)
        collected = {id(o) for o in gc.get_objects()}
        assert not any(id(o) in collected for o in built_at_start_up)
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, *thresholds[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
