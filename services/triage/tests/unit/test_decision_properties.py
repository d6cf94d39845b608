"""For any accepted referral: exactly one valid decision, stamped, returned iff contraindicated."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from referral_schemas.enums import Programme, SourceType, TriageDecision
from referral_schemas.events.common import SNOMED_CT
from referral_schemas.events.referral import ReferralTriaged
from triage.domain.facts import coded_reasons, facts_of
from triage.domain.programmes import select
from triage.domain.rules import default_rules

RULES = default_rules()
_rule_codes = sorted(RULES.known_codes | {c for t in RULES.priority.clinical_areas.values() for c in t.codes})
_ETHNIC = ["A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z", "99"]
_maybe_bool = st.one_of(st.none(), st.booleans())


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _around(edges: list[int], low: int, high: int) -> st.SearchStrategy[int]:
    """Any value in range, with the rules' thresholds and their neighbours drawn often."""
    return st.one_of(st.sampled_from([v + d for v in edges for d in (-1, 0)]), st.integers(low, high))


referrals = st.fixed_dictionaries(
    {
        "codes": st.lists(
            st.one_of(st.sampled_from(_rule_codes), st.from_regex(r"\A[1-9][0-9]{5,17}\Z")), max_size=6
        ),
        "age": st.integers(0, 130),
        "system": st.sampled_from([SNOMED_CT, SNOMED_CT, SNOMED_CT, "http://read.info/ctv3"]),
        "requested": _maybe(st.sampled_from(Programme)),
        "ethnicity": _maybe(st.sampled_from(_ETHNIC)),
        "source": st.sampled_from(SourceType),
        "flags": st.fixed_dictionaries(
            {
                "carer": st.booleans(),
                "learning_disability_autism": st.booleans(),
                "severe_mental_illness": st.booleans(),
            }
        ),
        "bp": _maybe(st.tuples(_around([140, 160, 180], 50, 300), _around([90, 95, 100], 30, 200))),
        "cardiac_event_days_ago": _maybe(_around([0, 7, 42], -30, 800)),
        "surgery_in_days": _maybe(st.integers(-400, 400)),
        "discharged_days_ago": _maybe(st.integers(0, 400)),
        "unstable_angina": _maybe_bool,
        "uncontrolled_arrhythmia": _maybe_bool,
        "pregnant": _maybe_bool,
        "postnatal": _maybe_bool,
    }
)


def _contraindicated(spec: dict[str, Any], would_be: Programme | None) -> bool:
    """The contraindications as the rules file documents them, worked out from the inputs."""
    bp = spec["bp"]
    if bp is not None and (bp[0] >= 180 or bp[1] >= 100):
        return True
    if spec["unstable_angina"] or spec["uncontrolled_arrhythmia"]:
        return True
    days = spec["cardiac_event_days_ago"]
    if days is None:
        return False
    days = max(days, 0)
    return days < 7 or (days < 42 and would_be is not Programme.CARDIOPULMONARY_REHAB)


@settings(max_examples=400, deadline=None)
@given(spec=referrals, decile=_maybe(st.integers(1, 10)))
def test_every_referral_gets_exactly_one_valid_decision(referral, triage, today, spec, decile) -> None:
    accepted = referral(**spec)
    decision = triage(accepted, decile)
    triaged = decision.triaged

    assert ReferralTriaged.model_validate(triaged.model_dump()) == triaged
    assert triaged.rule_version == RULES.version
    assert decision.contact_deadline_working_days == RULES.contact_deadline_days(triaged.priority.prioritised)
    assert triaged.priority.core20 is (decile is not None and decile <= 2)

    would_be = select(
        RULES,
        age=spec["age"],
        codes=coded_reasons(accepted),
        facts=facts_of(accepted, RULES, today),
        requested=spec["requested"],
    ).programme
    returned = triaged.decision is TriageDecision.RETURN_TO_REFERRER
    assert returned is _contraindicated(spec, would_be)
    if returned:
        assert triaged.reasons and all(r.code.startswith("contraindication.") for r in triaged.reasons)
    assert (triaged.decision is TriageDecision.ASSIGN) is (triaged.programme is not None)
    assert (triaged.decision is TriageDecision.SIGNPOST) is (triaged.signpost_to == RULES.signpost_to)
    if triaged.programme is not None:
        assert triaged.programme is would_be
        assert any(r.programme is would_be and r.admits_age(spec["age"]) for r in RULES.programmes)
