"""Episodes built from the workflow's events, and measures providers post themselves.

- referral.triaged (placed on a programme) opens the episode; the provider is the one its latest
  assignment reached, or "unassigned" until one is delivered.
- assignment.delivered records which episode the assignment belongs to and who holds it.
- provider.activity applies the provider's step to the episode. Before the episode opens it is
  parked, and applied when it does; one the episode rules refuse is kept with the reason. Each
  step applied goes on as outcome.recorded, de-identified.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from referral_schemas import Envelope, new_envelope, topic_for
from referral_schemas.enums import TriageDecision
from referral_schemas.events.assignment import AssignmentDelivered
from referral_schemas.events.provider import ProviderActivity
from referral_schemas.events.referral import ReferralTriaged
from referral_schemas.registry import OutcomeRecordedV1

from outcomes.adapters.episodes import ACTIVITY_JSON
from outcomes.adapters.unit_of_work import OutcomesUnitOfWork
from outcomes.domain.episode import (
    UNASSIGNED,
    ActivityRecorded,
    Episode,
    RefusalCode,
    Refused,
    apply,
    reached,
)
from outcomes.domain.episode_key import episode_key
from outcomes.domain.from_contracts import activity_recorded, episode_opened

PRODUCER = "outcomes"


@dataclass(frozen=True)
class Keys:
    """Turns referral ids into episode keys with the service's secret."""

    secret: bytes

    def episode(self, referral_id: uuid.UUID | None) -> str:
        if referral_id is None:
            raise ValueError("the event names no referral")
        return episode_key(self.secret, referral_id)


@dataclass(frozen=True)
class Recorded:
    outcome: str  # applied, repeat, parked, refused
    code: str | None = None
    message: str | None = None


async def handle_triaged(event: Envelope[Any], uow: OutcomesUnitOfWork, keys: Keys) -> None:
    triaged: ReferralTriaged = event.data
    if triaged.decision is not TriageDecision.ASSIGN:
        return  # signposted or returned: no programme, so no episode
    episode_id = keys.episode(event.referral_id)
    if await uow.episodes.get(episode_id) is not None:
        return  # a later revision re-triaged: the episode keeps the placement it opened with
    provider = await uow.episodes.latest_provider(episode_id) or UNASSIGNED
    try:
        opened = apply(None, episode_opened(event.event_id, episode_id, triaged, provider))
    except ValueError as exc:
        opened = Refused(RefusalCode.PROFILE_INVALID, str(exc))
    if isinstance(opened, Refused):
        # Kept with why, with every event that was waiting for the episode.
        # The decision without its patient key: outcomes keeps nothing that links to a patient.
        kept = triaged.model_dump_json(include={"decision", "programme", "demographics", "district"})
        await uow.episodes.refuse(event.event_id, episode_id, opened, "kafka", kept)
        for parked in await uow.episodes.take_parked(episode_id):
            await uow.episodes.refuse(
                parked.event_id, episode_id, opened, "kafka", ACTIVITY_JSON.dump_json(parked).decode()
            )
        return
    uow.episodes.save(opened)
    for parked in await uow.episodes.take_parked(episode_id):
        await _apply(uow, parked, source="kafka")


async def handle_delivered(event: Envelope[Any], uow: OutcomesUnitOfWork, keys: Keys) -> None:
    delivered: AssignmentDelivered = event.data
    episode_id = keys.episode(event.referral_id)
    episode = await uow.episodes.get(episode_id)
    await uow.episodes.record_assignment(
        delivered.assignment_id, episode_id, delivered.provider_id, delivered.delivered_at
    )
    if episode is not None and (moved := reached(episode, delivered.provider_id)) is not episode:
        uow.episodes.save(moved)


async def handle_activity(event: Envelope[Any], uow: OutcomesUnitOfWork, keys: Keys) -> Recorded:
    activity: ProviderActivity = event.data
    recorded = activity_recorded(event.event_id, keys.episode(event.referral_id), activity)
    return await _apply(uow, recorded, source="kafka")


async def record_measures(uow: OutcomesUnitOfWork, recorded: ActivityRecorded) -> Recorded:
    """Measures a provider posted over HTTP, for an episode of one of its assignments."""
    return await _apply(uow, recorded, source="http")


async def _apply(uow: OutcomesUnitOfWork, recorded: ActivityRecorded, *, source: str) -> Recorded:
    episode = await uow.episodes.get(recorded.episode_id)
    if episode is None:
        await uow.episodes.park(recorded)
        return Recorded(
            "parked", RefusalCode.EPISODE_UNKNOWN.value, "the episode has not opened yet; kept until it does"
        )
    after = apply(episode, recorded)
    if isinstance(after, Refused):
        await uow.episodes.refuse(
            recorded.event_id, recorded.episode_id, after, source, ACTIVITY_JSON.dump_json(recorded).decode()
        )
        return Recorded("refused", after.code.value, after.message)
    if after is episode:
        return Recorded("repeat")
    uow.episodes.save(after)
    _announce(uow, after, recorded)
    return Recorded("applied")


def _announce(uow: OutcomesUnitOfWork, episode: Episode, recorded: ActivityRecorded) -> None:
    # The payload's fields go to the envelope to be validated with it, in one pass.
    on = recorded.occurred_on
    outcome = {
        "episode_id": episode.episode_id,
        "milestone": recorded.activity,
        "period": f"{on.year:04d}-{on.month:02d}",
        **episode.profile.described,
        "measures": recorded.measures,
    }
    # De-identified: no referral id, no cause, keyed by the episode's pseudonym.
    event = new_envelope(OutcomeRecordedV1, outcome, producer=PRODUCER, referral_id=None)
    uow.publish(event, topic=topic_for("outcome.recorded"), key=episode.episode_id, aggregate_type="episode")
