"""provider-notify's migrations apply on a fresh schema, and the indexes they add serve the
provider's list of assignments and the look-ups by referral and assignment (`referrals trace`,
cancellations) instead of scans of the whole table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from provider_notify.bootstrap import bootstrap
from provider_notify.domain.lifecycle import Stage
from provider_notify.domain.listing import ListQuery, Position
from provider_notify.service_layer.deadlines import UNSCHEDULED
from provider_notify.service_layer.listing import page_query

pytestmark = pytest.mark.infra


@pytest.fixture
async def service(notify_settings):
    settings = notify_settings()
    service = bootstrap(settings, consume=False)
    await service.open_database()  # applies the migrations
    yield service
    await service.close_database()


async def plan(conn, sql, *args):
    """The plan PostgreSQL picks when it may not scan whole tables: a look-up no index serves
    would still show `Seq Scan` (at a prohibitive cost)."""
    rows = await conn.fetch("EXPLAIN " + sql, *args)
    return "\n".join(r[0] for r in rows)


async def test_the_migrations_apply_and_their_indexes_serve_the_list_and_the_lookups(service):
    async with service.pool.acquire() as conn:
        applied = {r[0] for r in await conn.fetch("SELECT migration_id FROM _yoyo_migration")}
        assert {"0007-assignment-list", "0008-trace-lookups", "0010-reminders-from-arrival"} <= applied
        await conn.execute("SET enable_seqscan = off")
        for query in (
            ListQuery(stages=None, since=None, limit=50, after=None),
            ListQuery(
                stages=(Stage.PENDING, Stage.ACCEPTED),
                since=datetime(2026, 3, 1, tzinfo=UTC),
                limit=200,
                after=Position(datetime(2026, 3, 5, tzinfo=UTC), uuid.uuid4()),
            ),
        ):
            sql, args = page_query("active-blaby", query)
            listing = await plan(conn, sql, *args)
            assert "Index Scan Backward using assignments_by_provider_arrival on assignments" in listing
            assert "Sort" not in listing and "Seq Scan on assignments" not in listing
        by_referral = await plan(conn, "SELECT * FROM assignments WHERE referral_id = $1", uuid.uuid4())
        assert "assignments_by_referral" in by_referral and "Seq Scan" not in by_referral
        responses = await plan(
            conn,
            "SELECT * FROM responses WHERE assignment_id = ANY($1) ORDER BY received_at",
            [uuid.uuid4()],
        )
        assert "responses_by_assignment" in responses and "Seq Scan" not in responses
        # The reminder timer's look-up of new reminders, once a second on every instance, reads
        # only those, not every assignment awaiting an answer.
        unscheduled = await plan(conn, UNSCHEDULED, datetime.now(UTC), 500)
        assert "reminders_unscheduled" in unscheduled and "Seq Scan" not in unscheduled
