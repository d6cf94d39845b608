"""Create topics idempotently (the platform owns topic layout, not auto-creation)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


@dataclass(frozen=True, slots=True)
class TopicLayout:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


@asynccontextmanager
async def _admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def ensure_topics(
    bootstrap: str, topics: Iterable[TopicLayout], *, replication_factor: int = 1
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    wanted = {t.name: t for t in topics}
    async with _admin(bootstrap) as admin:
        existing = set(await admin.list_topics())
        missing = [t for name, t in wanted.items() if name not in existing]
        if not missing:
            return []
        try:
            await admin.create_topics(
                [
                    NewTopic(
                        name=t.name,
                        num_partitions=t.partitions,
                        replication_factor=replication_factor,
                        topic_configs=t.config,
                    )
                    for t in missing
                ]
            )
        except TopicAlreadyExistsError:
            # Another `up` or test raced us to it: the topic exists, which is all we want.
            pass
        return [t.name for t in missing]


async def delete_topics(bootstrap: str, names: Iterable[str]) -> None:
    async with _admin(bootstrap) as admin:
        await admin.delete_topics(list(names))


async def delete_topics_with_prefix(bootstrap: str, prefix: str) -> list[str]:
    """Delete every topic whose name starts with `prefix`; returns the names deleted."""
    async with _admin(bootstrap) as admin:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
        return names
