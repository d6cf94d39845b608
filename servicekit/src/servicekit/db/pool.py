"""asyncpg connections as the services open them."""

from __future__ import annotations

import asyncpg

# asyncpg prepares each statement once per connection, and after five executions PostgreSQL may
# keep one generic plan for it. A plan chosen while a table was nearly empty (a new deployment, a
# backfill, a benchmark) is a sequential scan that never changes until the table is analysed:
# a batch's `referral_id = ANY($1)` look-up over 40,000 rows took 150 ms that way against 1.6 ms
# planned for its parameters. Every service statement is a batch of rows, so planning each
# execution costs little beside that.
SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=60,
        server_settings=SERVER_SETTINGS,
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection outside the pool (the relay's, which holds a session lock)."""
    return await asyncpg.connect(dsn, server_settings=SERVER_SETTINGS)
