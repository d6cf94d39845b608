"""What providers report: their responses, and the activity forwarded to outcomes."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from referral_schemas.enums import (
    ActivityIndex,
    D2AOutcome,
    Programme,
    ProviderResponseType,
    Timepoint,
)
from referral_schemas.envelope import Contract


class Measures(Contract):
    """Measures at one timepoint; `version` grows when a provider corrects them."""

    timepoint: Timepoint = Field(description="Baseline or follow-up")
    version: int = Field(1, ge=1, description="Correction number")
    mvpa_minutes_per_week: int | None = Field(
        None, ge=0, le=10080, description="Moderate-to-vigorous minutes"
    )
    activity_index: ActivityIndex | None = Field(None, description="GPPAQ-style index")
    wellbeing_swemwbs: int | None = Field(None, ge=7, le=35, description="SWEMWBS score")
    falls_count: int | None = Field(None, ge=0, le=365, description="Falls since last timepoint")
    fear_of_falling_fes_i: int | None = Field(None, ge=7, le=28, description="Short FES-I")
    d2a_outcome: D2AOutcome | None = Field(None, description="Discharge to Assess outcome")
    at_home_91_days: bool | None = Field(None, description="At home 91 days after discharge")


class ProviderResponse(Contract):
    response_id: str = Field(min_length=1, max_length=128, description="Provider's idempotency key")
    assignment_id: uuid.UUID = Field(description="Assignment")
    provider_id: str = Field(max_length=64, description="Responding provider")
    response: ProviderResponseType = Field(description="What happened")
    reason_code: str | None = Field(None, max_length=64, description="For declines and drop-outs")
    reason: str | None = Field(None, max_length=2000, description="Explanation")
    session_date: dt.date | None = Field(None, description="For attended/missed sessions")
    measures: Measures | None = Field(None, description="For measures_recorded")
    recorded_at: dt.datetime = Field(description="When the provider recorded it")


class ProviderActivity(Contract):
    assignment_id: uuid.UUID = Field(description="Assignment")
    provider_id: str = Field(max_length=64, description="Provider")
    programme: Programme = Field(description="Programme")
    patient_key: str = Field(min_length=16, max_length=128, description="Pseudonymous patient key")
    activity: ProviderResponseType = Field(description="Lifecycle step")
    occurred_on: dt.date = Field(description="Date it happened")
    reason_code: str | None = Field(None, max_length=64, description="For drop-outs")
    measures: Measures | None = Field(None, description="Measures, when recorded")
