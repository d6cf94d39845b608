"""pytest fixtures for tests against the real broker and database (loaded by the root conftest).

The session uses its own database (`<name>_test`), provisioned with the same roles and schemas
as production, and topics with unique names, so tests never see each other's data.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psycopg
import pytest
from aiokafka.structs import ConsumerRecord
from psycopg import sql
from referral_schemas import Envelope, dump_event, topic_for

from servicekit.db.migrate import KIT_MIGRATIONS, apply_migrations
from servicekit.db.pool import create_pool
from servicekit.messaging.admin import TopicLayout, delete_topics, ensure_topics
from servicekit.provision import database_name, provision
from servicekit.roles import role_for
from servicekit.settings import InfraSettings, dsn_for_role
from servicekit.stack import control


def _with_database(url: str, name: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, f"/{name}", p.query, p.fragment))


@pytest.fixture(scope="session")
def infra() -> InfraSettings:
    """The running stack; started here if a developer ran pytest without `make up`."""
    if not all(c.healthy for c in control.status()):
        control.up()
    return InfraSettings()


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: InfraSettings) -> str:
    return infra.kafka_bootstrap_servers


@pytest.fixture(scope="session")
def test_database_url(infra: InfraSettings) -> Iterator[str]:
    admin = infra.database_url.get_secret_value()
    name = f"{database_name(admin)}_test_{os.getpid()}"
    url = _with_database(admin, name)
    with psycopg.connect(_with_database(admin, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    provision(url)
    yield url
    with psycopg.connect(_with_database(admin, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def reset_schema(admin_url: str, service: str) -> str:
    """Empty a service's schema in the test database; returns the service role's DSN."""
    role = role_for(service)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        ident = sql.Identifier(role.schema)
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident))
        conn.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(ident, sql.Identifier(role.role)))
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(ident))
    return dsn_for_role(admin_url, role.role, role.password())


@pytest.fixture
def kit_schema(test_database_url: str) -> str:
    """A fresh `intake` schema holding only the kit's tables; returns the intake role's DSN."""
    dsn = reset_schema(test_database_url, "referral-intake")
    apply_migrations(dsn, "intake", [KIT_MIGRATIONS])
    return dsn


@pytest.fixture
async def kit_pool(kit_schema: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(kit_schema, min_size=1, max_size=5)
    yield pool
    await pool.close()


def consumer_record(
    topic: str,
    value: bytes,
    *,
    key: bytes | None,
    offset: int,
    partition: int = 0,
    headers: Sequence[tuple[str, bytes]] = (),
) -> ConsumerRecord:
    """A record as the consumer would receive it, for feeding `EventConsumer.apply_batch`."""
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key) if key else -1,
        serialized_value_size=len(value),
        headers=list(headers),
    )


def with_changes(doc: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON-like `doc` with `changes` applied; dotted keys reach nested fields
    (`{"patient.postcode": "LE1 5WW"}`). For building test events from the contract examples."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    for path, value in changes.items():
        target = out
        *parents, leaf = path.split(".")
        for part in parents:
            target = target[part]
        target[leaf] = value
    return out


TopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture
async def make_topic(kafka_bootstrap: str) -> AsyncIterator[TopicFactory]:
    """Create a uniquely named topic and its .dlq; both are deleted after the test."""
    created: list[str] = []

    async def make(prefix: str = "test", partitions: int = 3) -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:10]}"
        layouts = [TopicLayout(name, partitions), TopicLayout(name + ".dlq", 1)]
        await ensure_topics(kafka_bootstrap, layouts)
        created.extend(t.name for t in layouts)
        return name

    yield make
    if created:
        await asyncio.wait_for(delete_topics(kafka_bootstrap, created), 30)


@pytest.fixture(scope="session")
async def isolated_topic_prefix(kafka_bootstrap: str) -> AsyncIterator[str]:
    """A prefix under which every platform topic (and DLQ) exists for this test session only.

    Services built with TOPIC_PREFIX set to it read and write their own copy of the topics, so
    tests never see the local stack's traffic (or a demo's) and leave none behind.
    """
    from servicekit.stack.control import platform_topics

    prefix = f"t{uuid.uuid4().hex[:8]}."
    layouts = platform_topics(prefix)
    await ensure_topics(kafka_bootstrap, layouts)
    yield prefix
    await asyncio.wait_for(delete_topics(kafka_bootstrap, [t.name for t in layouts]), 60)


def event_records(prefix: str, events: Sequence[Envelope[Any]], first_offset: int) -> list[ConsumerRecord]:
    """`events` as the records a consumer of their registry topics (under `prefix`) would receive,
    keyed by referral, at offsets counting up from `first_offset`."""
    return [
        consumer_record(
            prefix + topic_for(e.event_type),
            dump_event(e),
            key=str(e.referral_id).encode(),
            offset=first_offset + i,
        )
        for i, e in enumerate(events)
    ]
