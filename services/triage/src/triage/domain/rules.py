"""The triage rules as a validated model (see rules/triage-rules.yaml for the content)."""

from __future__ import annotations

import importlib.resources
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from referral_schemas.enums import ClinicalArea, ConditionGroup, Programme, UniversalOffer
from triage.datafiles import load_yaml_model

PACKAGED = "triage-rules.yaml"
SnomedId = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{5,17}$")]


class Fact(StrEnum):
    """Facts about a referral other than its codes that programme rules can rely on."""

    HOSPITAL_DISCHARGE = "hospital_discharge"
    SURGERY_DATE = "surgery_date"
    PREGNANT_OR_POSTNATAL = "pregnant_or_postnatal"
    RECENT_CARDIAC_EVENT = "recent_cardiac_event"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Code(_Strict):
    code: SnomedId
    display: str = Field(min_length=1, max_length=200)


class ProgrammeRule(_Strict):
    programme: Programme
    condition_group: ConditionGroup
    codes: list[Code] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    min_age: int = Field(0, ge=0, le=130)
    max_age: int | None = Field(None, ge=0, le=130)

    @model_validator(mode="after")
    def _triggers_and_ages(self) -> Self:
        if not self.codes and not self.facts:
            raise ValueError("a programme rule needs codes or facts to match on")
        if self.max_age is not None and self.max_age < self.min_age:
            raise ValueError("max_age is below min_age")
        return self

    def admits_age(self, age: int) -> bool:
        return age >= self.min_age and (self.max_age is None or age <= self.max_age)


class Deadlines(_Strict):
    standard: int = Field(ge=1, le=60)
    prioritised: int = Field(ge=1, le=60)

    @model_validator(mode="after")
    def _priority_is_sooner(self) -> Self:
        if self.prioritised > self.standard:
            raise ValueError("the prioritised deadline cannot be later than the standard one")
        return self


class Contraindications(_Strict):
    systolic_at_least: int = Field(gt=0, le=300)
    diastolic_at_least: int = Field(gt=0, le=200)
    recent_cardiac_event_days: int = Field(gt=0, le=365)
    cardiac_rehab_from_days: int = Field(ge=0, le=365)


class RiskBand(_Strict):
    programmes: list[Programme] = Field(default_factory=list)
    age_at_least: int | None = Field(None, ge=0, le=130)
    systolic_at_least: int | None = Field(None, gt=0, le=300)
    diastolic_at_least: int | None = Field(None, gt=0, le=200)
    coded_conditions_at_least: int | None = Field(None, ge=1, le=20)


class Risk(_Strict):
    high: RiskBand
    medium: RiskBand


class AreaTrigger(_Strict):
    codes: list[SnomedId] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)


class PriorityRules(_Strict):
    core20_max_decile: int = Field(ge=1, le=10)
    ethnic_minority_categories: list[Annotated[str, StringConstraints(pattern=r"^([A-HJ-NPRSZ]|99)$")]]
    clinical_areas: dict[ClinicalArea, AreaTrigger]


class Rules(_Strict):
    version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    contact_deadline_working_days: Deadlines
    contraindications: Contraindications
    programmes: list[ProgrammeRule] = Field(min_length=1)
    signpost_to: list[UniversalOffer] = Field(min_length=1)
    risk: Risk
    priority: PriorityRules

    @model_validator(mode="after")
    def _codes_lead_to_one_programme(self) -> Self:
        owner: dict[str, Programme] = {}
        for i, rule in enumerate(self.programmes):
            for code in rule.codes:
                seen = owner.setdefault(code.code, rule.programme)
                if seen is not rule.programme:
                    raise ValueError(
                        f"programmes[{i}]: code {code.code} already leads to {seen.value}, "
                        f"so it cannot also lead to {rule.programme.value}"
                    )
        return self

    def contact_deadline_days(self, prioritised: bool) -> int:
        d = self.contact_deadline_working_days
        return d.prioritised if prioritised else d.standard


def load_rules(path: Path) -> Rules:
    return load_yaml_model(path, Rules)


def default_rules() -> Rules:
    with importlib.resources.as_file(importlib.resources.files("triage.rules") / PACKAGED) as p:
        return load_rules(p)
