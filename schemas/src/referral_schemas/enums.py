"""Closed vocabularies shared by every event.

Widening one (a new member) is a compatible change for readers of new data, but a consumer built
with the old list refuses the new value: deploy consumers before the producer that emits it.
"""

from __future__ import annotations

from enum import StrEnum


class SourceType(StrEnum):
    """Kind of organisation that made the referral."""

    GP = "gp"
    SOCIAL_PRESCRIBER = "social_prescriber"
    HOSPITAL_DISCHARGE = "hospital_discharge"


class ReferralAction(StrEnum):
    """What a submission does to the referral it names (BaRS: new request, update, cancellation)."""

    NEW = "new"
    UPDATE = "update"
    CANCEL = "cancel"


class CancelStatus(StrEnum):
    """BaRS ServiceRequest status behind a cancellation."""

    REVOKED = "revoked"
    ENTERED_IN_ERROR = "entered-in-error"


class Programme(StrEnum):
    """The LLR physical-activity programmes a referral can be assigned to."""

    EXERCISE_REFERRAL = "exercise_referral"
    CARDIOPULMONARY_REHAB = "cardiopulmonary_rehab"
    ESCAPE_PAIN = "escape_pain"
    STEADY_STEPS = "steady_steps"
    FIT4SURGERY = "fit4surgery"
    PRE_POST_NATAL = "pre_post_natal"
    DISCHARGE_TO_ASSESS = "discharge_to_assess"


class UniversalOffer(StrEnum):
    """Offers a patient is signposted to rather than assigned."""

    WE_ARE_UNDEFEATABLE = "we_are_undefeatable"
    GET_ACTIVE = "get_active"


class Sex(StrEnum):
    """Administrative sex, as FHIR's administrative-gender."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class District(StrEnum):
    """Local authority districts of Leicester, Leicestershire and Rutland."""

    LEICESTER = "leicester"
    RUTLAND = "rutland"
    BLABY = "blaby"
    CHARNWOOD = "charnwood"
    HARBOROUGH = "harborough"
    HINCKLEY_AND_BOSWORTH = "hinckley_and_bosworth"
    MELTON = "melton"
    NORTH_WEST_LEICESTERSHIRE = "north_west_leicestershire"
    OADBY_AND_WIGSTON = "oadby_and_wigston"


class ReferralStatus(StrEnum):
    """A referral's state as its referrer is told it."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TRIAGED = "triaged"
    ASSIGNED = "assigned"
    ACCEPTED_BY_PROVIDER = "accepted_by_provider"
    STARTED = "started"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    RETURNED_TO_REFERRER = "returned_to_referrer"
    SIGNPOSTED = "signposted"


class TriageDecision(StrEnum):
    ASSIGN = "assign"
    SIGNPOST = "signpost"
    RETURN_TO_REFERRER = "return_to_referrer"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class DeprivationSource(StrEnum):
    """Where a deprivation figure came from: the referral's LSOA, or the postcode's MSOA."""

    LSOA = "lsoa"
    POSTCODE_MSOA = "postcode_msoa"
    UNKNOWN = "unknown"


class ClinicalArea(StrEnum):
    """Core20PLUS5 clinical areas relevant to activity referral."""

    HYPERTENSION = "hypertension"
    COPD = "copd"
    CANCER = "cancer"
    SMI = "smi"
    MATERNITY = "maternity"


class PlusGroup(StrEnum):
    """PLUS population groups that LLR prioritises."""

    ETHNIC_MINORITY = "ethnic_minority"
    LEARNING_DISABILITY_AUTISM = "learning_disability_autism"
    SEVERE_MENTAL_ILLNESS = "severe_mental_illness"
    CARER = "carer"


class DeliveryChannel(StrEnum):
    KAFKA = "kafka"
    WEBHOOK = "webhook"


class WithdrawalReason(StrEnum):
    """Why an assignment was taken back from its provider without the provider's own answer."""

    REFERRAL_CANCELLED = "referral_cancelled"
    """The referrer cancelled the referral."""
    EXPIRED = "expired"
    """The provider did not accept or decline by the contact deadline; triage places the referral
    elsewhere or returns it to the referrer."""


class ProviderResponseType(StrEnum):
    """The provider-side lifecycle of an assignment, as providers record it."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    CONTACTED = "contacted"
    UNABLE_TO_CONTACT = "unable_to_contact"
    ASSESSED = "assessed"
    ENROLLED = "enrolled"
    SESSION_ATTENDED = "session_attended"
    SESSION_MISSED = "session_missed"
    MEASURES_RECORDED = "measures_recorded"
    COMPLETED = "completed"
    DROPPED_OUT = "dropped_out"
    CLOSED = "closed"


class Timepoint(StrEnum):
    BASELINE = "baseline"
    WEEK_12 = "week_12"
    MONTH_6 = "month_6"
    MONTH_12 = "month_12"


class ActivityIndex(StrEnum):
    """GPPAQ physical activity index."""

    INACTIVE = "inactive"
    MODERATELY_INACTIVE = "moderately_inactive"
    MODERATELY_ACTIVE = "moderately_active"
    ACTIVE = "active"


class D2AOutcome(StrEnum):
    """Discharge to Assess reablement outcome."""

    INDEPENDENT = "independent"
    REDUCED_CARE = "reduced_care"
    ONGOING_CARE = "ongoing_care"


class AgeBand(StrEnum):
    AGE_16_17 = "16-17"
    AGE_18_34 = "18-34"
    AGE_35_49 = "35-49"
    AGE_50_64 = "50-64"
    AGE_65_74 = "65-74"
    AGE_75_PLUS = "75+"


class EthnicGroup(StrEnum):
    """Broad ethnic group (the NHS ethnic category letters, grouped as the census does)."""

    WHITE = "white"
    MIXED = "mixed"
    ASIAN = "asian"
    BLACK = "black"
    OTHER = "other"
    NOT_STATED = "not_stated"


class ConditionGroup(StrEnum):
    """Main condition behind a referral, for commissioners' breakdowns."""

    CARDIOVASCULAR = "cardiovascular"
    RESPIRATORY = "respiratory"
    METABOLIC = "metabolic"
    MUSCULOSKELETAL = "musculoskeletal"
    FALLS_FRAILTY = "falls_frailty"
    CANCER = "cancer"
    MENTAL_HEALTH = "mental_health"
    MATERNITY = "maternity"
    POST_DISCHARGE = "post_discharge"
    OTHER = "other"


class KpiName(StrEnum):
    UPTAKE = "uptake"
    TIME_TO_FIRST_CONTACT_DAYS = "time_to_first_contact_days"
    ADHERENCE = "adherence"
    ADHERENCE_75 = "adherence_75"
    COMPLETION = "completion"
    INACTIVE_TO_ACTIVE_12W = "inactive_to_active_12w"
    ACTIVITY_MINUTES_CHANGE = "activity_minutes_change"
    WELLBEING_CHANGE = "wellbeing_change"
    D2A_INDEPENDENT = "d2a_independent"
    D2A_AT_HOME_91 = "d2a_at_home_91"


class KpiDimension(StrEnum):
    """What a KPI cell is broken down by."""

    ALL = "all"
    PROGRAMME = "programme"
    PROVIDER = "provider"
    DISTRICT = "district"
    IMD_QUINTILE = "imd_quintile"
    CORE20 = "core20"
    ETHNICITY = "ethnicity"
    AGE_BAND = "age_band"
    SEX = "sex"
    PRIORITY_GROUP = "priority_group"


class Suppression(StrEnum):
    """NHS small-number rule: primary hides a count below 5, secondary one it could be derived from."""

    NONE = "none"
    PRIMARY = "primary"
    SECONDARY = "secondary"
