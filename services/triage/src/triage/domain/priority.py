"""Core20PLUS5 priority: deprived area, PLUS groups and clinical areas shorten the contact deadline."""

from __future__ import annotations

from referral_schemas.enums import ClinicalArea, DeprivationSource, PlusGroup
from referral_schemas.events.common import Priority
from referral_schemas.events.referral import ReferralAccepted
from triage.domain.deprivation import DeprivationLookup
from triage.domain.rules import Fact, Rules

# Core20 is defined nationally (and by the contract) as IMD deciles 1 and 2; the rules decide
# only how far down the deciles local priority reaches.
CORE20_MAX_DECILE = 2

# Each decision lists groups and areas in these orders; iterating an enum class is a call per member.
_GROUP_ORDER = tuple(PlusGroup)
_AREA_ORDER = tuple(ClinicalArea)


def _deprivation(
    referral: ReferralAccepted, lookup: DeprivationLookup
) -> tuple[int | None, DeprivationSource]:
    decile, source = lookup.deprivation_for(referral.residence.postcode, referral.residence.lsoa)
    # A lookup that breaks its own contract (a decile outside 1-10, or a decile with no source)
    # must not stop the referral: its figure is treated as unknown.
    if decile is None or not 1 <= decile <= 10 or source is DeprivationSource.UNKNOWN:
        return None, DeprivationSource.UNKNOWN
    return decile, source


def plus_groups(referral: ReferralAccepted, rules: Rules) -> list[PlusGroup]:
    flags = referral.priority_flags
    present = {
        PlusGroup.ETHNIC_MINORITY: referral.demographics.ethnicity
        in rules.priority.ethnic_minority_categories,
        PlusGroup.LEARNING_DISABILITY_AUTISM: flags.learning_disability_autism,
        PlusGroup.SEVERE_MENTAL_ILLNESS: flags.severe_mental_illness,
        PlusGroup.CARER: flags.carer,
    }
    return [g for g in _GROUP_ORDER if present[g]]


def priority_of(
    referral: ReferralAccepted,
    rules: Rules,
    lookup: DeprivationLookup,
    codes: frozenset[str],
    facts: frozenset[Fact],
) -> Priority:
    decile, source = _deprivation(referral, lookup)
    groups = plus_groups(referral, rules)
    areas = rules.priority.areas_triggered(codes, facts, groups)
    deprived = decile is not None and decile <= rules.priority.prioritised_max_decile
    return Priority(
        core20=decile is not None and decile <= CORE20_MAX_DECILE,
        imd_decile=decile,
        deprivation_source=source,
        plus_groups=groups,
        clinical_areas=[a for a in _AREA_ORDER if a in areas],
        prioritised=deprived or bool(groups) or bool(areas),
    )
