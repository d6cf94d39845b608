"""De-identified outcome events for commissioners."""

from __future__ import annotations

from pydantic import Field, model_validator

from referral_schemas.enums import (
    DeprivationSource,
    KpiDimension,
    KpiName,
    Programme,
    ProviderResponseType,
    Sex,
    Suppression,
)
from referral_schemas.envelope import Contract
from referral_schemas.events.provider import Measures


class OutcomeRecorded(Contract):
    episode_id: str = Field(min_length=16, max_length=128, description="Pseudonymous episode key")
    milestone: ProviderResponseType = Field(description="Milestone reached")
    programme: Programme = Field(description="Programme")
    provider_id: str = Field(max_length=64, description="Provider")
    district: str | None = Field(None, max_length=80, description="District")
    imd_quintile: int | None = Field(None, ge=1, le=5, description="IMD quintile (1 most deprived)")
    deprivation_source: DeprivationSource = Field(description="Where the quintile came from")
    age_band: str = Field(pattern=r"^(0-17|18-34|35-49|50-64|65-74|75\+)$", description="Age band")
    sex: Sex = Field(description="Sex")
    ethnicity_group: str | None = Field(None, max_length=40, description="Broad ethnic group")
    condition_group: str | None = Field(None, max_length=60, description="Condition group")
    prioritised: bool = Field(description="Priority patient")
    measures: Measures | None = Field(None, description="Measures at this milestone")


class OutcomeKpi(Contract):
    kpi: KpiName = Field(description="KPI")
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="Month, YYYY-MM")
    dimension: KpiDimension = Field(description="Breakdown")
    dimension_value: str = Field(max_length=80, description='Value of the breakdown ("all" for all)')
    numerator: int | None = Field(None, ge=0, description="Null when suppressed")
    denominator: int | None = Field(None, ge=0, description="Null when suppressed")
    value: float | None = Field(None, description="Null when suppressed")
    suppression: Suppression = Field(description="none, primary (<5) or secondary (derivable)")

    @model_validator(mode="after")
    def _suppressed_cells_hold_no_numbers(self) -> OutcomeKpi:
        hidden = self.suppression is not Suppression.NONE
        numbers = (self.numerator, self.denominator, self.value)
        if hidden and any(n is not None for n in numbers):
            raise ValueError("a suppressed cell must carry no numerator, denominator or value")
        if not hidden and self.denominator is None:
            raise ValueError("an unsuppressed cell needs its denominator")
        return self
