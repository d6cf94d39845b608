"""Operator tools: list a dead-letter topic and replay it onto the original topic."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from servicekit.db.relay import idempotent_producer
from servicekit.messaging.dead_letters import (
    H_CONSUMER,
    H_DETAIL,
    H_OFFSET,
    H_PARTITION,
    H_REASON,
    H_REPLAYED_FROM,
    H_TOPIC,
    dlq_topic,
)

REPLAY_GROUP_PREFIX = "dlq-replay."


@dataclass(frozen=True, slots=True)
class DeadLetter:
    partition: int
    offset: int
    reason: str
    detail: str
    consumer: str
    original_topic: str
    original_partition: int
    original_offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def _header(headers: dict[str, bytes], name: str, default: str = "") -> str:
    raw = headers.get(name)
    return raw.decode("utf-8", errors="replace") if raw is not None else default


def _to_dead_letter(rec) -> DeadLetter:  # type: ignore[no-untyped-def]
    h = dict(rec.headers or ())
    return DeadLetter(
        partition=rec.partition,
        offset=rec.offset,
        reason=_header(h, H_REASON, "unknown"),
        detail=_header(h, H_DETAIL),
        consumer=_header(h, H_CONSUMER),
        original_topic=_header(h, H_TOPIC, rec.topic.removesuffix(".dlq")),
        original_partition=int(_header(h, H_PARTITION, "-1")),
        original_offset=int(_header(h, H_OFFSET, "-1")),
        key=rec.key,
        value=rec.value,
        headers=tuple(rec.headers or ()),
    )


async def _drain(consumer: AIOKafkaConsumer, limit: int | None, timeout_s: float = 10.0) -> list:  # type: ignore[type-arg]
    """Read from the current positions up to the end offsets seen now."""
    parts = consumer.assignment()
    end = await consumer.end_offsets(list(parts))
    out = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        positions = {tp: await consumer.position(tp) for tp in parts}
        if all(positions[tp] >= end[tp] for tp in parts):
            break
        batch = await consumer.getmany(timeout_ms=500, max_records=500)
        for records in batch.values():
            out.extend(records)
        if limit is not None and len(out) >= limit:
            break
    out.sort(key=lambda r: (r.partition, r.offset))
    return out[:limit] if limit is not None else out


async def list_dead_letters(bootstrap: str, topic: str, limit: int = 100) -> list[DeadLetter]:
    name = dlq_topic(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(name) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(name) or set()
        tps = [TopicPartition(name, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        return [_to_dead_letter(r) for r in await _drain(consumer, limit)]
    finally:
        await consumer.stop()


async def replay_dead_letters(bootstrap: str, topic: str, limit: int | None = None) -> int:
    """Republish dead letters not yet replayed; progress is a committed consumer-group offset,
    so a second replay does not send the same letters again."""
    name = dlq_topic(topic)
    consumer = AIOKafkaConsumer(
        name,
        bootstrap_servers=bootstrap,
        group_id=REPLAY_GROUP_PREFIX + name,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = idempotent_producer(bootstrap)
    await consumer.start()
    await producer.start()
    try:
        # Wait for the group assignment before reading positions.
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=200, max_records=1)
            if consumer.assignment():
                break
        for tp in consumer.assignment():
            committed = await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        records = await _drain(consumer, limit)
        for rec in records:
            letter = _to_dead_letter(rec)
            headers = [(k, v) for k, v in letter.headers if not k.startswith("dlq.")]
            headers.append((H_REPLAYED_FROM, f"{name}[{rec.partition}]@{rec.offset}".encode()))
            await producer.send_and_wait(
                letter.original_topic, value=letter.value, key=letter.key, headers=headers
            )
            tp = TopicPartition(name, rec.partition)
            await consumer.commit({tp: rec.offset + 1})
        return len(records)
    finally:
        await producer.stop()
        await consumer.stop()
