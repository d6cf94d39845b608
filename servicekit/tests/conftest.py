"""Events for the kit's tests: a real contract (provider.response) carrying a sequence number."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from referral_schemas import dump_event, new_envelope, parse_event
from referral_schemas.examples import example
from referral_schemas.registry import ProviderActivityV1, ProviderResponseV1
from servicekit.testing import consumer_record


class KitEvents:
    event_type = "provider.response"
    follow_up_type = "provider.activity"

    def __init__(self) -> None:
        self._response = example("provider.response").data
        self._activity = example("provider.activity").data

    def make(self, referral_id: uuid.UUID, n: int) -> Any:
        data = self._response.model_copy(update={"response_id": f"r-{n}"})
        return new_envelope(ProviderResponseV1, data, producer="kit-test", referral_id=referral_id)

    def follow_up(self, cause: Any) -> Any:
        n = self.sequence_of(cause)
        data = self._activity.model_copy(update={"reason_code": f"seq-{n}"})
        return new_envelope(
            ProviderActivityV1,
            data,
            producer="kit-test",
            referral_id=cause.referral_id,
            caused_by=cause,
        )

    @staticmethod
    def sequence_of(event: Any) -> int:
        if event.event_type == "provider.response":
            return int(event.data.response_id.split("-")[1])
        return int(event.data.reason_code.split("-")[1])

    dump = staticmethod(dump_event)
    parse = staticmethod(parse_event)

    def dump_raw(self, event: Any, *, padding: int = 0, **changes: Any) -> bytes:
        doc = json.loads(dump_event(event))
        doc.update(changes)
        if padding:
            doc["data"]["reason"] = "x" * padding
        return json.dumps(doc).encode()

    def record(self, topic: str, event: Any, *, offset: int, partition: int = 0) -> ConsumerRecord:
        key = str(event.referral_id).encode()
        return consumer_record(topic, dump_event(event), key=key, offset=offset, partition=partition)


@pytest.fixture
def kit_events() -> KitEvents:
    return KitEvents()
