"""One decision per accepted referral: a programme, a signpost, or a return to the referrer.

Pure: the rules, the deprivation lookup and today's date come in, the `ReferralTriaged` payload
and the contact deadline go out. Nothing a valid `ReferralAccepted` can hold makes it raise:
a referral no rule fits is signposted, not refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from referral_schemas.enums import Programme, RiskLevel, TriageDecision
from referral_schemas.events.common import Reason
from referral_schemas.events.referral import ReferralAccepted, ReferralTriaged
from triage.domain.contraindications import contraindications
from triage.domain.deprivation import DeprivationLookup
from triage.domain.facts import coded_reasons, facts_of
from triage.domain.priority import priority_of
from triage.domain.programmes import Selection, select
from triage.domain.reasons import reason
from triage.domain.risk import assess
from triage.domain.rules import Rules

__all__ = ["Decision", "DeprivationLookup", "decide"]


@dataclass(frozen=True)
class Decision:
    """The payload to publish, and the working days the provider has to make first contact."""

    triaged: ReferralTriaged
    contact_deadline_working_days: int


def _name(programme: Programme) -> str:
    return programme.value.replace("_", " ")


def _programme_reasons(selection: Selection, referral: ReferralAccepted) -> list[Reason]:
    requested = referral.requested_programme
    out: list[Reason] = []
    if selection.request_refused and requested is not None:
        out.append(
            reason(
                "programme.request_not_eligible",
                "data.requested_programme",
                f"The patient is outside the {_name(requested)} criteria (its ages, or the "
                "circumstance it is for is not recorded), so the rules chose instead.",
            )
        )
    programme = selection.programme
    if programme is not None:
        how = (
            "as requested by the referrer" if selection.requested else "the first programme the referral fits"
        )
        out.append(reason(f"programme.{programme.value}", None, f"{_name(programme).capitalize()}: {how}."))
    return out


def decide(
    referral: ReferralAccepted, *, rules: Rules, deprivation: DeprivationLookup, today: date
) -> Decision:
    codes = coded_reasons(referral)
    facts = facts_of(referral, rules, today)
    selection = select(
        rules,
        age=referral.demographics.age_years,
        codes=codes,
        facts=facts,
        requested=referral.requested_programme,
    )
    priority = priority_of(referral, rules, deprivation, codes, facts)
    programme = selection.programme
    stops = contraindications(referral, rules, programme, today)
    risk: RiskLevel | None = None
    if stops:
        decision, reasons = TriageDecision.RETURN_TO_REFERRER, stops
    elif programme is None:
        none_fits = reason(
            "programme.none_fits",
            "data.reasons",
            "No programme's criteria fit this referral: universal offers suit it instead.",
        )
        decision, reasons = TriageDecision.SIGNPOST, [*_programme_reasons(selection, referral), none_fits]
    else:
        risk, why = assess(referral, rules, programme, codes)
        decision, reasons = TriageDecision.ASSIGN, [*_programme_reasons(selection, referral), why]
    triaged = ReferralTriaged(
        decision=decision,
        # A returned referral names no programme: it is going to none.
        programme=programme if decision is TriageDecision.ASSIGN else None,
        risk=risk,
        signpost_to=list(rules.signpost_to) if decision is TriageDecision.SIGNPOST else [],
        priority=priority,
        reasons=reasons,
        rule_version=rules.version,
        patient_key=referral.patient_key,
        referred_at=referral.referred_at,
        condition_group=selection.condition_group,
        demographics=referral.demographics,
        district=referral.residence.district,
    )
    return Decision(triaged, rules.contact_deadline_days(priority.prioritised))
