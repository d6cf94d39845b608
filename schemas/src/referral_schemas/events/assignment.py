"""Assignment events: a referral placed with a provider, and what became of the placement."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from referral_schemas.enums import DeliveryChannel, Programme, RiskLevel
from referral_schemas.envelope import Contract
from referral_schemas.events.common import PatientContact


class AssignmentCreated(Contract):
    assignment_id: uuid.UUID = Field(description="Unique per placement attempt")
    attempt: int = Field(ge=1, le=20, description="1 for the first provider, 2 after one reassignment...")
    provider_id: str = Field(max_length=64, description="Provider organisation id in the directory")
    service_id: str = Field(max_length=64, description="Service id in the directory")
    programme: Programme = Field(description="Programme to deliver")
    risk: RiskLevel = Field(description="Risk level")
    prioritised: bool = Field(description="Priority patient (shorter deadline)")
    contact_deadline: dt.datetime = Field(description="Provider must accept by then")
    patient_key: str = Field(min_length=16, max_length=128, description="Pseudonymous patient key")
    contact: PatientContact = Field(description="Who to contact")
    reassigned_from: uuid.UUID | None = Field(None, description="Previous assignment, if any")
    fallback_district: str | None = Field(
        None, max_length=80, description="Set when matched outside the home district"
    )


class AssignmentDelivered(Contract):
    assignment_id: uuid.UUID = Field(description="Assignment")
    provider_id: str = Field(max_length=64, description="Provider")
    channel: DeliveryChannel = Field(description="How it reached the provider")
    delivered_at: dt.datetime = Field(description="When the provider had it")
    attempts: int = Field(ge=1, description="Delivery attempts it took")


class AssignmentDeliveryFailed(Contract):
    assignment_id: uuid.UUID = Field(description="Assignment")
    provider_id: str = Field(max_length=64, description="Provider")
    channel: DeliveryChannel = Field(description="Channel that failed")
    attempts: int = Field(ge=1, description="Attempts made")
    last_error: str = Field(max_length=2000, description="Last error seen")


class AssignmentDeclined(Contract):
    assignment_id: uuid.UUID = Field(description="Assignment")
    provider_id: str = Field(max_length=64, description="Provider")
    reason_code: str = Field(max_length=64, description='e.g. "no_capacity", "not_suitable"')
    reason: str | None = Field(None, max_length=2000, description="Provider's explanation")


class AssignmentExpired(Contract):
    assignment_id: uuid.UUID = Field(description="Assignment")
    provider_id: str = Field(max_length=64, description="Provider")
    contact_deadline: dt.datetime = Field(description="Deadline that passed")
    expired_at: dt.datetime = Field(description="When the expiry was recorded")
