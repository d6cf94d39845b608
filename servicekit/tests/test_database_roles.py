"""Each service's role can use its own schema only (against the real PostgreSQL)."""

import asyncpg
import pytest
from servicekit.db.migrate import KIT_MIGRATIONS, apply_migrations
from servicekit.roles import role_for
from servicekit.settings import dsn_for_role
from servicekit.testing import reset_schema

pytestmark = pytest.mark.infra


def _dsn(admin_url: str, service: str) -> str:
    role = role_for(service)
    return dsn_for_role(admin_url, role.role, role.password())


async def test_a_role_reads_and_writes_its_own_schema_by_default(test_database_url):
    dsn = reset_schema(test_database_url, "triage")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE decisions (id int PRIMARY KEY)")
        await conn.execute("INSERT INTO decisions VALUES (1)")
        assert await conn.fetchval("SELECT current_schema()") == "triage"
        assert await conn.fetchval("SELECT count(*) FROM triage.decisions") == 1
    finally:
        await conn.close()


async def test_a_cross_schema_query_fails_with_permission_denied(test_database_url):
    intake_dsn = reset_schema(test_database_url, "referral-intake")
    apply_migrations(intake_dsn, "intake", [KIT_MIGRATIONS])
    triage = await asyncpg.connect(_dsn(test_database_url, "triage"))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for schema intake"):
            await triage.fetch("SELECT * FROM intake.outbox")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for schema intake"):
            await triage.execute("CREATE TABLE intake.sneaky (id int)")
    finally:
        await triage.close()


async def test_no_service_role_can_create_objects_in_public(test_database_url):
    conn = await asyncpg.connect(_dsn(test_database_url, "outcomes"))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for schema public"):
            await conn.execute("CREATE TABLE public.leak (id int)")
    finally:
        await conn.close()


async def test_a_service_role_cannot_create_roles_or_databases(test_database_url):
    conn = await asyncpg.connect(_dsn(test_database_url, "provider-notify"))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE ROLE intruder")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE DATABASE elsewhere")
    finally:
        await conn.close()


async def test_migrations_apply_once_and_a_rerun_is_a_no_op(test_database_url):
    dsn = reset_schema(test_database_url, "provider-notify")
    first = apply_migrations(dsn, "notify", [KIT_MIGRATIONS])
    second = apply_migrations(dsn, "notify", [KIT_MIGRATIONS])
    assert first == [
        "kit-0001-inbox-outbox",
        "kit-0002-outbox-text-payload",
        "kit-0003-relay-deletes-published",
        "kit-0004-outbox-lz4",
    ]
    assert second == []
    conn = await asyncpg.connect(dsn)
    try:
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'notify'")
        }
    finally:
        await conn.close()
    assert {"inbox", "outbox"} <= tables
