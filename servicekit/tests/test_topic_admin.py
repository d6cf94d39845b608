"""Deleting a run's topics by their prefix (what the demo does with earlier runs' topics)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from servicekit.messaging.admin import TopicLayout, delete_topics, delete_topics_with_prefix, ensure_topics

pytestmark = pytest.mark.infra


async def _names(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_topics_with_the_prefix_are_deleted_and_no_others(kafka_bootstrap):
    run = f"prefixtest-{uuid.uuid4().hex[:6]}"
    old = [TopicLayout(f"{run}-old.a", 1), TopicLayout(f"{run}-old.b", 1)]
    kept = TopicLayout(f"{run}-new.a", 1)
    await ensure_topics(kafka_bootstrap, [*old, kept])
    try:
        deleted = await delete_topics_with_prefix(kafka_bootstrap, f"{run}-old.")
        assert sorted(deleted) == sorted(t.name for t in old)
        # Deletion reaches the broker's metadata shortly after the call returns.
        async with asyncio.timeout(30):
            while {n for n in await _names(kafka_bootstrap) if n.startswith(run)} != {kept.name}:
                await asyncio.sleep(0.2)
    finally:
        await delete_topics(kafka_bootstrap, [kept.name])
