"""What a referral says about the patient beyond its codes, as the rules name it (`Fact`)."""

from __future__ import annotations

from datetime import date

from referral_schemas.enums import SourceType
from referral_schemas.events.common import SNOMED_CT
from referral_schemas.events.referral import ReferralAccepted
from triage.domain.rules import Fact, Rules


def coded_reasons(referral: ReferralAccepted) -> frozenset[str]:
    """The SNOMED CT codes among the referral's reasons; other code systems mean nothing here."""
    return frozenset(c.code for c in referral.reasons if c.system == SNOMED_CT)


def days_since_cardiac_event(referral: ReferralAccepted, today: date) -> int | None:
    event = referral.safety.recent_cardiac_event_date
    if event is None:
        return None
    # A date after today (the referrer's clock or time zone ahead of ours) is taken as today:
    # the cautious reading of an event that has just happened.
    return max(0, (today - event).days)


def facts_of(referral: ReferralAccepted, rules: Rules, today: date) -> frozenset[Fact]:
    s = referral.safety
    facts: set[Fact] = set()
    if referral.source_type is SourceType.HOSPITAL_DISCHARGE or s.discharge_date is not None:
        facts.add(Fact.HOSPITAL_DISCHARGE)
    # Prehabilitation is before the operation; a date already past says nothing about it.
    if s.surgery_date is not None and s.surgery_date >= today:
        facts.add(Fact.SURGERY_PLANNED)
    if s.pregnant or s.postnatal:
        facts.add(Fact.PREGNANT_OR_POSTNATAL)
    days = days_since_cardiac_event(referral, today)
    if days is not None and days < rules.contraindications.recent_cardiac_event.excluded_days:
        facts.add(Fact.RECENT_CARDIAC_EVENT)
    return frozenset(facts)
