"""asyncpg connection pool, instrumented for tracing once per process."""

from __future__ import annotations

import asyncpg


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        # Statements are prepared per connection and reused; the default cache suits us.
        command_timeout=60,
    )
    assert pool is not None
    return pool
