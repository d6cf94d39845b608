"""The batch consumer every service uses.

A FastStream batch subscriber (group id, manual acknowledgement) hands each polled batch to
`EventConsumer.apply_batch`, which:
1. decodes every record against the contracts; a record that is oversized, not JSON, not the
   schema, an unknown event type or a version we do not read goes to `<topic>.dlq`;
2. passes over the events a handler would not act on (`acts_on`), then applies the rest in ONE
   transaction: inbox rows (redeliveries are skipped), the handlers'
   state changes and their outbox rows;
3. on a transient failure (database or broker away) waits with capped backoff and tries the
   same batch again, for as long as it takes: nothing is skipped;
4. on any other failure retries each event alone a bounded number of times, then
   dead-letters just the failing one;
5. acknowledges (commits offsets) only after all of that is durable; the commit goes to the broker
   while the next batch is applied, since waiting for its answer cost a seventh of a hop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy
from opentelemetry import context, trace
from referral_schemas import ContractError, Envelope, parse_event

from servicekit.db.inbox import claim
from servicekit.db.uow import UnitOfWork
from servicekit.messaging.dead_letters import DeadLetterPublisher, Rejection
from servicekit.observability.logging import referral_id_var
from servicekit.observability.metrics import (
    BATCH_SECONDS,
    EVENTS_APPLIED,
    EVENTS_DUPLICATE,
    EVENTS_PASSED_OVER,
    TRANSIENT_RETRIES,
)
from servicekit.observability.tracing import context_from_kafka_headers, tracing_enabled
from servicekit.resilience import is_transient, retry_transient

log = logging.getLogger(__name__)
tracer = trace.get_tracer("servicekit.consumer")

Handler = Callable[[Envelope[Any], UnitOfWork], Awaitable[None]]
# Whether a handler would act on this event at all. One that would not is passed over: no handler
# call and no inbox row (the same event redelivered is passed over again, so nothing is lost).
# For topics a service reads for a few of their events, such as a status stream.
ActsOn = Callable[[Envelope[Any]], bool]
# Called once per batch, in its transaction, with the events about to be handled: lets a
# repository load what the whole batch needs in one query instead of one per event.
Prefetch = Callable[[Sequence[Envelope[Any]], UnitOfWork], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ConsumerPolicy:
    max_message_bytes: int = 256 * 1024
    max_attempts: int = 3
    retry_backoff_max_s: float = 10.0
    batch_max_records: int = 500
    batch_timeout_ms: int = 20
    # How much a consumer may prefetch. The client's default (50 MB) lets a backlog fill a
    # service's memory; a few batches ahead is all the pipeline needs.
    fetch_max_bytes: int = 4 * 1024 * 1024
    # At low rates a fetch answered as soon as one record is there makes a batch, a transaction
    # and a commit per record, and the broker a fetch per record: at 100 referrals/s the pipeline's
    # processes kept both cores busy, and each hop took 60-80 ms (p50). Letting the broker gather
    # up to 20 ms of records first halved that; a backlog fills a fetch at once.
    fetch_min_bytes: int = 64 * 1024
    fetch_max_wait_ms: int = 20


@dataclass(slots=True)
class _Item:
    record: ConsumerRecord
    event: Envelope[Any]
    handler: Handler


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        handlers: Mapping[str, Handler],
        uow_factory: Callable[[], UnitOfWork],
        dead_letters: DeadLetterPublisher,
        policy: ConsumerPolicy | None = None,
        prefetch: Prefetch | None = None,
        acts_on: Mapping[str, ActsOn] | None = None,
    ) -> None:
        self.name = name
        self.prefetch = prefetch
        self.handlers = dict(handlers)
        self.acts_on = dict(acts_on or {})
        self.uow_factory = uow_factory
        self.dead_letters = dead_letters
        self.policy = policy or ConsumerPolicy()
        self._to_commit: dict[TopicPartition, int] = {}
        self._committing: asyncio.Task[None] | None = None

    def subscribe(self, broker: KafkaBroker, *topics: str, group_id: str) -> None:
        """Register the batch subscriber on `broker`; offsets are committed by us, after commit."""

        async def on_batch(batch: Any) -> None:  # a _Batch (see _raw_decoder)
            await self.apply_batch(batch.records)
            self._acknowledge(batch.records, batch.consumer)

        broker.subscriber(
            *topics,
            group_id=group_id,
            batch=True,
            max_records=self.policy.batch_max_records,
            batch_timeout_ms=self.policy.batch_timeout_ms,
            fetch_max_bytes=self.policy.fetch_max_bytes,
            fetch_min_bytes=self.policy.fetch_min_bytes,
            fetch_max_wait_ms=self.policy.fetch_max_wait_ms,
            max_partition_fetch_bytes=max(self.policy.max_message_bytes, 512 * 1024),
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            decoder=_raw_decoder,
            title=f"{self.name}:{','.join(topics)}",
        )(on_batch)

    def _acknowledge(self, records: Sequence[ConsumerRecord], kafka: AIOKafkaConsumer) -> None:
        """Commit the offsets of `records`, applied and committed to the database, in the
        background: the next batch need not wait for the broker's answer. One commit is in flight
        at a time, so they reach the broker in order."""
        # A batch holds each partition's records in offset order: the last one seen is the latest.
        latest = {(r.topic, r.partition): r.offset for r in records}
        for (topic, partition), offset in latest.items():
            tp = TopicPartition(topic, partition)
            self._to_commit[tp] = max(self._to_commit.get(tp, 0), offset + 1)
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_offsets(kafka))

    async def _commit_offsets(self, kafka: AIOKafkaConsumer) -> None:
        while self._to_commit:
            offsets, self._to_commit = self._to_commit, {}
            try:
                await kafka.commit(offsets)
            except Exception as exc:
                # Those records were applied: a member that gets their partitions reads them again
                # and its inbox skips them.
                log.warning("offsets not committed (%r); the records will be skipped as repeats", exc)

    async def flush_offsets(self) -> None:
        """Wait for the offsets of every applied batch to be committed (before the broker stops)."""
        if self._committing is not None:
            await self._committing

    async def apply_batch(self, records: Sequence[ConsumerRecord]) -> None:
        await self.apply_items(await self.decode_batch(records))

    async def decode_batch(self, records: Sequence[ConsumerRecord]) -> list[_Item]:
        """The records as events to apply; those that are not valid events are dead-lettered."""
        items: list[_Item] = []
        # Event ids as integers: a UUID's own hash is a Python call, and this runs per event.
        seen: set[int] = set()
        passed_over: Counter[str] = Counter()
        for record in records:
            item = await self._decode(record)
            if item is None:
                continue
            acts = self.acts_on.get(item.event.event_type)
            if acts is not None and not acts(item.event):
                passed_over[item.event.event_type] += 1
                continue
            if item.event.event_id.int in seen:
                EVENTS_DUPLICATE.labels(self.name).inc()
                continue
            seen.add(item.event.event_id.int)
            items.append(item)
        for event_type, count in passed_over.items():
            EVENTS_PASSED_OVER.labels(self.name, event_type).inc(count)
        return items

    async def apply_items(self, items: list[_Item]) -> None:
        started = time.perf_counter()
        if items:
            try:
                await self._apply_with_transient_retry(items)
            except Exception as exc:
                if is_transient(exc):
                    raise
                log.warning("batch of %d failed (%r); applying one by one", len(items), exc)
                for item in items:
                    await self._apply_alone(item)
        BATCH_SECONDS.labels(self.name).observe(time.perf_counter() - started)

    async def _decode(self, record: ConsumerRecord) -> _Item | None:
        raw = record.value
        size = len(raw) if raw is not None else 0
        rejection: Rejection | None = None
        if raw is None:
            rejection = Rejection("empty_message", "the record has no value (tombstone)")
        elif size > self.policy.max_message_bytes:
            rejection = Rejection(
                "oversized_payload",
                f"{size} bytes exceeds the {self.policy.max_message_bytes}-byte limit",
            )
        else:
            try:
                event = parse_event(raw)
            except ContractError as exc:
                rejection = Rejection(exc.code, exc.detail)
            else:
                handler = self.handlers.get(event.event_type)
                if handler is not None:
                    return _Item(record, event, handler)
                rejection = Rejection(
                    "unhandled_event_type",
                    f"{self.name} does not consume {event.event_type!r} "
                    f"(handles: {', '.join(sorted(self.handlers))})",
                )
        await self.dead_letters.send(record, rejection)
        return None

    async def _apply_with_transient_retry(self, items: list[_Item]) -> None:
        # The retrying object is a reference cycle, freed only by the collector: what its hook
        # holds (the batch's events, once) lives until then, and made full collections frequent.
        name, count = self.name, len(items)

        def before_sleep(state: Any) -> None:
            TRANSIENT_RETRIES.labels(name).inc()
            log.warning(
                "transient failure applying %d event(s), retrying: %r",
                count,
                state.outcome.exception() if state.outcome else None,
            )

        async for attempt in retry_transient(self.policy.retry_backoff_max_s, before_sleep):
            with attempt:
                await self._apply(items)

    async def _apply(self, items: list[_Item]) -> None:
        recording = tracing_enabled()
        async with self.uow_factory() as uow:
            claimed = await claim(
                uow.connection,
                self.name,
                [i.event.event_id for i in items],
                [i.event.event_type for i in items],
                [i.record.topic for i in items],
                [i.record.partition for i in items],
                [i.record.offset for i in items],
            )
            fresh = {event_id.int for event_id in claimed}
            todo = [i for i in items if i.event.event_id.int in fresh]
            EVENTS_DUPLICATE.labels(self.name).inc(len(items) - len(todo))
            if todo and self.prefetch is not None:
                await self.prefetch([i.event for i in todo], uow)
            for item in todo:
                await self._handle(item, uow, recording)
            await uow.commit()
        for event_type, count in Counter(i.event.event_type for i in todo).items():
            EVENTS_APPLIED.labels(self.name, event_type).inc(count)

    async def _handle(self, item: _Item, uow: UnitOfWork, recording: bool) -> None:
        token = referral_id_var.set(item.event.referral_id)
        try:
            if not recording:
                if not item.record.headers:  # no context came in: nothing to carry on
                    await item.handler(item.event, uow)
                    return
                # No spans are recorded, but the incoming context still flows on to the
                # events this handler emits, so the referral's trace is unbroken downstream.
                attached = context.attach(context_from_kafka_headers(item.record.headers))
                try:
                    await item.handler(item.event, uow)
                finally:
                    context.detach(attached)
                return
            with tracer.start_as_current_span(
                f"{item.record.topic} process",
                context=context_from_kafka_headers(item.record.headers or ()),
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": item.record.topic,
                    "messaging.consumer.group.name": self.name,
                    "messaging.message.id": str(item.event.event_id),
                    "referral.id": str(item.event.referral_id or ""),
                },
            ):
                await item.handler(item.event, uow)
        finally:
            referral_id_var.reset(token)

    async def _apply_alone(self, item: _Item) -> None:
        last: Exception | None = None
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                await self._apply_with_transient_retry([item])
                return
            except Exception as exc:
                if is_transient(exc):
                    raise
                last = exc
                log.warning(
                    "handler failed for %s (attempt %d/%d): %r",
                    item.event.event_id,
                    attempt,
                    self.policy.max_attempts,
                    exc,
                )
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        await self.dead_letters.send(
            item.record,
            Rejection(
                "handler_failed",
                f"{type(last).__name__}: {last} (after {self.policy.max_attempts} attempts)",
            ),
        )


@dataclass(frozen=True)
class _Batch:
    records: Sequence[ConsumerRecord]
    consumer: AIOKafkaConsumer


async def _raw_decoder(msg: Any) -> _Batch:
    """The records and their consumer as the body: the kit decodes each record itself (with DLQ
    on error), and the handler then needs no injected `message`, which FastStream resolves in a
    worker thread, one thread hop per batch. Not the message itself: FastStream keeps the body
    on the message, and a message holding itself was a reference cycle that kept every batch's
    records alive until the cyclic collector ran."""
    return _Batch(msg.raw_message, msg.consumer)
