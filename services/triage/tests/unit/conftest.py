"""Referrals built from the contract's example, the packaged rules, and a deprivation fake."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from referral_schemas.enums import DeprivationSource, Programme, SourceType
from referral_schemas.events.common import (
    SNOMED_CT,
    ClinicalSafety,
    Coding,
    Demographics,
    PriorityFlags,
)
from referral_schemas.events.referral import ReferralAccepted
from referral_schemas.examples import example
from triage.domain.decide import Decision, decide
from triage.domain.rules import Rules, default_rules

TODAY = date(2026, 3, 2)


class Deciles:
    """Answers with one decile for every address, as if from the LSOA; unknown when None."""

    def __init__(self, decile: int | None) -> None:
        self.decile = decile

    def deprivation_for(self, postcode: str | None, lsoa: str | None) -> tuple[int | None, DeprivationSource]:
        if self.decile is None:
            return None, DeprivationSource.UNKNOWN
        return self.decile, DeprivationSource.LSOA


Build = Callable[..., ReferralAccepted]


def build_referral(
    codes: list[str] | tuple[str, ...] = (),
    age: int = 55,
    *,
    system: str = SNOMED_CT,
    requested: Programme | None = None,
    ethnicity: str | None = "A",
    source: SourceType = SourceType.GP,
    flags: dict[str, bool] | None = None,
    bp: tuple[int, int] | None = (128, 78),
    cardiac_event_days_ago: int | None = None,
    surgery_in_days: int | None = None,
    discharged_days_ago: int | None = None,
    **safety: Any,
) -> ReferralAccepted:
    """The example accepted referral, changed: a White British adult with normal BP and no codes.

    Dates are given relative to TODAY, so that a case reads as the clinician would say it.
    """
    base: ReferralAccepted = example("referral.accepted").data
    readings: dict[str, Any] = {"resting_bp_systolic": bp[0], "resting_bp_diastolic": bp[1]} if bp else {}
    if cardiac_event_days_ago is not None:
        readings["recent_cardiac_event_date"] = TODAY - timedelta(days=cardiac_event_days_ago)
    if surgery_in_days is not None:
        readings["surgery_date"] = TODAY + timedelta(days=surgery_in_days)
    if discharged_days_ago is not None:
        readings["discharge_date"] = TODAY - timedelta(days=discharged_days_ago)
    return base.model_copy(
        update={
            "source_type": source,
            "reasons": [Coding(system=system, code=c) for c in codes],
            "requested_programme": requested,
            "demographics": Demographics(age_years=age, sex=base.demographics.sex, ethnicity=ethnicity),
            "safety": ClinicalSafety(**readings, **safety),
            "priority_flags": PriorityFlags(**(flags or {})),
        }
    )


@pytest.fixture(scope="session")
def today() -> date:
    return TODAY


@pytest.fixture(scope="session")
def rules() -> Rules:
    return default_rules()


@pytest.fixture(scope="session")
def referral() -> Build:
    return build_referral


Triage = Callable[..., Decision]


@pytest.fixture(scope="session")
def triage(rules: Rules) -> Triage:
    """Decides as of TODAY, with the area at `decile` (None: deprivation unknown)."""

    def run(accepted: ReferralAccepted, decile: int | None = 6, *, lookup: Any = None) -> Decision:
        return decide(accepted, rules=rules, deprivation=lookup or Deciles(decile), today=TODAY)

    return run
