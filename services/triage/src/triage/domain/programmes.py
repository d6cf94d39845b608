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


def select(
    rules: Rules,
    *,
    age: int,
    codes: frozenset[str],
    facts: frozenset[Fact],
    requested: Programme | None,
) -> Selection:
    ordered = rules.by_precedence
    matching = rules.matching(codes, facts)
    fitting = [r for r in matching if r.admits_age(age)]
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
        condition_group=_condition_group(matching, chosen),
    )


def _condition_group(matching: Sequence[ProgrammeRule], chosen: ProgrammeRule | None) -> ConditionGroup:
    # The group of the rule that placed the referral when it matched on the referral itself;
    # otherwise (taken on request, signposted, or too young or old for the matching rule) the
    # first rule the codes or facts match regardless of age, so that commissioners still see
    # what the referral was about.
    if chosen is not None and any(r is chosen for r in matching):
        return chosen.condition_group
    return matching[0].condition_group if matching else ConditionGroup.OTHER
