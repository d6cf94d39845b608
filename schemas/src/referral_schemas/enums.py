"""Closed vocabularies shared by every event."""

from __future__ import annotations

from enum import StrEnum


class SourceType(StrEnum):
    GP = "gp"
    SOCIAL_PRESCRIBER = "social_prescriber"
    HOSPITAL_DISCHARGE = "hospital_discharge"


class Programme(StrEnum):
    EXERCISE_REFERRAL = "exercise_referral"
    CARDIOPULMONARY_REHAB = "cardiopulmonary_rehab"
    ESCAPE_PAIN = "escape_pain"
    STEADY_STEPS = "steady_steps"
    FIT4SURGERY = "fit4surgery"
    PRE_POST_NATAL = "pre_post_natal"
    DISCHARGE_TO_ASSESS = "discharge_to_assess"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class ReferralAction(StrEnum):
    NEW = "new"
    UPDATE = "update"
    CANCEL = "cancel"


class ReferralStatus(StrEnum):
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
    ETHNIC_MINORITY = "ethnic_minority"
    LEARNING_DISABILITY_AUTISM = "learning_disability_autism"
    SEVERE_MENTAL_ILLNESS = "severe_mental_illness"
    CARER = "carer"


class DeliveryChannel(StrEnum):
    KAFKA = "kafka"
    WEBHOOK = "webhook"


class ProviderResponseType(StrEnum):
    """The provider-side lifecycle, as exercise-referral providers record it."""

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
    """GPPAQ-style physical activity index."""

    INACTIVE = "inactive"
    MODERATELY_INACTIVE = "moderately_inactive"
    MODERATELY_ACTIVE = "moderately_active"
    ACTIVE = "active"


class D2AOutcome(StrEnum):
    INDEPENDENT = "independent"
    REDUCED_CARE = "reduced_care"
    ONGOING_CARE = "ongoing_care"


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
    NONE = "none"
    PRIMARY = "primary"
    SECONDARY = "secondary"
