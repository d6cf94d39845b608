"""The envelope every event travels in, and the canonical referral id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

# Fixed forever: changing it would change every referral id ever issued.
REFERRAL_NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-5b7a-9c61-2f0e4d8a7b35")

D = TypeVar("D", bound=BaseModel)


class Contract(BaseModel):
    """Base of every payload: strict types, unknown fields refused, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def referral_id_for(source_system: str, source_referral_id: str) -> uuid.UUID:
    """The canonical referral id: deterministic, so a resubmission maps to the same referral."""
    return uuid.uuid5(REFERRAL_NAMESPACE, f"{source_system}\x1f{source_referral_id}")


class Envelope(BaseModel, Generic[D]):
    """Metadata common to every event; `data` holds the event's own payload.

    Trace context is not here: it travels in the Kafka headers (W3C traceparent)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    event_id: uuid.UUID = Field(description="Unique id of this event; consumers de-duplicate on it")
    event_type: str = Field(description="Dotted event name without version, e.g. referral.accepted")
    schema_version: int = Field(ge=1, description="Major version of the payload schema")
    occurred_at: AwareDatetime = Field(description="When it happened, UTC")
    referral_id: uuid.UUID | None = Field(
        description="Canonical referral id; null only on referral.submitted (intake assigns it)"
    )
    correlation_id: uuid.UUID = Field(description="Shared by every event of one referral's journey")
    causation_id: uuid.UUID | None = Field(description="event_id of the event that caused this one")
    producer: str = Field(min_length=1, max_length=64, description="Service or system that produced it")
    data: D = Field(description="The event's payload")

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


def new_envelope(
    envelope_type: type[Envelope[Any]],
    data: BaseModel,
    *,
    producer: str,
    referral_id: uuid.UUID | None,
    caused_by: Envelope[Any] | None = None,
    occurred_at: datetime | None = None,
) -> Any:
    """A fresh event: new id, now (UTC), correlation carried over from the causing event."""
    event_type = envelope_type.model_fields["event_type"].default
    event_id = uuid.uuid4()
    return envelope_type(
        event_id=event_id,
        event_type=event_type,
        schema_version=envelope_type.model_fields["schema_version"].default,
        occurred_at=occurred_at or datetime.now(UTC),
        referral_id=referral_id,
        correlation_id=caused_by.correlation_id if caused_by else event_id,
        causation_id=caused_by.event_id if caused_by else None,
        producer=producer,
        data=data,
    )
