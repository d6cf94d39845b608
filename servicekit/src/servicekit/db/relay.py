"""Outbox relay: publishes committed outbox rows to Kafka in order, then marks them sent.

One relay per schema is active at a time (a Postgres advisory lock), so rows go out in `seq`
order and therefore in order per key; other instances wait as hot standbys. LISTEN/NOTIFY
wakes the relay on commit; a slow poll covers a missed notification. A relay killed between
publish and mark publishes those rows again; consumers' inboxes make the repeat harmless.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer

from servicekit.observability.metrics import OUTBOX_PENDING, OUTBOX_PUBLISHED, RELAY_ACTIVE
from servicekit.observability.tracing import NO_TRACE_HEADERS
from servicekit.resilience import is_transient

log = logging.getLogger(__name__)

FETCH = """
SELECT seq, topic, aggregateid, payload, headers
FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1
"""
MARK = "UPDATE outbox SET sent_at = now() WHERE seq = ANY($1::bigint[])"


@dataclass
class RelayConfig:
    schema: str
    batch_size: int = 1000
    topic_prefix: str = ""
    idle_poll_s: float = 1.0
    standby_poll_s: float = 2.0
    backoff_max_s: float = 10.0


def idempotent_producer(bootstrap: str, **overrides: object) -> AIOKafkaProducer:
    options: dict[str, object] = {
        "bootstrap_servers": bootstrap,
        "enable_idempotence": True,  # implies acks=all
        "acks": "all",
        "linger_ms": 5,
        "max_batch_size": 512 * 1024,
        "max_request_size": 2 * 1024 * 1024,
        "request_timeout_ms": 30000,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


class OutboxRelay:
    def __init__(self, dsn: str, producer: AIOKafkaProducer, config: RelayConfig) -> None:
        self._dsn = dsn
        self._producer = producer
        self.config = config
        self._wake = asyncio.Event()
        self.active = False
        self.published = 0

    async def run(self) -> None:
        """Relay until cancelled, reconnecting after failures with capped backoff."""
        delay = 0.2
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("outbox relay failed; retrying")
                else:
                    log.warning("outbox relay lost a dependency (%s); retrying", exc)
            self._set_active(False)
            await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311
            delay = min(delay * 2, self.config.backoff_max_s)

    def _set_active(self, active: bool) -> None:
        self.active = active
        RELAY_ACTIVE.labels(self.config.schema).set(1 if active else 0)

    async def _session(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn)
        try:
            lock_key = f"outbox-relay:{self.config.schema}"
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock_key):
                await asyncio.sleep(self.config.standby_poll_s)
            self._set_active(True)
            await conn.add_listener(f"outbox_{self.config.schema}", self._on_notify)
            while True:
                sent = await self.relay_once(conn)
                if sent < self.config.batch_size:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.config.idle_poll_s)
                    except TimeoutError:
                        pass
        finally:
            self._set_active(False)
            if not conn.is_closed():
                await conn.close()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def relay_once(self, conn: asyncpg.Connection) -> int:
        """Publish one batch of unsent rows and mark them; returns how many."""
        rows = await conn.fetch(FETCH, self.config.batch_size)
        OUTBOX_PENDING.labels(self.config.schema).set(len(rows))
        if not rows:
            return 0
        futures = []
        for row in rows:
            raw_headers = row["headers"]
            headers = (
                []
                if raw_headers == NO_TRACE_HEADERS
                else [(k, v.encode()) for k, v in json.loads(raw_headers).items()]
            )
            futures.append(
                await self._producer.send(
                    self.config.topic_prefix + row["topic"],
                    value=row["payload"].encode(),
                    key=row["aggregateid"].encode(),
                    headers=headers,
                )
            )
        for future in futures:  # cheaper than gather(): no task per record
            await future
        await self.mark_sent(conn, [r["seq"] for r in rows])
        self.published += len(rows)
        OUTBOX_PUBLISHED.labels(self.config.schema).inc(len(rows))
        return len(rows)

    async def mark_sent(self, conn: asyncpg.Connection, seqs: list[int]) -> None:
        await conn.execute(MARK, seqs)
