"""Assignment events: a referral placed with a provider, and what became of the placement."""

from __future__ import annotations

import uuid
from typing import Self

from pydantic import Field, model_validator

from referral_schemas.enums import (
    DeliveryChannel,
    District,
    Programme,
    ProviderResponseType,
    RiskLevel,
    WithdrawalReason,
)
from referral_schemas.envelope import Contract
from referral_schemas.events.common import ClinicalSafety, Coding, PatientContact
from referral_schemas.primitives import OdsCode, PseudonymousKey, ReasonCode, Slug, Text, UtcDatetime


class AssignmentCreated(Contract):
    """A referral placed with one provider's service; the provider must accept it by the deadline."""

    assignment_id: uuid.UUID = Field(description="Unique per placement attempt")
    attempt: int = Field(ge=1, le=20, description="1 for the first provider, 2 after one reassignment, ...")
    provider_id: Slug = Field(description='Provider organisation in the directory, e.g. "active-blaby"')
    service_id: Slug = Field(description="The provider's service delivering the programme")
    programme: Programme = Field(description="Programme to deliver")
    risk: RiskLevel = Field(description="Risk level from triage")
    prioritised: bool = Field(description="Priority patient: the deadline is shorter")
    contact_deadline: UtcDatetime = Field(description="The provider must accept or decline by then")
    patient_key: PseudonymousKey = Field(description="Pseudonymous patient key")
    contact: PatientContact = Field(description="Who to contact, and how")
    referrer_ods_code: OdsCode = Field(description="Referring organisation, for the provider's reports back")
    reasons: list[Coding] = Field(
        default_factory=list, max_length=20, description="Coded reasons (SNOMED CT)"
    )
    reason_text: Text | None = Field(None, description="Reason in the referrer's words")
    safety: ClinicalSafety = Field(
        default_factory=ClinicalSafety, description="Clinical safety facts for the provider's assessment"
    )
    reassigned_from: uuid.UUID | None = Field(
        None, description="The previous attempt's assignment_id; null on the first attempt"
    )
    fallback_district: District | None = Field(
        None, description="Set when no provider in the patient's district had capacity: the district used"
    )

    @model_validator(mode="after")
    def _reassignment_names_its_predecessor(self) -> Self:
        if (self.attempt > 1) != (self.reassigned_from is not None):
            raise ValueError("reassigned_from is set exactly when attempt is greater than 1")
        return self


class AssignmentDelivered(Contract):
    """The provider's system has the assignment."""

    assignment_id: uuid.UUID = Field(description="Assignment delivered")
    provider_id: Slug = Field(description="Provider it reached")
    channel: DeliveryChannel = Field(description="How it reached the provider")
    delivered_at: UtcDatetime = Field(description="When the provider acknowledged it")
    attempts: int = Field(ge=1, le=1000, description="Delivery attempts it took")


class AssignmentDeliveryFailed(Contract):
    """Delivery to the provider gave up after retries; an operator must step in."""

    assignment_id: uuid.UUID = Field(description="Assignment not delivered")
    provider_id: Slug = Field(description="Provider it was for")
    channel: DeliveryChannel = Field(description="Channel that failed")
    attempts: int = Field(ge=1, le=1000, description="Attempts made")
    last_error: Text = Field(description="Last error seen (status and message; never the payload)")


class AssignmentDeclined(Contract):
    """The provider declined the assignment; triage places the referral elsewhere."""

    assignment_id: uuid.UUID = Field(description="Assignment declined")
    provider_id: Slug = Field(description="Provider that declined")
    reason_code: ReasonCode = Field(description='Why, e.g. "no_capacity", "not_suitable", "out_of_area"')
    reason: Text | None = Field(None, description="The provider's explanation")


class AssignmentExpired(Contract):
    """The provider did not answer by the deadline; triage places the referral elsewhere."""

    assignment_id: uuid.UUID = Field(description="Assignment that expired")
    provider_id: Slug = Field(description="Provider that did not answer")
    contact_deadline: UtcDatetime = Field(description="The deadline that passed")
    expired_at: UtcDatetime = Field(description="When the expiry was recorded")


class AssignmentReminded(Contract):
    """The provider has not answered the assignment yet and its contact deadline is near: accept
    or decline it before then, or it expires and goes to another provider. Sent once, on the
    channel the assignment came by."""

    assignment_id: uuid.UUID = Field(description="Assignment awaiting the provider's answer")
    provider_id: Slug = Field(description="Provider it is assigned to")
    contact_deadline: UtcDatetime = Field(description="When it expires unless accepted or declined")
    reminded_at: UtcDatetime = Field(description="When the reminder was issued")
    detail: Text = Field(description="What is due and by when, for people at the provider")


class AssignmentWithdrawn(Contract):
    """The assignment is taken back from its provider without the provider's own answer (the
    referral was cancelled, or the contact deadline passed): stop work on it. Nothing more is
    recorded against it; answers to it are refused."""

    assignment_id: uuid.UUID = Field(description="Assignment withdrawn")
    provider_id: Slug = Field(description="Provider it was assigned to, which must stop work on it")
    reason: WithdrawalReason = Field(
        description="Why: referral_cancelled (the referrer cancelled the referral) or expired (not "
        "accepted or declined by the contact deadline)"
    )
    withdrawn_at: UtcDatetime = Field(description="When the assignment was closed")
    stage_reached: ProviderResponseType | None = Field(
        None,
        description="The furthest step recorded against the assignment before it was withdrawn, e.g. "
        '"contacted"; null when the provider had not answered',
    )
    contact_deadline: UtcDatetime | None = Field(
        None, description="The contact deadline that passed, when the reason is expired; null otherwise"
    )
    detail: Text = Field(description="What happened and what to do, for people at the provider")

    @model_validator(mode="after")
    def _an_expiry_names_its_deadline(self) -> Self:
        if (self.reason is WithdrawalReason.EXPIRED) != (self.contact_deadline is not None):
            raise ValueError("contact_deadline is set exactly when reason is expired")
        return self
