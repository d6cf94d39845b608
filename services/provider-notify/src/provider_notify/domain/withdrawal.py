"""Telling a provider that an assignment is taken back without its answer, so that it stops work.

An assignment closes without the provider's own answer in two ways (see `lifecycle`): the
referrer cancels the referral (stage cancelled), or the contact deadline passes unanswered
(stage expired). Either way the provider is sent `assignment.withdrawn` on the channel that
brought it the assignment, saying why, how far it had got, and, in a sentence, what to do.

Whether there is anyone to tell: a Kafka provider always has the assignment (its copy is written
with the assignment's own transaction). A webhook provider may have it once a delivery has been
started, even one that has not been answered yet; one never started never reached it, and a
withdrawal of something it never had would only puzzle it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from provider_notify.domain.lifecycle import FINAL, Stage
from referral_schemas.enums import DeliveryChannel, ProviderResponseType, WithdrawalReason
from referral_schemas.events.assignment import AssignmentWithdrawn
from servicekit.calendar import LONDON

# The final stage each reason leaves an assignment in: every final stage but those the provider
# chose itself (declined, closed), so that no way of closing an assignment leaves it untold.
CLOSED_AS = {WithdrawalReason.REFERRAL_CANCELLED: Stage.CANCELLED, WithdrawalReason.EXPIRED: Stage.EXPIRED}
assert set(CLOSED_AS) == set(WithdrawalReason), "every withdrawal reason needs the stage it closes with"
assert set(CLOSED_AS.values()) == FINAL - {Stage.DECLINED, Stage.CLOSED}, (
    "every final stage the provider did not choose itself needs a withdrawal reason"
)
_NOTHING_MORE = "Nothing more can be recorded against this assignment."


def stage_reached(stage: Stage) -> ProviderResponseType | None:
    """The furthest step the provider had recorded, as the contract names it (None: no answer)."""
    if stage is Stage.PENDING:
        return None
    if stage in FINAL:
        raise ValueError(f"a {stage.value} assignment is closed already and cannot be withdrawn")
    return ProviderResponseType(stage.value)


def provider_has_it(channel: DeliveryChannel, delivery_started: bool) -> bool:
    """Whether the provider may hold the assignment, and so must be told it is withdrawn."""
    return channel is DeliveryChannel.KAFKA or delivery_started


def detail(
    reason: WithdrawalReason, reached: ProviderResponseType | None, contact_deadline: datetime | None
) -> str:
    """What happened and what to do, in a sentence or two for people at the provider."""
    if reason is WithdrawalReason.EXPIRED:
        assert contact_deadline is not None
        local = contact_deadline.astimezone(LONDON)
        when = f"{local.day} {local:%B %Y %H:%M} {local.tzname()}"
        return (
            f"Not accepted or declined by the contact deadline ({when}): the assignment is withdrawn "
            "and the referral goes to another provider or back to the referrer. Do not contact the "
            f"patient about it. {_NOTHING_MORE}"
        )
    if reached is None:
        return f"The referrer cancelled this referral: do not contact the patient about it. {_NOTHING_MORE}"
    step = reached.value.replace("_", " ")
    return (
        f"The referrer cancelled this referral after you had recorded it as {step}: stop work on it"
        f" and do not contact the patient about it again. {_NOTHING_MORE}"
    )


def withdrawal(
    *,
    assignment_id: uuid.UUID,
    provider_id: str,
    reason: WithdrawalReason,
    stage_before: Stage,
    contact_deadline: datetime,
    now: datetime,
) -> AssignmentWithdrawn:
    """The withdrawal of an assignment that was at `stage_before` when it closed for `reason`;
    `contact_deadline` is the one it was held to (named only when it is why it closed)."""
    reached = stage_reached(stage_before)
    deadline = contact_deadline if reason is WithdrawalReason.EXPIRED else None
    return AssignmentWithdrawn(
        assignment_id=assignment_id,
        provider_id=provider_id,
        reason=reason,
        withdrawn_at=now,
        stage_reached=reached,
        contact_deadline=deadline,
        detail=detail(reason, reached, deadline),
    )
