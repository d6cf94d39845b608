"""Applying events to an episode: milestones, measures, corrections, duplicates and refusals."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from outcomes.domain.episode import (
    ActivityRecorded,
    Episode,
    EpisodeOpened,
    Profile,
    RefusalCode,
    Refused,
    apply,
)
from referral_schemas.enums import (
    ActivityIndex,
    AgeBand,
    ConditionGroup,
    DeprivationSource,
    District,
    EthnicGroup,
    PlusGroup,
    Programme,
    Sex,
    Timepoint,
)
from referral_schemas.enums import ProviderResponseType as R
from referral_schemas.events.provider import Measures

EPISODE = "ep_9c1d7e3a5b2f4c8d"
REFERRED = date(2026, 3, 2)


def profile(**overrides: Any) -> Profile:
    fields: dict[str, Any] = {
        "referral_date": REFERRED,
        "programme": Programme.EXERCISE_REFERRAL,
        "provider_id": "active-blaby",
        "district": District.BLABY,
        "imd_decile": 2,
        "deprivation_source": DeprivationSource.LSOA,
        "age_band": AgeBand.AGE_50_64,
        "sex": Sex.FEMALE,
        "ethnic_group": EthnicGroup.ASIAN,
        "condition_group": ConditionGroup.CARDIOVASCULAR,
        "plus_groups": frozenset({PlusGroup.CARER}),
        "prioritised": True,
    }
    return Profile(**(fields | overrides))


def opened(**overrides: Any) -> EpisodeOpened:
    return EpisodeOpened(event_id=uuid.uuid4(), episode_id=EPISODE, profile=profile(**overrides))


def activity(kind: R, on: date, **fields: Any) -> ActivityRecorded:
    return ActivityRecorded(
        event_id=uuid.uuid4(), episode_id=EPISODE, activity=kind, occurred_on=on, **fields
    )


def measured(on: date, timepoint: Timepoint, version: int = 1, **values: Any) -> ActivityRecorded:
    measures = Measures(timepoint=timepoint, version=version, **values)
    return activity(R.MEASURES_RECORDED, on, measures=measures)


def ok(result: Episode | Refused) -> Episode:
    assert isinstance(result, Episode), result
    return result


def refused(result: Episode | Refused, code: RefusalCode) -> Refused:
    assert isinstance(result, Refused), result
    assert result.code is code, result
    return result


def run(*events: ActivityRecorded, start: Episode | None = None) -> Episode:
    episode = start or ok(apply(None, opened()))
    for event in events:
        episode = ok(apply(episode, event))
    return episode


def test_opening_records_the_profile_and_derives_quintile_and_core20():
    episode = ok(apply(None, opened(imd_decile=2)))
    assert episode.episode_id == EPISODE
    assert episode.profile.imd_quintile == 1
    assert episode.profile.core20 is True
    assert episode.profile.referral_month == "2026-03"
    assert ok(apply(None, opened(imd_decile=3))).profile.imd_quintile == 2
    assert ok(apply(None, opened(imd_decile=3))).profile.core20 is False


def test_unknown_deprivation_has_no_quintile_and_is_not_core20():
    episode = ok(apply(None, opened(imd_decile=None, deprivation_source=DeprivationSource.UNKNOWN)))
    assert episode.profile.imd_quintile is None
    assert episode.profile.core20 is False


@pytest.mark.parametrize(
    ("decile", "source"),
    [(None, DeprivationSource.LSOA), (4, DeprivationSource.UNKNOWN), (11, DeprivationSource.POSTCODE_MSOA)],
)
def test_an_inconsistent_deprivation_profile_is_refused(decile, source):
    refused(apply(None, opened(imd_decile=decile, deprivation_source=source)), RefusalCode.PROFILE_INVALID)


def test_an_event_for_an_episode_never_opened_is_refused():
    result = refused(apply(None, activity(R.CONTACTED, date(2026, 3, 4))), RefusalCode.EPISODE_UNKNOWN)
    assert EPISODE in result.message


def test_an_event_for_another_episode_is_refused():
    episode = run()
    other = ActivityRecorded(
        event_id=uuid.uuid4(), episode_id="ep_another_episode_01", activity=R.CONTACTED, occurred_on=REFERRED
    )
    refused(apply(episode, other), RefusalCode.EPISODE_MISMATCH)


def test_opening_twice_is_refused_but_the_same_opening_again_is_harmless():
    first = opened()
    episode = ok(apply(None, first))
    assert apply(episode, first) is episode
    refused(apply(episode, opened()), RefusalCode.EPISODE_EXISTS)


def test_a_whole_programme_is_recorded_milestone_by_milestone():
    episode = run(
        activity(R.ACCEPTED, date(2026, 3, 3)),
        activity(R.CONTACTED, date(2026, 3, 5)),
        activity(R.ASSESSED, date(2026, 3, 10)),
        measured(date(2026, 3, 10), Timepoint.BASELINE, mvpa_minutes_per_week=30, wellbeing_swemwbs=20),
        activity(R.ENROLLED, date(2026, 3, 12), sessions_offered=12),
        activity(R.SESSION_ATTENDED, date(2026, 3, 14)),
        activity(R.SESSION_ATTENDED, date(2026, 3, 21)),
        activity(R.SESSION_MISSED, date(2026, 3, 28)),
        measured(date(2026, 6, 2), Timepoint.WEEK_12, mvpa_minutes_per_week=150, wellbeing_swemwbs=26),
        activity(R.COMPLETED, date(2026, 6, 2)),
        activity(R.CLOSED, date(2026, 6, 3)),
    )
    m = episode.milestones
    assert (m.accepted_on, m.first_contact_on, m.assessed_on, m.enrolled_on) == (
        date(2026, 3, 3),
        date(2026, 3, 5),
        date(2026, 3, 10),
        date(2026, 3, 12),
    )
    assert (m.sessions_offered, m.sessions_attended, m.sessions_missed) == (12, 2, 1)
    assert (m.completed_on, m.dropped_out_on, m.closed_on) == (date(2026, 6, 2), None, date(2026, 6, 3))
    assert episode.closed
    week_12 = episode.current(Timepoint.WEEK_12)
    assert week_12 is not None
    assert week_12.mvpa_minutes_per_week == 150
    assert len(episode.event_ids) == 12


def test_applying_returns_a_new_episode_and_leaves_the_old_one_as_it_was():
    before = run()
    after = ok(apply(before, activity(R.SESSION_ATTENDED, date(2026, 3, 14))))
    assert before.milestones.sessions_attended == 0
    assert after.milestones.sessions_attended == 1


def test_a_redelivered_event_changes_nothing():
    session = activity(R.SESSION_ATTENDED, date(2026, 3, 14))
    episode = run(activity(R.ENROLLED, date(2026, 3, 12), sessions_offered=12), session)
    assert apply(episode, session) is episode
    assert episode.milestones.sessions_attended == 1


def test_a_redelivered_event_after_closure_is_still_harmless_not_refused():
    session = activity(R.SESSION_ATTENDED, date(2026, 3, 14))
    episode = run(session, activity(R.CLOSED, date(2026, 3, 20)))
    assert apply(episode, session) is episode


@pytest.mark.parametrize(
    "event",
    [
        activity(R.SESSION_ATTENDED, date(2026, 6, 10)),
        measured(date(2026, 6, 10), Timepoint.BASELINE, mvpa_minutes_per_week=10),
        activity(R.CLOSED, date(2026, 6, 10)),
    ],
)
def test_anything_new_for_a_closed_episode_is_refused(event):
    episode = run(activity(R.CLOSED, date(2026, 6, 3)))
    result = refused(apply(episode, event), RefusalCode.EPISODE_CLOSED)
    assert "closed on 2026-06-03" in result.message


def test_a_milestone_dated_before_the_referral_is_refused():
    result = refused(
        apply(run(), activity(R.CONTACTED, date(2026, 3, 1))), RefusalCode.MILESTONE_BEFORE_REFERRAL
    )
    assert "2026-03-01" in result.message


def test_first_contact_keeps_the_earliest_date():
    episode = run(activity(R.CONTACTED, date(2026, 3, 9)), activity(R.CONTACTED, date(2026, 3, 6)))
    assert episode.milestones.first_contact_on == date(2026, 3, 6)


@pytest.mark.parametrize(("first", "second"), [(R.COMPLETED, R.DROPPED_OUT), (R.DROPPED_OUT, R.COMPLETED)])
def test_an_episode_ends_only_once(first, second):
    episode = run(activity(first, date(2026, 5, 1), reason_code="moved_away"))
    refused(apply(episode, activity(second, date(2026, 5, 2))), RefusalCode.MILESTONE_ALREADY_ENDED)


def test_a_drop_out_keeps_its_reason():
    episode = run(activity(R.DROPPED_OUT, date(2026, 4, 1), reason_code="ill_health"))
    assert episode.milestones.dropped_out_on == date(2026, 4, 1)
    assert episode.milestones.drop_out_reason == "ill_health"


def test_acceptance_after_a_decline_moves_the_episode_to_the_accepting_provider():
    episode = run(
        activity(R.ACCEPTED, date(2026, 3, 3), provider_id="active-blaby"),
        activity(R.DECLINED, date(2026, 3, 4), provider_id="active-blaby"),
    )
    assert episode.milestones.accepted_on is None
    episode = run(activity(R.ACCEPTED, date(2026, 3, 6), provider_id="active-charnwood"), start=episode)
    assert episode.profile.provider_id == "active-charnwood"
    assert episode.milestones.accepted_on == date(2026, 3, 6)


def test_measures_recorded_without_measures_is_refused():
    refused(apply(run(), activity(R.MEASURES_RECORDED, date(2026, 3, 10))), RefusalCode.MEASURES_MISSING)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("wellbeing_swemwbs", 36),
        ("wellbeing_swemwbs", 6),
        ("mvpa_minutes_per_week", -1),
        ("mvpa_minutes_per_week", 10081),
        ("fear_of_falling_fes_i", 29),
        ("falls_count", 366),
    ],
)
def test_a_measure_out_of_its_range_is_refused_naming_the_field(field, value):
    # Measures read back without validation (model_construct) are checked again.
    measures = Measures.model_construct(timepoint=Timepoint.BASELINE, version=1, **{field: value})
    result = refused(
        apply(run(), activity(R.MEASURES_RECORDED, date(2026, 3, 10), measures=measures)),
        RefusalCode.MEASURES_OUT_OF_RANGE,
    )
    assert field in result.message


def test_a_measure_of_the_wrong_kind_is_refused_as_invalid():
    measures = Measures.model_construct(timepoint=Timepoint.BASELINE, version=1, activity_index="very active")
    refused(
        apply(run(), activity(R.MEASURES_RECORDED, date(2026, 3, 10), measures=measures)),
        RefusalCode.MEASURES_INVALID,
    )


def test_a_refused_measure_refuses_the_milestone_it_came_with():
    measures = Measures.model_construct(timepoint=Timepoint.WEEK_12, version=1, wellbeing_swemwbs=99)
    episode = run(measured(date(2026, 3, 10), Timepoint.BASELINE, wellbeing_swemwbs=20))
    refused(
        apply(episode, activity(R.COMPLETED, date(2026, 6, 1), measures=measures)),
        RefusalCode.MEASURES_OUT_OF_RANGE,
    )


@pytest.mark.parametrize("timepoint", [Timepoint.WEEK_12, Timepoint.MONTH_6, Timepoint.MONTH_12])
def test_a_follow_up_without_a_baseline_is_refused(timepoint):
    result = refused(
        apply(run(), measured(date(2026, 6, 1), timepoint, mvpa_minutes_per_week=90)),
        RefusalCode.FOLLOW_UP_BEFORE_BASELINE,
    )
    assert timepoint.value in result.message


def test_a_follow_up_dated_before_the_baseline_is_refused():
    episode = run(measured(date(2026, 3, 20), Timepoint.BASELINE, mvpa_minutes_per_week=30))
    result = refused(
        apply(episode, measured(date(2026, 3, 19), Timepoint.WEEK_12, mvpa_minutes_per_week=90)),
        RefusalCode.FOLLOW_UP_BEFORE_BASELINE,
    )
    assert "2026-03-20" in result.message


def test_a_correction_supersedes_and_the_earlier_version_stays_in_the_history():
    episode = run(
        measured(date(2026, 3, 10), Timepoint.BASELINE, mvpa_minutes_per_week=30, wellbeing_swemwbs=20),
        measured(date(2026, 3, 11), Timepoint.BASELINE, version=2, mvpa_minutes_per_week=60),
    )
    current = episode.current(Timepoint.BASELINE)
    assert current is not None
    assert (current.version, current.mvpa_minutes_per_week, current.wellbeing_swemwbs) == (2, 60, None)
    assert [r.measures.mvpa_minutes_per_week for r in episode.history(Timepoint.BASELINE)] == [30, 60]


def test_a_late_lower_version_is_kept_but_does_not_supersede():
    episode = run(
        measured(date(2026, 3, 10), Timepoint.BASELINE, version=3, mvpa_minutes_per_week=45),
        measured(date(2026, 3, 10), Timepoint.BASELINE, version=2, mvpa_minutes_per_week=20),
    )
    current = episode.current(Timepoint.BASELINE)
    assert current is not None
    assert current.mvpa_minutes_per_week == 45
    assert [r.measures.version for r in episode.history(Timepoint.BASELINE)] == [3, 2]


def test_a_correction_of_one_timepoint_leaves_the_others_alone():
    episode = run(
        measured(date(2026, 3, 10), Timepoint.BASELINE, activity_index=ActivityIndex.INACTIVE),
        measured(date(2026, 6, 1), Timepoint.WEEK_12, activity_index=ActivityIndex.ACTIVE),
        measured(
            date(2026, 6, 2), Timepoint.WEEK_12, version=2, activity_index=ActivityIndex.MODERATELY_ACTIVE
        ),
    )
    baseline, week_12 = episode.current(Timepoint.BASELINE), episode.current(Timepoint.WEEK_12)
    assert baseline is not None
    assert week_12 is not None
    assert baseline.activity_index is ActivityIndex.INACTIVE
    assert week_12.activity_index is ActivityIndex.MODERATELY_ACTIVE


def test_the_same_version_with_other_values_is_refused():
    episode = run(measured(date(2026, 3, 10), Timepoint.BASELINE, mvpa_minutes_per_week=30))
    result = refused(
        apply(episode, measured(date(2026, 3, 10), Timepoint.BASELINE, mvpa_minutes_per_week=31)),
        RefusalCode.VERSION_CONFLICT,
    )
    assert "higher version" in result.message


def test_the_same_version_with_the_same_values_under_a_new_event_id_adds_no_history():
    episode = run(measured(date(2026, 3, 10), Timepoint.BASELINE, mvpa_minutes_per_week=30))
    again = measured(date(2026, 3, 10), Timepoint.BASELINE, mvpa_minutes_per_week=30)
    after = ok(apply(episode, again))
    assert len(after.history(Timepoint.BASELINE)) == 1
    assert again.event_id in after.event_ids
