"""The outbox relay reads again straight after a notification, even one that arrives while it is
publishing (no broker or database: batches are counted, not sent)."""

from __future__ import annotations

import asyncio
from typing import Any

from servicekit.db.relay import OutboxRelay, RelayConfig


class NotifiedWhilePublishing(OutboxRelay):
    """Each batch finds one row; a commit's notification arrives while the first is published."""

    def __init__(self) -> None:
        config = RelayConfig(schema="t", idle_poll_s=3600)
        super().__init__("postgresql://unused", producer=None, config=config)  # type: ignore[arg-type]
        self.batches = 0
        self.second_batch = asyncio.Event()

    async def relay_once(self, conn: Any) -> int:
        self.batches += 1
        if self.batches == 1:
            self._on_notify()
        else:
            self.second_batch.set()
        return 1


async def test_a_notification_during_a_batch_makes_the_relay_read_again_without_waiting_for_the_poll():
    relay = NotifiedWhilePublishing()
    task = asyncio.create_task(relay.relay_when_woken(conn=None))
    try:
        # The poll interval is an hour: only the notification can bring the second batch.
        await asyncio.wait_for(relay.second_batch.wait(), timeout=10)
    finally:
        task.cancel()
    assert relay.batches == 2
