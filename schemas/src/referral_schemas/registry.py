"""Every v1 event: its envelope class, payload model, version and topic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field

from referral_schemas.envelope import Contract, DeidentifiedEnvelope, Envelope, ReferralEnvelope
from referral_schemas.events.assignment import (
    AssignmentCreated,
    AssignmentDeclined,
    AssignmentDelivered,
    AssignmentDeliveryFailed,
    AssignmentExpired,
    AssignmentReminded,
    AssignmentWithdrawn,
)
from referral_schemas.events.outcome import OutcomeKpi, OutcomeRecorded
from referral_schemas.events.provider import ProviderActivity, ProviderResponse
from referral_schemas.events.referral import (
    ReferralAccepted,
    ReferralRejected,
    ReferralStatusChanged,
    ReferralSubmitted,
    ReferralTriaged,
)
from referral_schemas.topics import topic_for

_TYPE = "Event name without version"
_VERSION = "Major version of this event's schema"


class ReferralSubmittedV1(Envelope[ReferralSubmitted]):
    """referral.submitted v1: a referral from a GP system, social prescriber or discharge team."""

    event_type: Literal["referral.submitted"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class ReferralAcceptedV1(ReferralEnvelope[ReferralAccepted]):
    """referral.accepted v1: intake checked and stored a referral."""

    event_type: Literal["referral.accepted"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class ReferralRejectedV1(ReferralEnvelope[ReferralRejected]):
    """referral.rejected v1: intake refused a submission, with reasons."""

    event_type: Literal["referral.rejected"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class ReferralStatusV1(ReferralEnvelope[ReferralStatusChanged]):
    """referral.status v1: a referral's new status, for its referrer."""

    event_type: Literal["referral.status"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class ReferralTriagedV1(ReferralEnvelope[ReferralTriaged]):
    """referral.triaged v1: triage's decision on a referral."""

    event_type: Literal["referral.triaged"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class AssignmentCreatedV1(ReferralEnvelope[AssignmentCreated]):
    """assignment.created v1: a referral placed with a provider."""

    event_type: Literal["assignment.created"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class AssignmentDeliveredV1(ReferralEnvelope[AssignmentDelivered]):
    """assignment.delivered v1: the provider's system has the assignment."""

    event_type: Literal["assignment.delivered"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class AssignmentDeliveryFailedV1(ReferralEnvelope[AssignmentDeliveryFailed]):
    """assignment.delivery_failed v1: delivery to the provider gave up."""

    event_type: Literal["assignment.delivery_failed"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class AssignmentDeclinedV1(ReferralEnvelope[AssignmentDeclined]):
    """assignment.declined v1: the provider declined."""

    event_type: Literal["assignment.declined"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class AssignmentExpiredV1(ReferralEnvelope[AssignmentExpired]):
    """assignment.expired v1: the provider did not answer by the deadline."""

    event_type: Literal["assignment.expired"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class AssignmentRemindedV1(ReferralEnvelope[AssignmentReminded]):
    """assignment.reminded v1: the provider is reminded of an assignment it has not answered yet."""

    event_type: Literal["assignment.reminded"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class AssignmentWithdrawnV1(ReferralEnvelope[AssignmentWithdrawn]):
    """assignment.withdrawn v1: the assignment is taken back from its provider (cancelled or expired)."""

    event_type: Literal["assignment.withdrawn"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class ProviderResponseV1(ReferralEnvelope[ProviderResponse]):
    """provider.response v1: a step a provider recorded against an assignment."""

    event_type: Literal["provider.response"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class ProviderActivityV1(ReferralEnvelope[ProviderActivity]):
    """provider.activity v1: a provider's step, pseudonymised, for outcomes."""

    event_type: Literal["provider.activity"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class OutcomeRecordedV1(DeidentifiedEnvelope[OutcomeRecorded]):
    """outcome.recorded v1: a de-identified episode milestone, for commissioners."""

    event_type: Literal["outcome.recorded"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


class OutcomeKpiV1(DeidentifiedEnvelope[OutcomeKpi]):
    """outcome.kpi v1: one KPI cell, small numbers suppressed, for commissioners."""

    event_type: Literal["outcome.kpi"] = Field(description=_TYPE)
    schema_version: Literal[1] = Field(description=_VERSION)


@dataclass(frozen=True, slots=True)
class EventSpec:
    """What the platform knows about one event type."""

    event_type: str
    version: int
    envelope: type[Envelope[Any]]
    payload: type[Contract]
    topic: str
    """The topic it is published to (see `topics.topic_for`)."""

    @property
    def schema_name(self) -> str:
        """`<event_type>.v<version>`: its JSON Schema's name, whatever topic carries it."""
        return f"{self.event_type}.v{self.version}"


def _spec(envelope: type[Envelope[Any]]) -> EventSpec:
    event_type = envelope.event_type_name()
    version = envelope.schema_version_number()
    payload = envelope.model_fields["data"].annotation
    if not (isinstance(payload, type) and issubclass(payload, Contract)):
        raise TypeError(f"{envelope.__name__}.data is not a payload model")
    return EventSpec(event_type, version, envelope, payload, topic_for(event_type, version))


_ENVELOPES: tuple[type[Envelope[Any]], ...] = (
    ReferralSubmittedV1,
    ReferralAcceptedV1,
    ReferralRejectedV1,
    ReferralStatusV1,
    ReferralTriagedV1,
    AssignmentCreatedV1,
    AssignmentDeliveredV1,
    AssignmentDeliveryFailedV1,
    AssignmentDeclinedV1,
    AssignmentExpiredV1,
    AssignmentRemindedV1,
    AssignmentWithdrawnV1,
    ProviderResponseV1,
    ProviderActivityV1,
    OutcomeRecordedV1,
    OutcomeKpiV1,
)
EVENTS: Mapping[str, EventSpec] = MappingProxyType({spec.event_type: spec for spec in map(_spec, _ENVELOPES)})
"""Event type -> EventSpec, for every event the platform knows."""
