"""Referral events: submitted by referrers, answered by intake, triaged by triage."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from referral_schemas.enums import (
    Programme,
    ReferralAction,
    ReferralStatus,
    RiskLevel,
    Sex,
    SourceType,
    TriageDecision,
)
from referral_schemas.envelope import Contract
from referral_schemas.events.common import (
    Address,
    Coding,
    Demographics,
    PatientContact,
    Priority,
    PriorityFlags,
    Reason,
    SafetyFields,
)


class Referrer(Contract):
    ods_code: str = Field(max_length=20, description="ODS code of the referring organisation")
    clinician_name: str | None = Field(None, max_length=200, description="Referring clinician")
    role: str | None = Field(None, max_length=100, description="e.g. GP, practice nurse, physiotherapist")
    contact: str | None = Field(None, max_length=320, description="Phone or secure e-mail for replies")


class SubmittedPatient(Contract):
    """Identity as the referrer sent it. Content rules are intake's: it rejects with reasons."""

    nhs_number: str = Field(max_length=20, description="NHS number as given")
    given_name: str = Field(max_length=200, description="Given name")
    family_name: str = Field(max_length=200, description="Family name")
    date_of_birth: dt.date = Field(description="Date of birth")
    sex: Sex = Field(description="Sex")
    ethnicity: str | None = Field(None, max_length=2, description="NHS ethnic category code")
    address: Address = Field(description="Postal address with postcode")
    lsoa: str | None = Field(None, max_length=12, description="LSOA 2011/2021 code if the GP system holds it")
    phone: str | None = Field(None, max_length=40, description="Phone")
    email: str | None = Field(None, max_length=320, description="E-mail")


class Consent(Contract):
    share_with_provider: bool = Field(description="Patient agreed to share details with a provider")
    recorded_at: dt.datetime | None = Field(None, description="When consent was recorded")
    recorded_by: str | None = Field(None, max_length=200, description="Who recorded it")


class ReferralSubmitted(Contract):
    source_system: str = Field(min_length=1, max_length=64, description="Publishing system")
    source_referral_id: str = Field(min_length=1, max_length=128, description="Referral id in that system")
    source_type: SourceType = Field(description="Kind of referrer")
    action: ReferralAction = Field(ReferralAction.NEW, description="new, update or cancel")
    cancel_reason: str | None = Field(
        None, max_length=64, description="BaRS status behind a cancel: revoked or entered-in-error"
    )
    referrer: Referrer = Field(description="Who refers")
    patient: SubmittedPatient = Field(description="Who is referred")
    consent: Consent = Field(description="Consent to share with a provider")
    reasons: list[Coding] = Field(default_factory=list, max_length=20, description="Coded reasons")
    reason_text: str | None = Field(None, max_length=100_000, description="Stated reason")
    requested_programme: Programme | None = Field(None, description="Programme the referrer asks for")
    safety: SafetyFields = Field(default_factory=SafetyFields, description="Clinical safety facts")
    priority_flags: PriorityFlags = Field(default_factory=PriorityFlags, description="PLUS groups")
    notes: str | None = Field(None, max_length=100_000, description="Free text; stored, never interpreted")


class ReferralAccepted(Contract):
    source_system: str = Field(max_length=64, description="Publishing system")
    source_referral_id: str = Field(max_length=128, description="Referral id in that system")
    source_type: SourceType = Field(description="Kind of referrer")
    referrer_ods_code: str = Field(max_length=20, description="Referring organisation")
    referred_on: dt.date = Field(description="Date the referral was accepted")
    demographics: Demographics = Field(description="Pseudonymised patient description")
    reasons: list[Coding] = Field(default_factory=list, description="Coded reasons")
    reason_text: str | None = Field(None, max_length=2000, description="Stated reason")
    requested_programme: Programme | None = Field(None, description="Programme asked for")
    safety: SafetyFields = Field(default_factory=SafetyFields, description="Clinical safety facts")
    priority_flags: PriorityFlags = Field(default_factory=PriorityFlags, description="PLUS groups")
    likely_duplicate_of: uuid.UUID | None = Field(None, description="Active referral it may repeat")
    contact: PatientContact = Field(description="Identity for the assigned provider only")


class ReferralRejected(Contract):
    source_system: str = Field(max_length=64, description="Publishing system")
    source_referral_id: str = Field(max_length=128, description="Referral id in that system")
    reasons: list[Reason] = Field(min_length=1, description="Every problem found")
    summary: str = Field(max_length=2000, description="One sentence for the referrer")


class ReferralStatusChanged(Contract):
    source_system: str = Field(max_length=64, description="Referrer's system")
    source_referral_id: str = Field(max_length=128, description="Referrer's id")
    status: ReferralStatus = Field(description="New status")
    detail: str | None = Field(None, max_length=2000, description="What happened, for people")
    reasons: list[Reason] = Field(default_factory=list, description="Reasons, when refused or returned")


class ReferralTriaged(Contract):
    decision: TriageDecision = Field(description="Assign, signpost or return to the referrer")
    programme: Programme | None = Field(None, description="Chosen programme (assign)")
    signpost_to: list[str] = Field(default_factory=list, description="Universal offers (signpost)")
    risk: RiskLevel | None = Field(None, description="Risk level")
    priority: Priority = Field(description="Priority and how it was derived")
    reasons: list[Reason] = Field(default_factory=list, description="Why this decision")
    rule_version: str = Field(min_length=1, max_length=64, description="Version of the rules used")
    patient_key: str = Field(min_length=16, max_length=128, description="Pseudonymous patient key")
