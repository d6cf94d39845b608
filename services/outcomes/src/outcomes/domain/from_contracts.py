"""Episode events from the contracts outcomes consumes, dropping everything that identifies."""

from __future__ import annotations

import uuid

from referral_schemas.events.provider import ProviderActivity
from referral_schemas.events.referral import ReferralTriaged

from outcomes.domain.demographics import age_band, ethnic_group
from outcomes.domain.episode import ActivityRecorded, EpisodeOpened, Profile


def episode_opened(
    event_id: uuid.UUID, episode_id: str, triaged: ReferralTriaged, provider_id: str
) -> EpisodeOpened:
    """The opening of an episode once a referral triage placed on a programme reaches a provider.

    Raises ValueError for a decision that placed no programme, or a patient younger than any age
    band (under 16).
    """
    if triaged.programme is None:
        raise ValueError(f"a {triaged.decision.value} decision places no programme")
    priority = triaged.priority
    return EpisodeOpened(
        event_id=event_id,
        episode_id=episode_id,
        profile=Profile(
            # The referral's date in UTC, the zone every event's times are read in.
            referral_date=triaged.referred_at.date(),
            programme=triaged.programme,
            provider_id=provider_id,
            district=triaged.district,
            imd_decile=priority.imd_decile,
            deprivation_source=priority.deprivation_source,
            age_band=age_band(triaged.demographics.age_years),
            sex=triaged.demographics.sex,
            ethnic_group=ethnic_group(triaged.demographics.ethnicity),
            condition_group=triaged.condition_group,
            plus_groups=frozenset(priority.plus_groups),
            prioritised=priority.prioritised,
        ),
    )


def activity_recorded(event_id: uuid.UUID, episode_id: str, activity: ProviderActivity) -> ActivityRecorded:
    return ActivityRecorded(
        event_id=event_id,
        episode_id=episode_id,
        activity=activity.activity,
        occurred_on=activity.occurred_on,
        provider_id=activity.provider_id,
        sessions_offered=activity.sessions_offered,
        reason_code=activity.reason_code,
        measures=activity.measures,
    )
