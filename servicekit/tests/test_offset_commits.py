"""How the consumer hands applied batches' offsets to the broker (a fake Kafka consumer)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from servicekit.messaging.consumer import EventConsumer


class FakeKafka:
    """Records commits; the first `failures` of them fail; each waits for `gate` if set."""

    def __init__(self, failures: int = 0) -> None:
        self.commits: list[dict[TopicPartition, int]] = []
        self.failures = failures
        self.gate: asyncio.Event | None = None

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise RuntimeError("rebalance in progress")
        self.commits.append(dict(offsets))


def records(topic: str, partition: int, offsets: range) -> list[ConsumerRecord[Any, Any]]:
    return [
        ConsumerRecord(topic, partition, o, 0, 0, None, b"{}", None, 0, 2, [])  # type: ignore[arg-type]
        for o in offsets
    ]


def consumer() -> EventConsumer:
    return EventConsumer(
        name="test",
        handlers={},
        uow_factory=lambda: None,  # type: ignore[arg-type, return-value]
        dead_letters=None,  # type: ignore[arg-type]
    )


async def test_an_applied_batch_commits_the_offset_after_each_partitions_last_record():
    ec, kafka = consumer(), FakeKafka()
    ec._acknowledge(records("t", 0, range(5, 8)) + records("t", 1, range(0, 2)), kafka)  # type: ignore[arg-type]
    await ec.flush_offsets()
    assert kafka.commits == [{TopicPartition("t", 0): 8, TopicPartition("t", 1): 2}]


async def test_batches_applied_while_a_commit_is_in_flight_are_committed_together_after_it():
    ec, kafka = consumer(), FakeKafka()
    kafka.gate = asyncio.Event()
    ec._acknowledge(records("t", 0, range(0, 3)), kafka)  # type: ignore[arg-type]
    await asyncio.sleep(0)  # the first commit is now waiting on the broker
    ec._acknowledge(records("t", 0, range(3, 6)), kafka)  # type: ignore[arg-type]
    ec._acknowledge(records("t", 1, range(0, 4)), kafka)  # type: ignore[arg-type]
    kafka.gate.set()
    await ec.flush_offsets()
    assert kafka.commits == [
        {TopicPartition("t", 0): 3},
        {TopicPartition("t", 0): 6, TopicPartition("t", 1): 4},
    ]


async def test_a_failed_commit_is_superseded_by_the_next_batchs_commit():
    ec, kafka = consumer(), FakeKafka(failures=1)
    ec._acknowledge(records("t", 0, range(0, 3)), kafka)  # type: ignore[arg-type]
    await ec.flush_offsets()
    assert kafka.commits == []
    ec._acknowledge(records("t", 0, range(3, 5)), kafka)  # type: ignore[arg-type]
    await ec.flush_offsets()
    assert kafka.commits == [{TopicPartition("t", 0): 5}]
