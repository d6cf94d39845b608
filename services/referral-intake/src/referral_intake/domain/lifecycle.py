"""A referral's status as its referrer sees it, and how other services' events move it on.

Events reach intake from several topics, so their order across topics is not guaranteed: a
status only moves forward, except that a declined or expired assignment sends an assigned
referral back to triage for another provider. A status a referral ends in never changes.
"""

from __future__ import annotations

from referral_schemas.enums import (
    Programme,
    ProviderResponseType,
    ReferralStatus,
    TriageDecision,
)
from referral_schemas.events.common import Coding

S = ReferralStatus

ACTIVE: frozenset[ReferralStatus] = frozenset(
    {S.RECEIVED, S.ACCEPTED, S.TRIAGED, S.ASSIGNED, S.ACCEPTED_BY_PROVIDER, S.STARTED}
)
FINAL: frozenset[ReferralStatus] = frozenset(
    {S.REJECTED, S.CANCELLED, S.COMPLETED, S.CLOSED, S.RETURNED_TO_REFERRER, S.SIGNPOSTED}
)
# Position along the normal path; a later event never moves a referral to an earlier one.
_RANK: dict[ReferralStatus, int] = {
    S.RECEIVED: 0,
    S.ACCEPTED: 1,
    S.TRIAGED: 2,
    S.ASSIGNED: 3,
    S.ACCEPTED_BY_PROVIDER: 4,
    S.STARTED: 5,
    S.COMPLETED: 6,
    S.CLOSED: 7,
    S.SIGNPOSTED: 7,
    S.RETURNED_TO_REFERRER: 7,
}

_AFTER_TRIAGE = {
    TriageDecision.ASSIGN: S.TRIAGED,
    TriageDecision.SIGNPOST: S.SIGNPOSTED,
    TriageDecision.RETURN_TO_REFERRER: S.RETURNED_TO_REFERRER,
}

# Steps providers record that referrers hear about; the rest (sessions, measures, contact
# attempts) are for outcomes, not for the GP's status list.
_AFTER_ACTIVITY = {
    ProviderResponseType.ACCEPTED: S.ACCEPTED_BY_PROVIDER,
    ProviderResponseType.ENROLLED: S.STARTED,
    ProviderResponseType.COMPLETED: S.COMPLETED,
    ProviderResponseType.DROPPED_OUT: S.CLOSED,
    ProviderResponseType.CLOSED: S.CLOSED,
}


def is_active(status: ReferralStatus) -> bool:
    return status in ACTIVE


def status_after_triage(decision: TriageDecision) -> ReferralStatus:
    return _AFTER_TRIAGE[decision]


def status_after_activity(activity: ProviderResponseType) -> ReferralStatus | None:
    """The referrer-facing status a provider's step leads to; None for steps they do not see."""
    return _AFTER_ACTIVITY.get(activity)


def next_status(
    current: ReferralStatus, proposed: ReferralStatus, *, reassignment: bool = False
) -> ReferralStatus | None:
    """The status after an event proposing `proposed`, or None when the event changes nothing.

    `reassignment` marks a declined or expired assignment: an assigned (or provider-accepted)
    referral goes back to triaged while triage finds another provider.
    """
    if current in FINAL or proposed == current:
        return None
    if reassignment:
        return S.TRIAGED if current in (S.ASSIGNED, S.ACCEPTED_BY_PROVIDER) else None
    if proposed in (S.CANCELLED, S.REJECTED):
        return proposed
    if _RANK.get(proposed, -1) <= _RANK.get(current, -1):
        return None
    return proposed


def duplicate_key(requested_programme: Programme | None, reasons: list[Coding]) -> str:
    """What makes two referrals for one patient "the same programme" at intake.

    Triage has not chosen the programme yet, so intake compares the programme the referrer asked
    for, else the first coded reason, else treats all uncoded referrals of a patient as alike.
    """
    if requested_programme is not None:
        return f"programme:{requested_programme.value}"
    if reasons:
        return f"reason:{reasons[0].system}|{reasons[0].code}"
    return "unspecified"
