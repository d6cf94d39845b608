"""De-identified outcome events for commissioners: no identifiers, counts below 5 suppressed."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from referral_schemas.enums import (
    AgeBand,
    ConditionGroup,
    DeprivationSource,
    District,
    EthnicGroup,
    KpiDimension,
    KpiName,
    PlusGroup,
    Programme,
    ProviderResponseType,
    Sex,
    Suppression,
)
from referral_schemas.envelope import Contract
from referral_schemas.events.provider import Measures
from referral_schemas.primitives import Month, PseudonymousKey, Slug


class OutcomeRecorded(Contract):
    """One milestone of one episode, described only in bands and groups."""

    episode_id: PseudonymousKey = Field(description="Pseudonymous episode key, unrelated to any other id")
    milestone: ProviderResponseType = Field(description="Milestone reached")
    period: Month = Field(description="Month the milestone was reached, YYYY-MM")
    programme: Programme = Field(description="Programme")
    provider_id: Slug = Field(description="Provider delivering it")
    district: District | None = Field(None, description="Patient's district")
    imd_quintile: int | None = Field(
        None, ge=1, le=5, description="IMD quintile of the patient's area (1 most deprived)"
    )
    deprivation_source: DeprivationSource = Field(description="Where the quintile came from")
    core20: bool = Field(description="Lives in the most deprived 20% nationally (quintile 1)")
    plus_groups: list[PlusGroup] = Field(
        default_factory=list, max_length=len(PlusGroup), description="PLUS population groups"
    )
    prioritised: bool = Field(description="Was a priority patient")
    age_band: AgeBand = Field(description="Age band at referral")
    sex: Sex = Field(description="Administrative sex")
    ethnic_group: EthnicGroup = Field(description="Broad ethnic group")
    condition_group: ConditionGroup = Field(description="Main condition behind the referral")
    measures: Measures | None = Field(None, description="Measures at this milestone")

    @model_validator(mode="after")
    def _core20_follows_the_quintile(self) -> Self:
        if (self.imd_quintile is None) != (self.deprivation_source is DeprivationSource.UNKNOWN):
            raise ValueError("imd_quintile is null exactly when deprivation_source is unknown")
        if self.core20 != (self.imd_quintile == 1):
            raise ValueError("core20 is true exactly when imd_quintile is 1")
        return self


class OutcomeKpi(Contract):
    """One cell of a KPI: a month, a breakdown and its value, or nothing when suppressed."""

    kpi: KpiName = Field(description="Which KPI")
    period: Month = Field(description="Month, YYYY-MM")
    dimension: KpiDimension = Field(description="What the cell is broken down by")
    dimension_value: str = Field(
        min_length=1, max_length=80, description='Value of the breakdown, e.g. "melton"; "all" for all'
    )
    numerator: int | None = Field(
        None, ge=0, description="Count meeting the KPI; null when suppressed or a mean"
    )
    denominator: int | None = Field(None, ge=0, description="Count the KPI is over; null when suppressed")
    value: float | None = Field(
        None, allow_inf_nan=False, description="Rate (0-1), days or change in score; null when suppressed"
    )
    suppressed: bool = Field(description="True when the cell's numbers are withheld")
    suppression: Suppression = Field(description="none, primary (a count below 5) or secondary (derivable)")

    @model_validator(mode="after")
    def _suppressed_cells_hold_no_numbers(self) -> Self:
        if self.suppressed != (self.suppression is not Suppression.NONE):
            raise ValueError("suppressed is true exactly when suppression is primary or secondary")
        if self.suppressed and (self.numerator, self.denominator, self.value) != (None, None, None):
            raise ValueError("a suppressed cell carries no numerator, denominator or value")
        if not self.suppressed and (self.denominator is None or self.value is None):
            raise ValueError("an unsuppressed cell carries its denominator and value")
        if self.numerator is not None and self.denominator is not None and self.numerator > self.denominator:
            raise ValueError("numerator exceeds denominator")
        if (self.dimension is KpiDimension.ALL) != (self.dimension_value == "all"):
            raise ValueError('dimension_value is "all" exactly when dimension is all')
        return self
