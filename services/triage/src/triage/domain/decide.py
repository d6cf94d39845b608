"""One decision per accepted referral: programme (or signposting), contraindications, risk, priority.

Pure: the rules, the deprivation lookup and the date come in, a `ReferralTriaged` payload goes
out, and nothing a valid `ReferralAccepted` can hold makes it raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from referral_schemas.enums import (
    ClinicalArea,
    ConditionGroup,
    DeprivationSource,
    PlusGroup,
    Programme,
    RiskLevel,
    SourceType,
    TriageDecision,
)
from referral_schemas.events.common import SNOMED_CT, Priority, Reason
from referral_schemas.events.referral import ReferralAccepted, ReferralTriaged
from triage.domain.rules import Fact, ProgrammeRule, Rules


class DeprivationLookup(Protocol):
    def deprivation_for(
        self, postcode: str | None, lsoa: str | None
    ) -> tuple[int | None, DeprivationSource]: ...


@dataclass(frozen=True)
class Decision:
    triaged: ReferralTriaged
    contact_deadline_working_days: int


def _label(programme: Programme) -> str:
    return programme.value.replace("_", " ")


def facts_of(referral: ReferralAccepted, rules: Rules, today: date) -> set[Fact]:
    s = referral.safety
    facts: set[Fact] = set()
    if referral.source_type is SourceType.HOSPITAL_DISCHARGE or s.discharge_date is not None:
        facts.add(Fact.HOSPITAL_DISCHARGE)
    if s.surgery_date is not None:
        facts.add(Fact.SURGERY_DATE)
    if s.pregnant or s.postnatal:
        facts.add(Fact.PREGNANT_OR_POSTNATAL)
    event = s.recent_cardiac_event_date
    if event is not None and 0 <= (today - event).days <= rules.contraindications.recent_cardiac_event_days:
        facts.add(Fact.RECENT_CARDIAC_EVENT)
    return facts


def _matches(rule: ProgrammeRule, codes: set[str], facts: set[Fact]) -> bool:
    return any(c.code in codes for c in rule.codes) or any(f in facts for f in rule.facts)


def _choose(
    referral: ReferralAccepted, rules: Rules, codes: set[str], facts: set[Fact]
) -> tuple[ProgrammeRule | None, bool]:
    """The programme rule that places the referral, and whether it was the referrer's request."""
    age = referral.demographics.age_years
    requested = referral.requested_programme
    if requested is not None:
        own = [r for r in rules.programmes if r.programme is requested and r.admits_age(age)]
        if own:
            return next((r for r in own if _matches(r, codes, facts)), own[0]), True
    return next((r for r in rules.programmes if r.admits_age(age) and _matches(r, codes, facts)), None), False


def _contraindications(
    referral: ReferralAccepted, rules: Rules, programme: Programme | None, today: date
) -> list[Reason]:
    c = rules.contraindications
    s = referral.safety
    out: list[Reason] = []
    if (s.resting_bp_systolic or 0) >= c.systolic_at_least or (
        s.resting_bp_diastolic or 0
    ) >= c.diastolic_at_least:
        out.append(
            Reason(
                code="contraindication.blood_pressure",
                field="data.safety.resting_bp_systolic",
                message=f"Resting blood pressure at or above {c.systolic_at_least}/{c.diastolic_at_least}: "
                "exercise is contraindicated until it is controlled.",
            )
        )
    if s.unstable_angina:
        out.append(
            Reason(
                code="contraindication.unstable_angina",
                field="data.safety.unstable_angina",
                message="Unstable angina.",
            )
        )
    if s.uncontrolled_arrhythmia:
        out.append(
            Reason(
                code="contraindication.uncontrolled_arrhythmia",
                field="data.safety.uncontrolled_arrhythmia",
                message="Uncontrolled arrhythmia.",
            )
        )
    event = s.recent_cardiac_event_date
    if event is not None:
        days = (today - event).days
        rehab_ready = programme is Programme.CARDIOPULMONARY_REHAB and days >= c.cardiac_rehab_from_days
        if 0 <= days <= c.recent_cardiac_event_days and not rehab_ready:
            out.append(
                Reason(
                    code="contraindication.recent_cardiac_event",
                    field="data.safety.recent_cardiac_event_date",
                    message=f"A cardiac event {days} days ago: only cardiopulmonary rehabilitation, "
                    f"from day {c.cardiac_rehab_from_days}, may take the patient this soon.",
                )
            )
    return out


def _risk(referral: ReferralAccepted, rules: Rules, programme: Programme, codes: set[str]) -> RiskLevel:
    s = referral.safety
    sys_bp, dia_bp = s.resting_bp_systolic or 0, s.resting_bp_diastolic or 0
    for level, band in ((RiskLevel.HIGH, rules.risk.high), (RiskLevel.MEDIUM, rules.risk.medium)):
        if (
            programme in band.programmes
            or (band.systolic_at_least is not None and sys_bp >= band.systolic_at_least)
            or (band.diastolic_at_least is not None and dia_bp >= band.diastolic_at_least)
            or (band.age_at_least is not None and referral.demographics.age_years >= band.age_at_least)
            or (band.coded_conditions_at_least is not None and len(codes) >= band.coded_conditions_at_least)
        ):
            return level
    return RiskLevel.LOW


def _priority(
    referral: ReferralAccepted,
    rules: Rules,
    deprivation: DeprivationLookup,
    codes: set[str],
    facts: set[Fact],
) -> Priority:
    p = rules.priority
    decile, source = deprivation.deprivation_for(referral.residence.postcode, referral.residence.lsoa)
    if decile is None:
        source = DeprivationSource.UNKNOWN
    flags = referral.priority_flags
    groups = [
        group
        for group, present in (
            (PlusGroup.ETHNIC_MINORITY, referral.demographics.ethnicity in p.ethnic_minority_categories),
            (PlusGroup.LEARNING_DISABILITY_AUTISM, flags.learning_disability_autism),
            (PlusGroup.SEVERE_MENTAL_ILLNESS, flags.severe_mental_illness),
            (PlusGroup.CARER, flags.carer),
        )
        if present
    ]
    areas = [
        area
        for area, trigger in p.clinical_areas.items()
        if codes.intersection(trigger.codes) or facts.intersection(trigger.facts)
    ]
    if flags.severe_mental_illness and ClinicalArea.SMI not in areas:
        areas.append(ClinicalArea.SMI)
    core20 = decile is not None and decile <= p.core20_max_decile
    return Priority(
        core20=core20,
        imd_decile=decile,
        deprivation_source=source,
        plus_groups=groups,
        clinical_areas=sorted(areas, key=lambda a: a.value),
        prioritised=core20 or bool(groups) or bool(areas),
    )


def decide(
    referral: ReferralAccepted, *, rules: Rules, deprivation: DeprivationLookup, today: date
) -> Decision:
    codes = {c.code for c in referral.reasons if c.system == SNOMED_CT}
    facts = facts_of(referral, rules, today)
    rule, requested = _choose(referral, rules, codes, facts)
    programme = rule.programme if rule is not None else None
    priority = _priority(referral, rules, deprivation, codes, facts)
    group_rule = rule or next((r for r in rules.programmes if _matches(r, codes, facts)), None)
    condition = group_rule.condition_group if group_rule is not None else ConditionGroup.OTHER
    common = {
        "priority": priority,
        "rule_version": rules.version,
        "patient_key": referral.patient_key,
        "referred_at": referral.referred_at,
        "condition_group": condition,
        "demographics": referral.demographics,
        "district": referral.residence.district,
    }
    stops = _contraindications(referral, rules, programme, today)
    if stops:
        triaged = ReferralTriaged(decision=TriageDecision.RETURN_TO_REFERRER, reasons=stops, **common)
    elif programme is None:
        triaged = ReferralTriaged(
            decision=TriageDecision.SIGNPOST,
            signpost_to=list(rules.signpost_to),
            reasons=[
                Reason(
                    code="programme.none_fits",
                    field="data.reasons",
                    message="No programme's criteria fit this referral; universal offers suit it instead.",
                )
            ],
            **common,
        )
    else:
        why = (
            "requested by the referrer and the patient is eligible"
            if requested
            else "matches the referral's reasons"
        )
        triaged = ReferralTriaged(
            decision=TriageDecision.ASSIGN,
            programme=programme,
            risk=_risk(referral, rules, programme, codes),
            reasons=[
                Reason(
                    code="programme.chosen", field=None, message=f"{_label(programme).capitalize()}: {why}."
                )
            ],
            **common,
        )
    return Decision(triaged, rules.contact_deadline_days(priority.prioritised))
