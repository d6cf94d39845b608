"""Outbox relay: publishes committed outbox rows to Kafka in order, then deletes them.

One relay per schema is active at a time (a Postgres advisory lock), so rows go out in `seq`
order and therefore in order per key; other instances wait as hot standbys. LISTEN/NOTIFY
wakes the relay on commit; a slow poll covers a missed notification. A relay killed between
publish and delete publishes those rows again; consumers' inboxes make the repeat harmless.
`outbox_relay` counts what was published and when.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import murmur2
from aiokafka.producer.message_accumulator import BatchBuilder

from servicekit.db.pool import connect
from servicekit.observability.metrics import OUTBOX_PENDING, OUTBOX_PUBLISHED, RELAY_ACTIVE
from servicekit.observability.tracing import NO_TRACE_HEADERS
from servicekit.resilience import is_transient

log = logging.getLogger(__name__)

FETCH = "SELECT seq, topic, aggregateid, payload, headers FROM outbox ORDER BY seq LIMIT $1"
# One statement, so the rows go and the tally moves in the same transaction.
REMOVE_PUBLISHED = """
WITH published AS (DELETE FROM outbox WHERE seq = ANY($1::bigint[]) RETURNING 1)
UPDATE outbox_relay SET published = published + (SELECT count(*) FROM published),
                        last_published_at = clock_timestamp()
"""


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


class KeyPartitions:
    """The partition the client's default partitioner would pick for a key (murmur2, as the Java
    client), remembered for up to 16,384 keys, then forgotten all at once: the relay sends record
    batches per partition itself, and murmur2 in Python costs 5-8 us a key. One referral's events
    share a key, mostly within one relay batch; outcomes' events for 10,000 episodes arrive
    interleaved, and a memory of 4,096 keys was cleared before any key came back (3.5% of the
    service's time was murmur2; 0.3% with 16,384, for about 1.5 MB more). A memory of every key
    seen grew by megabytes per ten thousand referrals."""

    def __init__(self, producer: AIOKafkaProducer, remember: int = 16384) -> None:
        self._producer = producer
        self._counts: dict[str, int] = {}
        self._remember = remember
        self._known: dict[int, dict[bytes, int]] = {}  # partition count -> key -> partition

    async def look_up(self, topics: Iterable[str]) -> None:
        """Read `topics`' partition counts from the client's metadata, which it keeps fresh: an
        operator adding partitions is seen by the next relay batch, as by any producer."""
        self._counts = {t: len(await self._producer.partitions_for(t)) for t in set(topics)}

    def of(self, topic: str, key: bytes) -> int:
        """`key`'s partition of `topic` (one of those last looked up; numbered 0..n-1)."""
        count = self._counts[topic]
        known = self._known.setdefault(count, {})
        partition = known.get(key)
        if partition is None:
            if len(known) >= self._remember:
                known.clear()
            partition = known[key] = (murmur2(key) & 0x7FFFFFFF) % count
        return partition


class OutboxRelay:
    def __init__(self, dsn: str, producer: AIOKafkaProducer, config: RelayConfig) -> None:
        self._dsn = dsn
        self._producer = producer
        self.config = config
        self._wake = asyncio.Event()
        self.active = False
        self.published = 0
        self._partitions = KeyPartitions(producer)

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
        conn: asyncpg.Connection = await connect(self._dsn)
        try:
            lock_key = f"outbox-relay:{self.config.schema}"
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock_key):
                await asyncio.sleep(self.config.standby_poll_s)
            self._set_active(True)
            await conn.add_listener(f"outbox_{self.config.schema}", self._on_notify)
            await self.relay_when_woken(conn)
        finally:
            self._set_active(False)
            if not conn.is_closed():
                await conn.close()

    async def relay_when_woken(self, conn: asyncpg.Connection) -> None:
        """Relay batches while rows wait; then sleep until notified (or `idle_poll_s` passes)."""
        while True:
            # Cleared before the rows are read, not after: a notification that arrives while a
            # batch is being published announces rows that batch may not hold, and clearing it
            # afterwards left them waiting a whole `idle_poll_s`.
            self._wake.clear()
            sent = await self.relay_once(conn)
            if sent < self.config.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.idle_poll_s)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def relay_once(self, conn: asyncpg.Connection) -> int:
        """Publish one batch of unsent rows and delete them; returns how many."""
        rows = await conn.fetch(FETCH, self.config.batch_size)
        OUTBOX_PENDING.labels(self.config.schema).set(len(rows))
        if not rows:
            return 0
        # One record batch per partition, filled in `seq` order, instead of a send() per row:
        # the client's per-message path (a future, the partitioner, the accumulator) cost more
        # than building the batch. Rows of one key share a partition, so their order holds.
        batches: dict[tuple[str, int], BatchBuilder] = {}
        futures: list[asyncio.Future[object]] = []
        partitions = self._partitions
        prefix = self.config.topic_prefix
        await partitions.look_up(prefix + row["topic"] for row in rows)
        for row in rows:
            topic = prefix + row["topic"]
            key = row["aggregateid"].encode()
            partition = partitions.of(topic, key)
            raw_headers = row["headers"]
            headers = (
                []
                if raw_headers == NO_TRACE_HEADERS
                else [(k, v.encode()) for k, v in json.loads(raw_headers).items()]
            )
            value = row["payload"].encode()
            batch = batches.get((topic, partition))
            if batch is None or batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                if batch is not None:  # full: send it and start the next
                    futures.append(await self._producer.send_batch(batch, topic, partition=partition))
                batch = batches[(topic, partition)] = self._producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    raise MessageSizeTooLargeError(
                        f"outbox row {row['seq']} ({len(value)} bytes) does not fit in a record batch"
                    )
        for (topic, partition), batch in batches.items():
            futures.append(await self._producer.send_batch(batch, topic, partition=partition))
        for future in futures:
            await future
        await self.remove_published(conn, [r["seq"] for r in rows])
        self.published += len(rows)
        OUTBOX_PUBLISHED.labels(self.config.schema).inc(len(rows))
        return len(rows)

    async def remove_published(self, conn: asyncpg.Connection, seqs: list[int]) -> None:
        await conn.execute(REMOVE_PUBLISHED, seqs)
