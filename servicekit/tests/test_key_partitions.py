"""The relay's partition for a key is the one the Kafka client's own partitioner picks, and what
it remembers stays bounded."""

import asyncio
import random

from aiokafka.partitioner import DefaultPartitioner
from servicekit.db.relay import KeyPartitions


class _Metadata:
    """The producer's view of partition counts, as `partitions_for` answers it."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(self.counts[topic]))


def test_a_key_goes_to_the_partition_the_clients_partitioner_picks() -> None:
    metadata = _Metadata({"outcome.recorded.v1": 12, "referral.triaged.v1": 7})
    keys = KeyPartitions(metadata, remember=100)  # type: ignore[arg-type]
    asyncio.run(keys.look_up(["outcome.recorded.v1", "referral.triaged.v1"]))
    client = DefaultPartitioner()
    rng = random.Random(7)
    for i in range(2000):
        key = rng.randbytes(rng.randint(1, 80))
        topic, count = ("outcome.recorded.v1", 12) if i % 2 else ("referral.triaged.v1", 7)
        expected = client(key, list(range(count)), list(range(count)))
        assert keys.of(topic, key) == expected
        assert keys.of(topic, key) == expected  # remembered, and still right


def test_what_is_remembered_is_forgotten_at_the_limit_and_answers_stay_right() -> None:
    metadata = _Metadata({"t": 5})
    keys = KeyPartitions(metadata, remember=10)  # type: ignore[arg-type]
    asyncio.run(keys.look_up(["t"]))
    first = [keys.of("t", f"key-{i}".encode()) for i in range(25)]
    assert all(len(known) <= 10 for known in keys._known.values())
    assert [keys.of("t", f"key-{i}".encode()) for i in range(25)] == first


def test_partitions_added_by_an_operator_are_used_from_the_next_look_up() -> None:
    metadata = _Metadata({"t": 3})
    keys = KeyPartitions(metadata)  # type: ignore[arg-type]
    asyncio.run(keys.look_up(["t"]))
    before = {keys.of("t", f"k{i}".encode()) for i in range(200)}
    metadata.counts["t"] = 9
    asyncio.run(keys.look_up(["t"]))
    after = {keys.of("t", f"k{i}".encode()) for i in range(200)}
    assert before == {0, 1, 2}
    assert after == set(range(9))
