"""Choosing the programme: the referrer's request when the patient is eligible, else precedence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from referral_schemas.enums import ConditionGroup, Programme
from triage.domain.rules import Fact, ProgrammeRule, Rules


@dataclass(frozen=True)
class Selection:
    """The programme rule that places the referral (None: nothing fits) and how it was chosen."""

    rule: ProgrammeRule | None
    requested: bool
    request_refused: bool
    condition_group: ConditionGroup

    @property
    def programme(self) -> Programme | None:
        return self.rule.programme if self.rule is not None else None


def _matches(rule: ProgrammeRule, codes: frozenset[str], facts: frozenset[Fact]) -> bool:
    return bool(rule.codes & codes) or any(f in facts for f in rule.facts)


def _eligible(rule: ProgrammeRule, age: int, codes: frozenset[str], facts: frozenset[Fact]) -> bool:
    return rule.admits_age(age) and _matches(rule, codes, facts)


def select(
    rules: Rules,
    *,
    age: int,
    codes: frozenset[str],
    facts: frozenset[Fact],
    requested: Programme | None,
) -> Selection:
    ordered = rules.by_precedence
    fitting = [r for r in ordered if _eligible(r, age, codes, facts)]
    chosen: ProgrammeRule | None = None
    honoured = False
    if requested is not None:
        own = [r for r in fitting if r.programme is requested]
        # A rule open to requests admits on the referrer's judgement alone, age permitting.
        own = own or [r for r in ordered if r.programme is requested and r.on_request and r.admits_age(age)]
        if own:
            chosen, honoured = own[0], True
    if chosen is None and fitting:
        chosen = fitting[0]
    return Selection(
        rule=chosen,
        requested=honoured,
        request_refused=requested is not None and not honoured,
        condition_group=_condition_group(ordered, chosen, codes, facts),
    )


def _condition_group(
    ordered: Sequence[ProgrammeRule],
    chosen: ProgrammeRule | None,
    codes: frozenset[str],
    facts: frozenset[Fact],
) -> ConditionGroup:
    # The group of the rule that placed the referral when it matched on the referral itself;
    # otherwise (taken on request, signposted, or too young or old for the matching rule) the
    # first rule the codes or facts match regardless of age, so that commissioners still see
    # what the referral was about.
    if chosen is not None and _matches(chosen, codes, facts):
        return chosen.condition_group
    for rule in ordered:
        if _matches(rule, codes, facts):
            return rule.condition_group
    return ConditionGroup.OTHER
