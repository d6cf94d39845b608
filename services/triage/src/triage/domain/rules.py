"""The triage rules as validated data, and the one place that reads them from a file.

The content lives in `rules/triage-rules.yaml`; these models say what shape it must have and
which cross-checks it must pass, so that a mistaken edit is refused at load with the file, the
path inside it (`programmes[3].reasons[0].code`) and the problem, instead of deciding referrals
wrongly later.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from referral_schemas.enums import ClinicalArea, ConditionGroup, PlusGroup, Programme, UniversalOffer
from triage.datafiles import DataFileError, load_yaml_model, model_from_document

T = TypeVar("T")

PACKAGED = "triage-rules.yaml"

# SNOMED CT concept ids are 6 to 18 digits with no leading zero; written as YAML strings so that
# a long id is never read as a number.
SnomedId = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{5,17}$")]
EthnicCategoryCode = Annotated[str, StringConstraints(pattern=r"^([A-HJ-NPRSZ]|99)$")]
Age = Annotated[int, Field(ge=0, le=130)]
Systolic = Annotated[int, Field(gt=0, le=300)]
Diastolic = Annotated[int, Field(gt=0, le=200)]


class RulesError(DataFileError):
    """A rules file refused at load: names the file, the path inside it and the problem."""


class Fact(StrEnum):
    """What a referral says about the patient, other than its codes, that rules may rely on."""

    HOSPITAL_DISCHARGE = "hospital_discharge"
    SURGERY_PLANNED = "surgery_planned"
    PREGNANT_OR_POSTNATAL = "pregnant_or_postnatal"
    RECENT_CARDIAC_EVENT = "recent_cardiac_event"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Code(_Data):
    code: SnomedId
    display: str = Field(min_length=1, max_length=200)


class ProgrammeRule(_Data):
    """One way into a programme: any of its reasons or facts, at an age it admits."""

    programme: Programme
    precedence: int = Field(ge=1, le=100)
    condition_group: ConditionGroup
    reasons: list[Code] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    min_age: Age = 0
    max_age: Age = 130
    on_request: bool = False

    @model_validator(mode="after")
    def _sane(self) -> Self:
        if not self.reasons and not self.facts and not self.on_request:
            raise ValueError("a programme rule needs reasons, facts or on_request to match on")
        if self.max_age < self.min_age:
            raise ValueError(f"max_age {self.max_age} is below min_age {self.min_age}")
        return self

    def admits_age(self, age: int) -> bool:
        return self.min_age <= age <= self.max_age

    @cached_property  # asked for on every decision; a rule never changes once loaded
    def codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.reasons)


class Deadlines(_Data):
    standard: int = Field(gt=0, le=60)
    prioritised: int = Field(gt=0, le=60)

    @model_validator(mode="after")
    def _priority_is_sooner(self) -> Self:
        if self.prioritised > self.standard:
            raise ValueError("the prioritised deadline cannot be later than the standard one")
        return self


class BloodPressureLimit(_Data):
    systolic_at_least: Systolic
    diastolic_at_least: Diastolic


class RecentCardiacEvent(_Data):
    excluded_days: int = Field(gt=0, le=365)
    exempt_programmes: list[Programme] = Field(default_factory=list)
    exempt_from_day: int = Field(ge=0, le=365)

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.exempt_from_day > self.excluded_days:
            raise ValueError("exempt_from_day is after the excluded window ends")
        return self


class Contraindications(_Data):
    blood_pressure: BloodPressureLimit
    recent_cardiac_event: RecentCardiacEvent


class RiskBand(_Data):
    """Any one of these puts the referral in the band."""

    programmes: list[Programme] = Field(default_factory=list)
    age_at_least: Age | None = None
    systolic_at_least: Systolic | None = None
    diastolic_at_least: Diastolic | None = None
    conditions_at_least: int | None = Field(None, gt=0, le=20)


class Risk(_Data):
    high: RiskBand
    medium: RiskBand


class AreaTrigger(_Data):
    codes: list[SnomedId] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    plus_groups: list[PlusGroup] = Field(default_factory=list)


_AreasBy = dict[T, set[ClinicalArea]]


class PriorityRules(_Data):
    prioritised_max_decile: int = Field(ge=2, le=10)
    ethnic_minority_categories: list[EthnicCategoryCode]
    clinical_areas: dict[ClinicalArea, AreaTrigger]

    def areas_triggered(
        self, codes: frozenset[str], facts: frozenset[Fact], groups: Iterable[PlusGroup]
    ) -> set[ClinicalArea]:
        """The clinical areas any of `codes`, `facts` or `groups` trigger (looked up, as for
        programmes, rather than trying every area's lists)."""
        by_code, by_fact, by_group = self._triggers
        areas: set[ClinicalArea] = set()
        for code in codes:
            areas.update(by_code.get(code, ()))
        for fact in facts:
            areas.update(by_fact.get(fact, ()))
        for group in groups:
            areas.update(by_group.get(group, ()))
        return areas

    @cached_property
    def _triggers(self) -> tuple[_AreasBy[str], _AreasBy[Fact], _AreasBy[PlusGroup]]:
        by_code: _AreasBy[str] = {}
        by_fact: _AreasBy[Fact] = {}
        by_group: _AreasBy[PlusGroup] = {}
        for area, trigger in self.clinical_areas.items():
            for code in trigger.codes:
                by_code.setdefault(code, set()).add(area)
            for fact in trigger.facts:
                by_fact.setdefault(fact, set()).add(area)
            for group in trigger.plus_groups:
                by_group.setdefault(group, set()).add(area)
        return by_code, by_fact, by_group


class Rules(_Data):
    version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    contact_deadline_working_days: Deadlines
    contraindications: Contraindications
    programmes: list[ProgrammeRule] = Field(min_length=1)
    signpost_to: list[UniversalOffer] = Field(min_length=1)
    risk: Risk
    priority: PriorityRules

    @model_validator(mode="after")
    def _one_programme_per_code_and_precedence(self) -> Self:
        # Two programmes claiming a code at the same precedence would leave the choice to file
        # order, which nobody editing the file would see; at different precedences it is a
        # deliberate fallback (e.g. falls under 65 go to Exercise Referral).
        seen: dict[tuple[int, str], tuple[int, int]] = {}
        for i, rule in enumerate(self.programmes):
            for j, reason in enumerate(rule.reasons):
                first = seen.setdefault((rule.precedence, reason.code), (i, j))
                if first != (i, j):
                    other = self.programmes[first[0]]
                    raise ValueError(
                        f"programmes[{i}].reasons[{j}].code: {reason.code} is already mapped to "
                        f"{other.programme.value} at precedence {rule.precedence} "
                        f"(programmes[{first[0]}].reasons[{first[1]}])"
                    )
        return self

    @model_validator(mode="after")
    def _risk_bands_are_reachable(self) -> Self:
        limit = self.contraindications.blood_pressure
        for level, band in (("high", self.risk.high), ("medium", self.risk.medium)):
            if band.systolic_at_least is not None and band.systolic_at_least >= limit.systolic_at_least:
                raise ValueError(
                    f"risk.{level}.systolic_at_least: {band.systolic_at_least} is at or above the "
                    f"contraindication limit {limit.systolic_at_least}, so it could never apply"
                )
            if band.diastolic_at_least is not None and band.diastolic_at_least >= limit.diastolic_at_least:
                raise ValueError(
                    f"risk.{level}.diastolic_at_least: {band.diastolic_at_least} is at or above the "
                    f"contraindication limit {limit.diastolic_at_least}, so it could never apply"
                )
        return self

    # Both asked for on every decision (34 code look-ups each time, before they were kept);
    # loaded rules never change.
    @cached_property
    def by_precedence(self) -> tuple[ProgrammeRule, ...]:
        """Programme rules in the order they are tried (file order breaks ties)."""
        return tuple(sorted(self.programmes, key=lambda r: r.precedence))

    @cached_property
    def known_codes(self) -> frozenset[str]:
        return frozenset(c for r in self.programmes for c in r.codes)

    def matching(self, codes: frozenset[str], facts: frozenset[Fact]) -> list[ProgrammeRule]:
        """The programme rules any of `codes` or `facts` match, at any age, in the order they
        are tried: a referral carries a few codes, so looking them up beats trying every rule."""
        by_code, by_fact = self._positions
        at: set[int] = set()
        for code in codes:
            at.update(by_code.get(code, ()))
        for fact in facts:
            at.update(by_fact.get(fact, ()))
        order = self.by_precedence
        return [order[i] for i in sorted(at)]

    @cached_property
    def _positions(self) -> tuple[dict[str, list[int]], dict[Fact, list[int]]]:
        by_code: dict[str, list[int]] = {}
        by_fact: dict[Fact, list[int]] = {}
        for i, rule in enumerate(self.by_precedence):
            for code in rule.codes:
                by_code.setdefault(code, []).append(i)
            for fact in rule.facts:
                by_fact.setdefault(fact, []).append(i)
        return by_code, by_fact

    def contact_deadline_days(self, prioritised: bool) -> int:
        d = self.contact_deadline_working_days
        return d.prioritised if prioritised else d.standard


def rules_from_document(document: object, source: str) -> Rules:
    """Validate an already-parsed document; `source` names it in errors."""
    return model_from_document(document, Rules, source, RulesError)


def load_rules(path: Path) -> Rules:
    return load_yaml_model(path, Rules, RulesError)


def default_rules() -> Rules:
    """The rules packaged with the service."""
    with importlib.resources.as_file(importlib.resources.files("triage.rules") / PACKAGED) as p:
        return load_rules(p)
