"""Referral events: submitted by referrers, answered by intake, decided by triage."""

from __future__ import annotations

import uuid
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from referral_schemas.enums import (
    CancelStatus,
    ConditionGroup,
    District,
    Programme,
    ReferralAction,
    ReferralStatus,
    RiskLevel,
    Sex,
    SourceType,
    TriageDecision,
    UniversalOffer,
)
from referral_schemas.envelope import Contract
from referral_schemas.events.common import (
    ClinicalSafety,
    Coding,
    Demographics,
    PatientContact,
    Priority,
    PriorityFlags,
    Reason,
    Residence,
    SafetyAsSubmitted,
)
from referral_schemas.primitives import (
    Date,
    ExternalId,
    OdsCode,
    PseudonymousKey,
    SourceSystem,
    Text,
    UtcDatetime,
)

# What a referrer submits is checked for shape only, with limits generous enough that no real
# referral meets them: a wrong NHS number, an out-of-area postcode or an over-long note is a
# content problem that intake answers with a rejection naming it, whereas a schema violation
# here would only reach a dead-letter queue.
_AS_GIVEN = 1000
_FREE_TEXT = 100_000


class Referrer(Contract):
    """Who made the referral, as their system recorded it."""

    ods_code: str = Field(max_length=20, description='ODS code of the referring organisation, e.g. "C82001"')
    clinician_name: str | None = Field(None, max_length=_AS_GIVEN, description="Referring clinician")
    role: str | None = Field(
        None, max_length=_AS_GIVEN, description="e.g. GP, practice nurse, social prescriber, physiotherapist"
    )
    phone: str | None = Field(None, max_length=_AS_GIVEN, description="Phone number for queries")
    email: str | None = Field(
        None, max_length=_AS_GIVEN, description="Secure e-mail (e.g. nhs.net) for queries"
    )


class SubmittedPatient(Contract):
    """The patient's identity as the referrer sent it; intake checks its content."""

    nhs_number: str = Field(max_length=20, description="NHS number as given")
    given_name: str = Field(max_length=_AS_GIVEN, description="Given name")
    family_name: str = Field(max_length=_AS_GIVEN, description="Family name")
    date_of_birth: Date = Field(description="Date of birth")
    sex: Sex = Field(description="Administrative sex")
    ethnicity: str | None = Field(None, max_length=20, description="NHS ethnic category code as given")
    postcode: str = Field(max_length=20, description="Postcode as given")
    lsoa: str | None = Field(None, max_length=20, description="LSOA code, if the referrer's system holds it")
    phone: str | None = Field(None, max_length=_AS_GIVEN, description="Phone number")
    email: str | None = Field(None, max_length=_AS_GIVEN, description="E-mail address")
    address_lines: list[Annotated[str, StringConstraints(max_length=_AS_GIVEN)]] = Field(
        default_factory=list, max_length=20, description="Postal address lines, without the postcode"
    )


class Consent(Contract):
    """The patient's consent to share their details with a provider."""

    share_with_provider: bool = Field(description="The patient agreed to their details going to a provider")
    recorded_at: UtcDatetime | None = Field(None, description="When the consent was recorded")
    recorded_by: str | None = Field(None, max_length=_AS_GIVEN, description="Who recorded it")


class ReferralSubmitted(Contract):
    """A referral (new, updated or cancelled) as a GP system, social prescriber or discharge team sends it."""

    source_system: SourceSystem = Field(
        description='Publishing system, unique across referrers, e.g. "emis-c82001"'
    )
    source_referral_id: ExternalId = Field(description="The referral's id in the publishing system")
    source_type: SourceType = Field(description="Kind of referrer")
    action: ReferralAction = Field(ReferralAction.NEW, description="new, update or cancel")
    cancel_status: CancelStatus | None = Field(
        None, description="For a cancel: the BaRS status behind it (revoked or entered-in-error)"
    )
    cancel_reason: str | None = Field(None, max_length=_FREE_TEXT, description="For a cancel: why")
    referrer: Referrer = Field(description="Who refers")
    patient: SubmittedPatient = Field(description="Who is referred")
    consent: Consent = Field(description="Consent to share with a provider")
    reasons: list[Coding] = Field(
        default_factory=list, max_length=100, description="Coded reasons (SNOMED CT)"
    )
    reason_text: str | None = Field(None, max_length=_FREE_TEXT, description="Reason in the referrer's words")
    requested_programme: Programme | None = Field(None, description="Programme the referrer asks for")
    safety: SafetyAsSubmitted = Field(default_factory=SafetyAsSubmitted, description="Clinical safety facts")
    priority_flags: PriorityFlags = Field(default_factory=PriorityFlags, description="PLUS groups")
    notes: str | None = Field(
        None, max_length=_FREE_TEXT, description="Free text for intake; never interpreted"
    )


class ReferralAccepted(Contract):
    """A referral intake has checked and stored, for triage.

    The only downstream event with the patient's identity (`contact`), which triage passes on to
    the provider it assigns; everything else about the patient is pseudonymous.
    """

    source_system: SourceSystem = Field(description="Publishing system")
    source_referral_id: ExternalId = Field(description="The referral's id in the publishing system")
    source_type: SourceType = Field(description="Kind of referrer")
    revision: int = Field(
        ge=1, le=1000, description="1 when first accepted; one more for each accepted update"
    )
    referrer_ods_code: OdsCode = Field(description="ODS code of the referring organisation")
    referred_at: UtcDatetime = Field(description="When the referrer submitted the referral")
    patient_key: PseudonymousKey = Field(
        description="Pseudonymous patient key (keyed hash of the NHS number)"
    )
    demographics: Demographics = Field(description="Age, sex and ethnicity")
    residence: Residence = Field(description="Postcode, LSOA and district")
    reasons: list[Coding] = Field(
        default_factory=list, max_length=20, description="Coded reasons (SNOMED CT)"
    )
    reason_text: Text | None = Field(None, description="Reason in the referrer's words")
    requested_programme: Programme | None = Field(None, description="Programme the referrer asked for")
    safety: ClinicalSafety = Field(default_factory=ClinicalSafety, description="Clinical safety facts")
    priority_flags: PriorityFlags = Field(default_factory=PriorityFlags, description="PLUS groups")
    likely_duplicate_of: uuid.UUID | None = Field(
        None, description="An active referral for the same patient and reason this one may repeat"
    )
    contact: PatientContact = Field(
        description="Identity and contact details, shared because the patient consented to it"
    )


class ReferralRejected(Contract):
    """A submission intake refused, with every problem it found."""

    source_system: SourceSystem = Field(description="Publishing system")
    source_referral_id: ExternalId = Field(description="The referral's id in the publishing system")
    reasons: list[Reason] = Field(min_length=1, max_length=100, description="Every problem found")
    summary: Text = Field(description="One sentence for the referrer")


class ReferralStatusChanged(Contract):
    """A change in a referral's life, told to its referrer."""

    source_system: SourceSystem = Field(description="Publishing system")
    source_referral_id: ExternalId = Field(description="The referral's id in the publishing system")
    status: ReferralStatus = Field(description="The referral's new status")
    detail: Text | None = Field(None, description="What happened, for people")
    reasons: list[Reason] = Field(
        default_factory=list, max_length=100, description="Reasons, when rejected, returned or closed"
    )


class ReferralTriaged(Contract):
    """Triage's decision: programme, risk and priority, or why the referral goes no further."""

    decision: TriageDecision = Field(description="Assign to a provider, signpost, or return to the referrer")
    programme: Programme | None = Field(None, description="Chosen programme (when assigning)")
    risk: RiskLevel | None = Field(None, description="Risk level (when assigning)")
    signpost_to: list[UniversalOffer] = Field(
        default_factory=list,
        max_length=len(UniversalOffer),
        description="Universal offers (when signposting)",
    )
    priority: Priority = Field(description="Priority and how it was derived")
    reasons: list[Reason] = Field(default_factory=list, max_length=50, description="Why this decision")
    rule_version: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]+$",
        description='Version of the rules, e.g. "2026.03.1"',
    )
    patient_key: PseudonymousKey = Field(description="Pseudonymous patient key")
    referred_at: UtcDatetime = Field(
        description="When the referrer submitted the referral (KPIs count from it)"
    )
    condition_group: ConditionGroup = Field(
        description="Main condition behind the referral, from its coded reasons"
    )
    demographics: Demographics = Field(description="Age, sex and ethnicity, for outcome reporting")
    district: District = Field(description="The patient's district")

    @model_validator(mode="after")
    def _decision_has_what_it_needs(self) -> Self:
        if self.decision is TriageDecision.ASSIGN and (self.programme is None or self.risk is None):
            raise ValueError("an assign decision names its programme and risk")
        if self.decision is TriageDecision.SIGNPOST and not self.signpost_to:
            raise ValueError("a signpost decision names at least one offer in signpost_to")
        if self.decision is TriageDecision.RETURN_TO_REFERRER and not self.reasons:
            raise ValueError("a return to the referrer gives its reasons")
        return self
