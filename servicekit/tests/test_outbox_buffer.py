"""The outbox buffer: rows staged by a unit of work, one list per column."""

from __future__ import annotations

import uuid

import pytest
from servicekit.db.outbox import OutboxBuffer


def stage(buffer: OutboxBuffer, n: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(n)]
    for i, event_id in enumerate(ids):
        buffer.add(
            event_id=event_id,
            event_type=f"type.{i}",
            topic=f"topic.{i}",
            key=f"key-{i}",
            payload=f'{{"n": {i}}}',
            aggregate_type="referral",
        )
    return ids


def test_a_discarded_event_leaves_every_column_and_the_others_keep_their_order():
    buffer = OutboxBuffer()
    ids = stage(buffer, 3)
    buffer.discard(ids[1])
    assert buffer.id == [ids[0], ids[2]]
    assert buffer.type == ["type.0", "type.2"]
    assert buffer.topic == ["topic.0", "topic.2"]
    assert buffer.aggregateid == ["key-0", "key-2"]
    assert buffer.payload == ['{"n": 0}', '{"n": 2}']
    assert len(buffer.aggregatetype) == len(buffer.headers) == 2


def test_discarding_an_event_never_staged_is_an_error():
    buffer = OutboxBuffer()
    stage(buffer, 1)
    with pytest.raises(ValueError, match="not in list"):
        buffer.discard(uuid.uuid4())
