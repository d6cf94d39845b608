"""triage against the real database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from servicekit.db.migrate import migrate_service
from servicekit.testing import reset_schema


@pytest.fixture
async def triage_pool(test_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A fresh `triage` schema with its migrations; a pool logged in as the triage role."""
    dsn = reset_schema(test_database_url, "triage")
    migrate_service("triage", test_database_url)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=8)
    assert pool is not None
    yield pool
    await pool.close()
