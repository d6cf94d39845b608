"""Collecting every problem with a submission, and the rejection that reports them."""

from __future__ import annotations

from dataclasses import dataclass

from referral_schemas.events.common import Reason

# ReferralRejected holds at most 100 reasons, and its summary is a Text (at most 2000 characters).
MAX_REASONS = 100
MAX_SUMMARY = 2000


@dataclass(frozen=True)
class Rejected:
    """A submission intake refuses: every reason found, and one sentence for the referrer."""

    reasons: list[Reason]
    summary: str

    def __post_init__(self) -> None:
        if not self.reasons:
            raise ValueError("a rejection gives at least one reason")


class Problems:
    """Reasons gathered while checking one submission; fields are paths under the event's data."""

    def __init__(self) -> None:
        self.reasons: list[Reason] = []

    def add(self, code: str, field: str, message: str) -> None:
        """Record a problem with `field` (a path inside `data`, e.g. "patient.nhs_number")."""
        self.reasons.append(Reason(code=code, field=f"data.{field}", message=message))

    def __bool__(self) -> bool:
        return bool(self.reasons)

    def rejected(self) -> Rejected | None:
        """The rejection reporting every problem, or None when there were none."""
        if not self.reasons:
            return None
        return Rejected(self.reasons[:MAX_REASONS], summarise(self.reasons))


def summarise(reasons: list[Reason]) -> str:
    """One sentence naming each problem, e.g. "2 problems: the NHS number ...; the postcode ...".

    Built from the reasons' messages only, which never hold patient data, so neither does this.
    """
    count = len(reasons)
    parts = "; ".join(_lower_first(r.message.rstrip(".")) for r in reasons)
    summary = f"{count} problem{'' if count == 1 else 's'}: {parts}."
    if len(summary) > MAX_SUMMARY:
        summary = summary[: MAX_SUMMARY - 1] + "…"
    return summary


def _lower_first(message: str) -> str:
    # "The postcode ..." reads better mid-sentence as "the postcode ..."; names such as
    # "NHS" or "Exercise Referral" keep their capitals.
    first = message.split(" ", 1)[0]
    return message[0].lower() + message[1:] if first in ("The", "This", "A", "An", "At") else message
