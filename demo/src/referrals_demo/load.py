"""Load: synthetic referral submissions pushed into a running deployment (`referrals load`).

The referrals come from the demo's population (`population.referrals`), published to the
deployment's `referral.submitted.v1` (under its TOPIC_PREFIX) with the platform's idempotent
producer, keyed as referrer systems key them (source system : source referral id). Nothing is
started here: the services that take them are whatever already runs there.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from referral_schemas import dump_event
from referral_schemas.enums import SourceType
from referral_schemas.registry import ReferralSubmittedV1
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from servicekit.db.relay import idempotent_producer

from referrals_demo.population import referrals

SUBMITTED = "referral.submitted.v1"


class TopicMissing(RuntimeError):
    """The topic to publish to does not exist (the broker does not create topics on demand)."""


@dataclass(frozen=True)
class Loaded:
    sent: int
    topic: str
    seed: int
    elapsed_s: float
    first: str | None
    """The first referral sent, as source_system:source_referral_id (for `referrals trace`)."""


def submission_key(event: ReferralSubmittedV1) -> bytes:
    """The record key of a submission: its referrer's identifiers (see the topic registry)."""
    return f"{event.data.source_system}:{event.data.source_referral_id}".encode()


async def submit(
    producer: AIOKafkaProducer,
    topic: str,
    events: Iterable[ReferralSubmittedV1],
    *,
    rate: float | None = None,
    on_sent: Callable[[int], None] = lambda _: None,
) -> int:
    """Publish `events` to `topic`, at most `rate` a second if given (as fast as the producer
    takes them otherwise), calling `on_sent` with the running count; returns how many were sent
    once the broker has acknowledged them all."""
    start = time.perf_counter()
    sent = 0
    unacknowledged: list[asyncio.Future[object]] = []
    for event in events:
        unacknowledged.append(await producer.send(topic, dump_event(event), key=submission_key(event)))
        sent += 1
        on_sent(sent)
        if len(unacknowledged) >= 5000:
            await asyncio.gather(*unacknowledged)  # raises if the broker refused any
            unacknowledged.clear()
        if rate:
            delay = start + sent / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
    await asyncio.gather(*unacknowledged)
    return sent


async def load(
    bootstrap: str,
    prefix: str,
    count: int,
    *,
    rate: float | None = None,
    sources: frozenset[SourceType] | None = None,
    seed: int | None = None,
    console: Console | None = None,
) -> Loaded:
    """Publish `count` synthetic referral.submitted events to `prefix` + referral.submitted.v1.

    Each load draws a fresh seed unless given one, so its referrals are new ones (the same seed
    again resubmits the same referrals, which intake answers as unchanged)."""
    topic = prefix + SUBMITTED
    seed = random.SystemRandom().randrange(2**31) if seed is None else seed
    producer = idempotent_producer(bootstrap)
    await producer.start()
    try:
        await _wait_for_topic(producer, topic, bootstrap)
        generated = referrals(count, seed=seed, sources=sources)
        head = next(generated, None)
        first = None if head is None else submission_key(head).decode()
        events = generated if head is None else itertools.chain([head], generated)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console or Console(), disable=count == 0,
        ) as progress:  # fmt: skip
            task = progress.add_task(f"referral.submitted → {topic}", total=count)
            start = time.perf_counter()
            sent = await submit(
                producer, topic, events, rate=rate, on_sent=lambda n: progress.update(task, completed=n)
            )
            elapsed = time.perf_counter() - start
    finally:
        await producer.stop()
    return Loaded(sent, topic, seed, elapsed, first)


async def _wait_for_topic(
    producer: AIOKafkaProducer, topic: str, bootstrap: str, wait_s: float = 5.0
) -> None:
    """Return once the broker's metadata has `topic` with its partitions' leaders (a topic created
    a moment ago may not have them yet); raise TopicMissing if it does not within `wait_s`."""
    deadline = time.monotonic() + wait_s
    while True:
        await producer.client.force_metadata_update()
        if producer.client.cluster.partitions_for_topic(topic):
            return
        if time.monotonic() > deadline:
            raise TopicMissing(f"topic {topic!r} does not exist on {bootstrap} (is TOPIC_PREFIX right?)")
        await asyncio.sleep(0.25)
