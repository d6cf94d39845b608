"""The envelope every event travels in, and the one way services create a new one."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Generic, Self, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from referral_schemas.ids import new_event_id
from referral_schemas.primitives import UtcDatetime

# Strict: events arrive as JSON, where strict mode still reads ISO strings as UUIDs, dates and
# times, but never turns "12" into 12 or 1 into true. From Python, pass real UUID, datetime and
# enum members (which is also what mypy asks for).
_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)


class Contract(BaseModel):
    """Base of every payload model: strict types, unknown fields refused, immutable."""

    model_config = _STRICT


D = TypeVar("D", bound=Contract)
E = TypeVar("E", bound="Envelope[Any]")


class Envelope(BaseModel, Generic[D]):
    """Metadata common to every event; `data` holds the event's own payload.

    Every key is required (nullable ones as null) so that all events have one shape. Trace context
    is not here: it travels in the Kafka headers (W3C traceparent).
    """

    model_config = _STRICT

    event_id: uuid.UUID = Field(description="Unique id of this event; consumers de-duplicate on it")
    event_type: str = Field(description="Event name without version, e.g. referral.accepted")
    schema_version: int = Field(description="Major version of this event's schema")
    occurred_at: UtcDatetime = Field(description="When it happened; must carry an offset, and is read as UTC")
    referral_id: uuid.UUID | None = Field(
        description="Canonical referral id (see referral_id_for); null on referral.submitted, "
        "where intake has yet to assign it"
    )
    correlation_id: uuid.UUID = Field(
        description="Shared by every event of one journey: the event_id of the journey's first event"
    )
    causation_id: uuid.UUID | None = Field(
        description="event_id of the event that caused this one; null for a first event"
    )
    producer: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        description='Service or system that produced the event, e.g. "triage" or "emis-web"',
    )
    data: D = Field(description="The event's payload")

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_is_no_boolean(cls, value: object) -> object:
        # true == 1 in Python, so a literal 1 would otherwise accept JSON true.
        if isinstance(value, bool):
            raise ValueError("schema_version is an integer, not a boolean")
        return value

    @classmethod
    def event_type_name(cls) -> str:
        """The event type a concrete envelope class carries (its `event_type` literal)."""
        return str(_literal(cls, "event_type"))

    @classmethod
    def schema_version_number(cls) -> int:
        """The schema version a concrete envelope class carries."""
        return int(_literal(cls, "schema_version"))


# Asked for every event a service emits; a class's literals never change.
@functools.cache
def _literal(envelope_type: type[BaseModel], field: str) -> Any:
    (value,) = get_args(envelope_type.model_fields[field].annotation)
    return value


class ReferralEnvelope(Envelope[D], Generic[D]):
    """Envelope of an event about one referral: it carries the referral id (the partition key)."""

    referral_id: uuid.UUID = Field(description="Canonical referral id (see referral_id_for)")


class DeidentifiedEnvelope(Envelope[D], Generic[D]):
    """Envelope of the commissioner stream, which must not be linkable to a referral.

    A referral id can be recomputed by anyone holding the referrer's identifiers, and a causation
    or journey correlation id leads back to it, so none of them travels here.
    """

    referral_id: None = Field(description="Always null: de-identified events name no referral")
    correlation_id: uuid.UUID = Field(
        description="Fresh for each event (equal to event_id); never a referral journey's id"
    )
    causation_id: None = Field(description="Always null: a cause would link back to a referral")

    @model_validator(mode="after")
    def _correlation_is_own(self) -> Self:
        if self.correlation_id != self.event_id:
            raise ValueError("a de-identified event's correlation_id must equal its event_id")
        return self


def new_envelope(
    envelope_type: type[E],
    data: Contract | Mapping[str, Any],
    *,
    producer: str,
    referral_id: uuid.UUID | None,
    caused_by: Envelope[Any] | None = None,
    occurred_at: datetime | None = None,
) -> E:
    """A new event of `envelope_type` around `data`.

    It gets a fresh event_id and occurred_at (now, UTC, unless given). Caused by another event, it
    joins that event's journey (its correlation_id) and names it as its cause; otherwise it starts
    a journey of its own. `data` may be the payload's fields, validated with the envelope in one
    pass (a payload model is validated once more inside the envelope). Raises
    pydantic.ValidationError if the result breaks the contract.
    """
    event_id = new_event_id()
    if issubclass(envelope_type, DeidentifiedEnvelope) and caused_by is not None:
        raise ValueError(
            f"{envelope_type.event_type_name()} is de-identified: it must not name the event "
            "that caused it, which would link it to a referral"
        )
    return envelope_type.model_validate(
        {
            "event_id": event_id,
            "event_type": envelope_type.event_type_name(),
            "schema_version": envelope_type.schema_version_number(),
            "occurred_at": occurred_at or datetime.now(UTC),
            "referral_id": referral_id,
            "correlation_id": caused_by.correlation_id if caused_by else event_id,
            "causation_id": caused_by.event_id if caused_by else None,
            "producer": producer,
            "data": data,
        }
    )
