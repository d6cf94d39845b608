"""Dead letters: a message that cannot be applied goes to `<topic>.dlq` with the reason,
its original bytes, key and headers, and the consumer moves on."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, ConsumerRecord

from servicekit.observability.metrics import DEAD_LETTERS

log = logging.getLogger(__name__)

DLQ_SUFFIX = ".dlq"
H_REASON = "dlq.reason"
H_DETAIL = "dlq.detail"
H_CONSUMER = "dlq.consumer"
H_TOPIC = "dlq.original_topic"
H_PARTITION = "dlq.original_partition"
H_OFFSET = "dlq.original_offset"
H_FAILED_AT = "dlq.failed_at"
H_REPLAYED_FROM = "dlq.replayed_from"
MAX_DETAIL = 2000


def dlq_topic(topic: str) -> str:
    return topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message is dead: `reason` is a stable code, `detail` a precise sentence."""

    reason: str
    detail: str


class DeadLetterPublisher:
    def __init__(self, producer: AIOKafkaProducer, consumer: str) -> None:
        self._producer = producer
        self._consumer = consumer

    async def send(self, record: ConsumerRecord, rejection: Rejection) -> None:
        """Publish and wait for the broker's acknowledgement (before the offset is committed)."""
        own = {
            H_REASON: rejection.reason,
            H_DETAIL: rejection.detail[:MAX_DETAIL],
            H_CONSUMER: self._consumer,
            H_TOPIC: record.topic,
            H_PARTITION: str(record.partition),
            H_OFFSET: str(record.offset),
            H_FAILED_AT: datetime.now(UTC).isoformat(),
        }
        original = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq.")]
        headers = original + [(k, v.encode()) for k, v in own.items()]
        await self._producer.send_and_wait(
            dlq_topic(record.topic), value=record.value, key=record.key, headers=headers
        )
        DEAD_LETTERS.labels(self._consumer, record.topic, rejection.reason).inc()
        log.warning(
            "dead-lettered %s[%d]@%d: %s: %s",
            record.topic,
            record.partition,
            record.offset,
            rejection.reason,
            rejection.detail,
        )
