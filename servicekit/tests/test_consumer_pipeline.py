"""consume → unit of work (state + inbox + outbox) → relay → Kafka, on the real broker and database."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import uuid
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from prometheus_client import REGISTRY
from servicekit.db.relay import OutboxRelay, RelayConfig, idempotent_producer
from servicekit.db.uow import UnitOfWork
from servicekit.messaging.broker import create_broker
from servicekit.messaging.consumer import ConsumerPolicy, EventConsumer
from servicekit.messaging.dead_letters import DeadLetterPublisher
from servicekit.messaging.dlq_tools import list_dead_letters, replay_dead_letters

pytestmark = pytest.mark.infra

STATE = "CREATE TABLE applied (event_id uuid PRIMARY KEY, referral_id uuid NOT NULL, n int NOT NULL)"


async def read_topic(
    bootstrap: str, topic: str, expected: int, timeout: float = 30.0
) -> list[ConsumerRecord]:
    """Everything on `topic` once `expected` records have arrived (plus a short look for extras)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=f"reader-{uuid.uuid4().hex[:8]}",
    )
    await consumer.start()
    out: list[ConsumerRecord] = []
    try:
        async with asyncio.timeout(timeout):
            while len(out) < expected:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    out.extend(records)
        for records in (await consumer.getmany(timeout_ms=700)).values():
            out.extend(records)
    finally:
        await consumer.stop()
    return out


async def produce(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes, list]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for key, value, headers in messages:
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


class Harness:
    """A consumer whose handler records state and emits a follow-up event through the outbox."""

    def __init__(self, pool, bootstrap, in_topic, out_topic, producer, events, **policy):
        self.pool, self.bootstrap = pool, bootstrap
        self.in_topic, self.out_topic = in_topic, out_topic
        self.producer, self.events = producer, events
        self.calls: dict[uuid.UUID, int] = defaultdict(int)
        self.fail: dict[uuid.UUID, BaseException] = {}
        self.fail_times: dict[uuid.UUID, int] = {}
        self.gate: asyncio.Event | None = None
        self.consumer = EventConsumer(
            name="kit-test",
            handlers={events.event_type: self.handle},
            uow_factory=lambda: UnitOfWork(pool),
            dead_letters=DeadLetterPublisher(producer, "kit-test"),
            policy=ConsumerPolicy(retry_backoff_max_s=0.2, **policy),
        )

    async def handle(self, event, uow: UnitOfWork) -> None:
        self.calls[event.event_id] += 1
        if self.gate is not None:
            await self.gate.wait()
        if event.event_id in self.fail and self.fail_times.get(event.event_id, 1) > 0:
            self.fail_times[event.event_id] = self.fail_times.get(event.event_id, 1) - 1
            raise self.fail[event.event_id]
        await uow.connection.execute(
            "INSERT INTO applied VALUES ($1, $2, $3)",
            event.event_id,
            event.referral_id,
            self.events.sequence_of(event),
        )
        follow = self.events.follow_up(event)
        uow.publish(follow, topic=self.out_topic, key=str(event.referral_id), aggregate_type="referral")

    async def applied(self) -> list:
        async with self.pool.acquire() as conn:
            return await conn.fetch("SELECT * FROM applied ORDER BY n")


@pytest.fixture
async def harness(kit_pool, kafka_bootstrap, make_topic, kit_events):
    async with kit_pool.acquire() as conn:
        await conn.execute(STATE)
    in_topic, out_topic = await make_topic("in"), await make_topic("out")
    producer = idempotent_producer(kafka_bootstrap)
    await producer.start()
    yield Harness(kit_pool, kafka_bootstrap, in_topic, out_topic, producer, kit_events)
    await producer.stop()


async def run_subscriber(h: Harness, until, timeout: float = 60.0) -> None:
    """Run the consumer as a real FastStream subscriber until `until()` holds."""
    broker = create_broker(h.bootstrap, service=f"kit-test-{uuid.uuid4().hex[:6]}")
    h.consumer.subscribe(broker, h.in_topic, group_id=f"kit-test-{uuid.uuid4().hex[:6]}")
    await broker.start()
    try:
        async with asyncio.timeout(timeout):
            while not await until():
                await asyncio.sleep(0.1)
    finally:
        await broker.stop()


async def relay_all(pool_dsn: str, bootstrap: str, expected_sent: int) -> int:
    producer = idempotent_producer(bootstrap)
    await producer.start()
    relay = OutboxRelay(pool_dsn, producer, RelayConfig(schema="intake", idle_poll_s=0.1))
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(30):
            while relay.published < expected_sent:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
    return relay.published


async def test_events_are_applied_once_and_follow_ups_leave_in_order_per_key(
    harness, kit_schema, kafka_bootstrap
):
    h = harness
    referrals = [uuid.uuid4() for _ in range(4)]
    batch = [h.events.make(r, n) for n in range(25) for r in referrals]
    await produce(
        kafka_bootstrap,
        h.in_topic,
        [(str(e.referral_id).encode(), h.events.dump(e), []) for e in batch],
    )

    async def all_applied() -> bool:
        return len(await h.applied()) == len(batch)

    await run_subscriber(h, all_applied)
    assert all(count == 1 for count in h.calls.values())
    await relay_all(kit_schema, kafka_bootstrap, len(batch))

    out = await read_topic(kafka_bootstrap, h.out_topic, len(batch))
    assert len(out) == len(batch)
    by_key: dict[str, list[int]] = defaultdict(list)
    for rec in sorted(out, key=lambda r: (r.partition, r.offset)):
        follow = h.events.parse(rec.value)
        by_key[rec.key.decode()].append(h.events.sequence_of(follow))
    assert set(by_key) == {str(r) for r in referrals}
    assert all(seqs == list(range(25)) for seqs in by_key.values())


async def test_a_redelivered_batch_changes_nothing(harness, kit_pool):
    h = harness
    referral = uuid.uuid4()
    records = [h.events.record(h.in_topic, h.events.make(referral, n), offset=n) for n in range(10)]
    await h.consumer.apply_batch(records)
    await h.consumer.apply_batch(records)  # Kafka redelivers after a crash before the commit
    await h.consumer.apply_batch(records[3:7])
    assert len(await h.applied()) == 10
    assert all(c == 1 for c in h.calls.values())
    async with kit_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 10
        assert await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'kit-test'") == 10


async def test_events_the_handler_would_not_act_on_are_passed_over_without_an_inbox_row(harness, kit_pool):
    h = harness
    referral = uuid.uuid4()
    events = [h.events.make(referral, n) for n in range(6)]
    wanted = {e.event_id for e in events[::2]}
    h.consumer.acts_on = {h.events.event_type: lambda e: e.event_id in wanted}
    records = [h.events.record(h.in_topic, e, offset=n) for n, e in enumerate(events)]
    await h.consumer.apply_batch(records)
    await h.consumer.apply_batch(records)  # redelivered: the others are passed over again
    assert set(h.calls) == wanted and all(c == 1 for c in h.calls.values())
    assert [r["n"] for r in await h.applied()] == [0, 2, 4]
    async with kit_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'kit-test'") == 3
    passed = REGISTRY.get_sample_value(
        "kit_events_passed_over_total", {"consumer": "kit-test", "event_type": h.events.event_type}
    )
    assert passed is not None and passed >= 6


async def test_the_same_event_twice_in_one_batch_is_applied_once(harness):
    h = harness
    event = h.events.make(uuid.uuid4(), 1)
    await h.consumer.apply_batch([h.events.record(h.in_topic, event, offset=i) for i in range(3)])
    assert len(await h.applied()) == 1


async def test_relay_killed_between_publish_and_delete_republishes_and_the_inbox_absorbs_it(
    harness, kit_pool, kit_schema, kafka_bootstrap
):
    h = harness
    referral = uuid.uuid4()
    await h.consumer.apply_batch(
        [h.events.record(h.in_topic, h.events.make(referral, n), offset=n) for n in range(8)]
    )

    class DiesBeforeDelete(OutboxRelay):
        async def remove_published(self, conn, seqs):
            raise SystemExit("relay killed after publishing, before deleting")

    producer = idempotent_producer(kafka_bootstrap)
    await producer.start()
    dying = DiesBeforeDelete(kit_schema, producer, RelayConfig(schema="intake"))
    try:
        with pytest.raises(SystemExit):
            await dying._session()
    finally:
        await producer.stop()
    async with kit_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 8

    await relay_all(kit_schema, kafka_bootstrap, 8)  # the restarted relay sends them again
    async with kit_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
        # The tally counts rows once, when they are deleted, not each time they were sent.
        assert await conn.fetchval("SELECT published FROM outbox_relay") == 8
    out = await read_topic(kafka_bootstrap, h.out_topic, 16)
    assert len(out) == 16  # each follow-up published twice …

    seen: dict[uuid.UUID, int] = defaultdict(int)
    downstream_applied: list[int] = []

    async def downstream(event, uow):
        seen[event.event_id] += 1
        downstream_applied.append(h.events.sequence_of(event))

    downstream_consumer = EventConsumer(
        name="downstream",
        handlers={h.events.follow_up_type: downstream},
        uow_factory=lambda: UnitOfWork(kit_pool),
        dead_letters=DeadLetterPublisher(h.producer, "downstream"),
    )
    await downstream_consumer.apply_batch(sorted(out, key=lambda r: r.offset))
    # … and applied once each, in order.
    assert sorted(seen.values()) == [1] * 8
    assert downstream_applied == list(range(8))


async def test_the_relay_is_woken_by_notify_without_polling(harness, kit_pool, kit_schema, kafka_bootstrap):
    h = harness
    producer = idempotent_producer(kafka_bootstrap)
    await producer.start()
    relay = OutboxRelay(kit_schema, producer, RelayConfig(schema="intake", idle_poll_s=3600))
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(10):
            while not relay.active:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the relay is now idle, waiting for a notification
        await h.consumer.apply_batch([h.events.record(h.in_topic, h.events.make(uuid.uuid4(), 0), offset=0)])
        out = await read_topic(kafka_bootstrap, h.out_topic, 1, timeout=10)
        assert len(out) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()


async def test_one_relay_is_active_and_a_standby_takes_over_when_it_stops(
    harness, kit_schema, kafka_bootstrap
):
    h = harness
    producer = idempotent_producer(kafka_bootstrap)
    await producer.start()
    config = RelayConfig(schema="intake", idle_poll_s=0.1, standby_poll_s=0.1)
    first, second = (
        OutboxRelay(kit_schema, producer, config),
        OutboxRelay(kit_schema, producer, config),
    )
    t1 = asyncio.create_task(first.run())
    async with asyncio.timeout(10):
        while not first.active:
            await asyncio.sleep(0.05)
    t2 = asyncio.create_task(second.run())
    try:
        await asyncio.sleep(0.5)
        assert (first.active, second.active) == (True, False)
        t1.cancel()
        await asyncio.gather(t1, return_exceptions=True)
        async with asyncio.timeout(10):
            while not second.active:
                await asyncio.sleep(0.05)
        await h.consumer.apply_batch([h.events.record(h.in_topic, h.events.make(uuid.uuid4(), 0), offset=0)])
        assert len(await read_topic(kafka_bootstrap, h.out_topic, 1, timeout=10)) == 1
        assert second.published == 1
    finally:
        t2.cancel()
        await asyncio.gather(t2, return_exceptions=True)
        await producer.stop()


async def test_poison_messages_go_to_the_dlq_with_reasons_and_good_ones_still_flow(harness, kafka_bootstrap):
    h = harness
    referral = uuid.uuid4()
    good = [h.events.make(referral, n) for n in range(6)]
    trace_header = [("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    wrong_types = h.events.dump_raw(good[0], event_id="not-a-uuid")
    unknown_type = h.events.dump_raw(good[0], event_type="referral.teleported")
    oversized = h.events.dump_raw(good[0], padding=300 * 1024)
    poison = [
        (b"k1", b"{not json at all", trace_header),
        (b"k2", wrong_types, []),
        (b"k3", unknown_type, []),
        (b"k4", oversized, []),
    ]
    stream: list[tuple[bytes | None, bytes, list]] = []
    for i, event in enumerate(good):
        stream.append((str(referral).encode(), h.events.dump(event), []))
        if i < len(poison):
            stream.append(poison[i])
    await produce(kafka_bootstrap, h.in_topic, stream)

    dlq_seen: list = []

    async def done() -> bool:
        nonlocal dlq_seen
        if len(await h.applied()) < len(good):
            return False
        dlq_seen = await list_dead_letters(kafka_bootstrap, h.in_topic)
        return len(dlq_seen) == len(poison)

    await run_subscriber(h, done)
    reasons = {d.key: d for d in dlq_seen}
    assert reasons[b"k1"].reason == "malformed_json"
    assert reasons[b"k2"].reason == "schema_violation" and "event_id" in reasons[b"k2"].detail
    assert reasons[b"k3"].reason == "unknown_event_type" and "referral.teleported" in reasons[b"k3"].detail
    assert reasons[b"k4"].reason == "oversized_payload"
    assert reasons[b"k1"].value == b"{not json at all"
    assert reasons[b"k4"].value == oversized
    assert ("traceparent", trace_header[0][1]) in reasons[b"k1"].headers
    assert all(d.original_topic == h.in_topic and d.consumer == "kit-test" for d in dlq_seen)
    assert [r["n"] for r in await h.applied()] == list(range(6))


async def test_dead_letters_replay_onto_the_original_topic_once(harness, kafka_bootstrap):
    h = harness
    await produce(kafka_bootstrap, h.in_topic, [(b"bad", b"[1, 2", [])])
    await h.consumer.apply_batch(await read_topic(kafka_bootstrap, h.in_topic, 1))
    assert len(await list_dead_letters(kafka_bootstrap, h.in_topic)) == 1

    assert await replay_dead_letters(kafka_bootstrap, h.in_topic) == 1
    assert await replay_dead_letters(kafka_bootstrap, h.in_topic) == 0
    replayed = [r for r in await read_topic(kafka_bootstrap, h.in_topic, 2) if r.key == b"bad"]
    assert len(replayed) == 2
    headers = dict(replayed[-1].headers)
    assert headers["dlq.replayed_from"].startswith(f"{h.in_topic}.dlq[0]@".encode())
    assert replayed[-1].value == b"[1, 2"


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_bounded_attempts(harness, kafka_bootstrap):
    h = harness
    referral = uuid.uuid4()
    events = [h.events.make(referral, n) for n in range(5)]
    h.fail[events[2].event_id] = ValueError("programme rules cannot place this")
    h.fail_times[events[2].event_id] = 10**6
    await h.consumer.apply_batch([h.events.record(h.in_topic, e, offset=i) for i, e in enumerate(events)])
    assert [r["n"] for r in await h.applied()] == [0, 1, 3, 4]
    letters = await list_dead_letters(kafka_bootstrap, h.in_topic)
    assert len(letters) == 1
    assert letters[0].reason == "handler_failed"
    assert "ValueError: programme rules cannot place this (after 3 attempts)" in letters[0].detail
    # one try in the batch, then three alone
    assert h.calls[events[2].event_id] == 1 + 3


async def test_a_transient_failure_is_retried_and_never_skipped(harness, kafka_bootstrap):
    h = harness
    referral = uuid.uuid4()
    events = [h.events.make(referral, n) for n in range(4)]
    h.fail[events[1].event_id] = ConnectionResetError("database connection reset")
    h.fail_times[events[1].event_id] = 4
    await h.consumer.apply_batch([h.events.record(h.in_topic, e, offset=i) for i, e in enumerate(events)])
    assert [r["n"] for r in await h.applied()] == [0, 1, 2, 3]
    assert await list_dead_letters(kafka_bootstrap, h.in_topic) == []


async def test_offsets_are_committed_only_after_the_transaction_commits(harness, kafka_bootstrap):
    h = harness
    h.gate = asyncio.Event()
    events = [h.events.make(uuid.uuid4(), n) for n in range(3)]
    await produce(
        kafka_bootstrap,
        h.in_topic,
        [(str(e.referral_id).encode(), h.events.dump(e), []) for e in events],
    )
    group = f"kit-commit-{uuid.uuid4().hex[:6]}"
    broker = create_broker(kafka_bootstrap, service="kit-commit-test")
    h.consumer.subscribe(broker, h.in_topic, group_id=group)
    await broker.start()
    probe = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await probe.start()
    try:
        async with asyncio.timeout(30):
            while not h.calls:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        parts = [TopicPartition(h.in_topic, p) for p in range(3)]
        assert [await probe.committed(tp) for tp in parts] == [None, None, None]
        h.gate.set()
        async with asyncio.timeout(30):
            while sum([(await probe.committed(tp)) or 0 for tp in parts]) < len(events):
                await asyncio.sleep(0.1)
        assert len(await h.applied()) == 3
    finally:
        await probe.stop()
        await broker.stop()


async def test_the_incoming_trace_context_reaches_the_follow_up_events_when_spans_are_off(
    harness, kit_schema, kafka_bootstrap
):
    h = harness
    incoming = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    event = h.events.make(uuid.uuid4(), 1)
    record = dataclasses.replace(
        h.events.record(h.in_topic, event, offset=0), headers=[("traceparent", incoming)]
    )
    untraced = h.events.record(h.in_topic, h.events.make(uuid.uuid4(), 2), offset=1)
    await h.consumer.apply_batch([record, untraced])
    await relay_all(kit_schema, kafka_bootstrap, 2)

    out = {r.key.decode(): dict(r.headers) for r in await read_topic(kafka_bootstrap, h.out_topic, 2)}
    assert out[str(event.referral_id)]["traceparent"] == incoming
    assert "traceparent" not in out[str(untraced.key.decode())]


async def test_the_relay_publishes_under_the_configured_topic_prefix(
    harness, kit_schema, kafka_bootstrap, make_topic
):
    h = harness
    prefixed = await make_topic("prefixed")
    prefix, _, bare = prefixed.rpartition(".")
    referral = uuid.uuid4()
    uow = UnitOfWork(h.pool)
    async with uow:
        uow.publish(h.events.make(referral, 1), topic=bare, key=str(referral), aggregate_type="referral")
        await uow.commit()
    producer = idempotent_producer(kafka_bootstrap)
    await producer.start()
    try:
        relay = OutboxRelay(kit_schema, producer, RelayConfig(schema="intake", topic_prefix=prefix + "."))
        async with h.pool.acquire() as conn:
            assert await relay.relay_once(conn) == 1
    finally:
        await producer.stop()
    out = await read_topic(kafka_bootstrap, prefixed, 1)
    assert [r.key.decode() for r in out] == [str(referral)]


async def test_after_commit_callbacks_run_once_the_transaction_commits_and_never_on_rollback(kit_pool):
    ran: list[str] = []
    async with UnitOfWork(kit_pool) as uow:
        uow.after_commit(lambda: ran.append("rolled back"))
    assert ran == []
    async with UnitOfWork(kit_pool) as uow:
        uow.after_commit(lambda: ran.append(f"committed: {uow.committed}"))
        assert ran == []
        await uow.commit()
    assert ran == ["committed: True"]


async def test_a_batchs_records_and_events_are_freed_when_it_ends_not_left_to_the_cyclic_collector(
    harness, kafka_bootstrap
):
    h = harness
    h.consumer.policy = dataclasses.replace(h.consumer.policy, batch_max_records=10)  # several batches
    batch = [h.events.make(uuid.uuid4(), n) for n in range(50)]
    await produce(
        kafka_bootstrap, h.in_topic, [(str(e.referral_id).encode(), h.events.dump(e), []) for e in batch]
    )

    async def all_applied() -> bool:
        return len(await h.applied()) == len(batch)

    gc.collect()
    gc.disable()
    try:
        await run_subscriber(h, all_applied)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [
            o
            for o in gc.garbage
            if (isinstance(o, ConsumerRecord) and o.topic == h.in_topic)
            or isinstance(o, UnitOfWork)
            or type(o).__name__ == type(batch[0]).__name__
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []
