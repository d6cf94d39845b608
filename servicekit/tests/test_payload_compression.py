"""The columns that keep whole events and documents are compressed with lz4, not the default pglz
(against the real PostgreSQL, through each service's own migrations)."""

import json

import asyncpg
import pytest
from servicekit.db.migrate import migrate_service
from servicekit.testing import reset_schema

pytestmark = pytest.mark.infra

WIDE_COLUMNS = {
    "triage": {
        ("outbox", "payload"),
        ("outbox", "headers"),
        ("referrals", "decision"),
        ("referrals", "accepted"),
    },
    "outcomes": {
        ("outbox", "payload"),
        ("outbox", "headers"),
        ("episodes", "state"),
        ("parked", "event"),
        ("refusals", "event"),
    },
    "referral-intake": {("outbox", "payload"), ("outbox", "headers"), ("referrals", "submission")},
    "provider-notify": {
        ("outbox", "payload"),
        ("outbox", "headers"),
        ("assignments", "payload"),
        ("withdrawals", "payload"),
        ("reminders", "payload"),
    },
}


@pytest.mark.parametrize("service", sorted(WIDE_COLUMNS))
async def test_each_services_wide_columns_use_lz4(test_database_url, service):
    dsn = reset_schema(test_database_url, service)
    migrate_service(service, test_database_url)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT c.relname, a.attname FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid
               WHERE c.relnamespace = current_schema()::regnamespace AND a.attcompression = 'l'"""
        )
        assert {(r["relname"], r["attname"]) for r in rows} == WIDE_COLUMNS[service]
    finally:
        await conn.close()


async def test_an_outbox_payload_past_the_threshold_is_stored_compressed_with_lz4(test_database_url):
    dsn = reset_schema(test_database_url, "triage")
    migrate_service("triage", test_database_url)
    payload = json.dumps({"reasons": [{"code": "programme.exercise_referral", "n": i} for i in range(200)]})
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            """INSERT INTO outbox (id, aggregatetype, aggregateid, type, topic, payload)
               VALUES (gen_random_uuid(), 'referral', 'r-1', 'referral.triaged', 't', $1)""",
            payload,
        )
        stored = await conn.fetchrow("SELECT payload, pg_column_compression(payload) AS method FROM outbox")
        assert stored["method"] == "lz4"
        assert stored["payload"] == payload
    finally:
        await conn.close()
