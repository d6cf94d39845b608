"""What providers report: their responses, and the activity provider-notify forwards to outcomes."""

from __future__ import annotations

import uuid
from typing import Self

from pydantic import Field, model_validator

from referral_schemas.enums import ActivityIndex, D2AOutcome, Programme, ProviderResponseType, Timepoint
from referral_schemas.envelope import Contract
from referral_schemas.primitives import Date, ExternalId, PseudonymousKey, ReasonCode, Slug, Text, UtcDatetime


class Measures(Contract):
    """Outcome measures at one timepoint. A correction is sent again with a higher version."""

    timepoint: Timepoint = Field(description="Baseline or follow-up point")
    version: int = Field(1, ge=1, le=100, description="1 when first recorded; the highest version wins")
    mvpa_minutes_per_week: int | None = Field(
        None, ge=0, le=10080, description="Moderate-to-vigorous physical activity, minutes per week"
    )
    activity_index: ActivityIndex | None = Field(None, description="GPPAQ physical activity index")
    wellbeing_swemwbs: int | None = Field(
        None, ge=7, le=35, description="Short Warwick-Edinburgh Mental Wellbeing Scale, raw score"
    )
    falls_count: int | None = Field(None, ge=0, le=365, description="Falls since the previous timepoint")
    fear_of_falling_fes_i: int | None = Field(
        None, ge=7, le=28, description="Short Falls Efficacy Scale-International score"
    )
    d2a_outcome: D2AOutcome | None = Field(None, description="Discharge to Assess reablement outcome")
    at_home_91_days: bool | None = Field(
        None, description="Discharge to Assess: still at home 91 days after discharge"
    )


class ProviderResponse(Contract):
    """One step a provider records against an assignment, from its own system or over HTTP."""

    response_id: ExternalId = Field(description="The provider's id for this response; a repeat is ignored")
    assignment_id: uuid.UUID = Field(description="Assignment responded to")
    provider_id: Slug = Field(description="Responding provider")
    response: ProviderResponseType = Field(description="What happened")
    reason_code: ReasonCode | None = Field(
        None, description='For declines, drop-outs and failed contact, e.g. "no_capacity"'
    )
    reason: Text | None = Field(None, description="Explanation")
    session_date: Date | None = Field(None, description="Date of the session attended or missed")
    sessions_offered: int | None = Field(
        None, ge=1, le=200, description="Sessions in the programme offered (on enrolment or completion)"
    )
    measures: Measures | None = Field(None, description="Measures (with measures_recorded)")
    recorded_at: UtcDatetime = Field(description="When the provider recorded it")

    @model_validator(mode="after")
    def _measures_come_with_measures_recorded(self) -> Self:
        if self.response is ProviderResponseType.MEASURES_RECORDED and self.measures is None:
            raise ValueError("a measures_recorded response carries its measures")
        return self


class ProviderActivity(Contract):
    """A provider's step, pseudonymised and tied to its programme, for outcomes."""

    assignment_id: uuid.UUID = Field(description="Assignment it concerns")
    provider_id: Slug = Field(description="Provider")
    programme: Programme = Field(description="Programme being delivered")
    patient_key: PseudonymousKey = Field(description="Pseudonymous patient key")
    activity: ProviderResponseType = Field(description="Lifecycle step")
    occurred_on: Date = Field(description="Date it happened (the session date for sessions)")
    sessions_offered: int | None = Field(
        None, ge=1, le=200, description="Sessions in the programme offered (on enrolment or completion)"
    )
    reason_code: ReasonCode | None = Field(None, description="For drop-outs and failed contact")
    measures: Measures | None = Field(None, description="Measures, when recorded")
