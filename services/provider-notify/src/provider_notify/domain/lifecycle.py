"""An assignment's life at the provider, as exercise-referral providers record it.

pending → accepted | declined → contacted | unable_to_contact → assessed → enrolled →
session_attended / session_missed (repeatable) → completed | dropped_out → closed.
measures_recorded is allowed from assessed until closed. declined, closed, expired and
cancelled are final. Anything else is refused with a sentence naming both ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from referral_schemas.enums import ProviderResponseType as R


class Stage(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CONTACTED = "contacted"
    UNABLE_TO_CONTACT = "unable_to_contact"
    ASSESSED = "assessed"
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    DROPPED_OUT = "dropped_out"
    CLOSED = "closed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


FINAL = frozenset({Stage.DECLINED, Stage.CLOSED, Stage.EXPIRED, Stage.CANCELLED})
_MEASURABLE = frozenset({Stage.ASSESSED, Stage.ENROLLED, Stage.COMPLETED, Stage.DROPPED_OUT})

# response -> (stages it may follow, stage it leads to; None = stays where it is)
_RULES: dict[R, tuple[frozenset[Stage], Stage | None]] = {
    R.ACCEPTED: (frozenset({Stage.PENDING}), Stage.ACCEPTED),
    R.DECLINED: (frozenset({Stage.PENDING, Stage.ACCEPTED}), Stage.DECLINED),
    R.CONTACTED: (frozenset({Stage.ACCEPTED, Stage.UNABLE_TO_CONTACT}), Stage.CONTACTED),
    R.UNABLE_TO_CONTACT: (frozenset({Stage.ACCEPTED, Stage.UNABLE_TO_CONTACT}), Stage.UNABLE_TO_CONTACT),
    R.ASSESSED: (frozenset({Stage.CONTACTED}), Stage.ASSESSED),
    R.ENROLLED: (frozenset({Stage.ASSESSED}), Stage.ENROLLED),
    R.SESSION_ATTENDED: (frozenset({Stage.ENROLLED}), None),
    R.SESSION_MISSED: (frozenset({Stage.ENROLLED}), None),
    R.MEASURES_RECORDED: (_MEASURABLE, None),
    R.COMPLETED: (frozenset({Stage.ENROLLED}), Stage.COMPLETED),
    R.DROPPED_OUT: (frozenset({Stage.CONTACTED, Stage.ASSESSED, Stage.ENROLLED}), Stage.DROPPED_OUT),
    R.CLOSED: (
        frozenset({Stage.COMPLETED, Stage.DROPPED_OUT, Stage.UNABLE_TO_CONTACT, Stage.ACCEPTED}),
        Stage.CLOSED,
    ),
}
assert set(_RULES) == set(R), "every provider response needs a transition rule"


@dataclass(frozen=True)
class Moved:
    stage: Stage


@dataclass(frozen=True)
class Refused:
    code: str
    message: str


def apply(stage: Stage, response: R) -> Moved | Refused:
    """The stage after `response`, or why it cannot be recorded now."""
    allowed_from, leads_to = _RULES[response]
    if stage in FINAL:
        return Refused(
            "transition.after_final", f"cannot record {response.value}: the assignment is {stage.value}"
        )
    if stage not in allowed_from:
        before = ", ".join(sorted(s.value for s in allowed_from))
        return Refused(
            "transition.not_allowed",
            f"cannot record {response.value} while {stage.value}; it follows {before}",
        )
    return Moved(leads_to or stage)
