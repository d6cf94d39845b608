"""Episodes from the workflow's events in the real database: order, repeats, refusals, identifiers."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from referral_schemas.enums import ProviderResponseType

from .conftest import activity, delivered, triaged

pytestmark = pytest.mark.infra

DAY = date(2026, 3, 10)


async def test_a_placed_referral_opens_an_episode_that_follows_the_providers_steps(outcomes):
    rid = uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid))
    await outcomes.deliver(
        activity(rid, "accepted", DAY),
        activity(rid, "contacted", date(2026, 3, 12)),
        activity(rid, "enrolled", date(2026, 3, 20), sessions_offered=12),
    )
    episode = await outcomes.episode(rid)
    assert episode is not None
    assert episode.profile.provider_id == "leicester-city-leisure"
    m = episode.milestones
    assert (m.accepted_on, m.first_contact_on, m.enrolled_on) == (DAY, date(2026, 3, 12), date(2026, 3, 20))
    assert m.sessions_offered == 12
    [fact] = await outcomes.rows("SELECT uptake_n, uptake_d, time_to_first_contact_days_n FROM kpi_facts")
    assert tuple(fact) == (1, 1, 10)  # referred 2 March, first contact 12 March


async def test_steps_go_on_de_identified_keyed_by_the_episode_pseudonym(outcomes):
    rid = uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid), activity(rid, "accepted", DAY))
    [(key, recorded)] = await outcomes.outbox("outcome.recorded")
    assert key == recorded.data.episode_id == outcomes.keys.episode(rid)
    assert recorded.referral_id is None and recorded.causation_id is None
    assert str(rid) not in recorded.model_dump_json()
    assert recorded.data.milestone is ProviderResponseType.ACCEPTED
    assert (recorded.data.period, recorded.data.core20, recorded.data.imd_quintile) == ("2026-03", True, 1)


async def test_activity_before_the_episode_opens_is_parked_then_applied_in_order(outcomes):
    rid = uuid.uuid4()
    await outcomes.deliver(activity(rid, "accepted", DAY), activity(rid, "contacted", date(2026, 3, 11)))
    assert await outcomes.episode(rid) is None
    assert len(await outcomes.rows("SELECT * FROM parked")) == 2

    await outcomes.deliver(triaged(rid))
    episode = await outcomes.episode(rid)
    assert episode is not None
    assert (episode.milestones.accepted_on, episode.milestones.first_contact_on) == (DAY, date(2026, 3, 11))
    assert await outcomes.rows("SELECT * FROM parked") == []
    assert len(await outcomes.outbox("outcome.recorded")) == 2


async def test_a_delivery_before_the_decision_names_the_provider_of_the_episode(outcomes):
    rid = uuid.uuid4()
    await outcomes.deliver(delivered(rid, "active-rutland"))
    await outcomes.deliver(triaged(rid))
    episode = await outcomes.episode(rid)
    assert episode is not None and episode.profile.provider_id == "active-rutland"


async def test_after_a_decline_the_next_provider_to_receive_it_holds_the_episode(outcomes):
    rid = uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid, "active-rutland"))
    await outcomes.deliver(delivered(rid, "leicester-city-leisure"))
    await outcomes.deliver(activity(rid, "accepted", DAY))
    await outcomes.deliver(delivered(rid, "active-rutland"))  # accepted already: changes nothing
    episode = await outcomes.episode(rid)
    assert episode is not None and episode.profile.provider_id == "leicester-city-leisure"


async def test_a_redelivered_event_is_applied_once(outcomes):
    rid = uuid.uuid4()
    attended = activity(rid, "session_attended", DAY)
    await outcomes.deliver(triaged(rid), delivered(rid), activity(rid, "enrolled", DAY, sessions_offered=8))
    await outcomes.deliver(attended)
    await outcomes.deliver(attended)
    episode = await outcomes.episode(rid)
    assert episode is not None and episode.milestones.sessions_attended == 1
    assert len(await outcomes.outbox("outcome.recorded")) == 2


async def test_signposted_and_returned_referrals_open_no_episode(outcomes):
    rid = uuid.uuid4()
    await outcomes.deliver(
        triaged(rid, decision="signpost", programme=None, risk=None, signpost_to=["we_are_undefeatable"])
    )
    assert await outcomes.rows("SELECT * FROM episodes WHERE state IS NOT NULL") == []


async def test_a_follow_up_before_any_baseline_is_refused_and_kept_with_the_reason(outcomes):
    rid = uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid))
    follow_up = activity(
        rid, "measures_recorded", DAY, measures={"timepoint": "week_12", "mvpa_minutes_per_week": 150}
    )
    await outcomes.deliver(follow_up)
    [refusal] = await outcomes.rows("SELECT event_id, code, message, source FROM refusals")
    assert refusal["event_id"] == follow_up.event_id
    assert refusal["code"] == "measures.follow_up_before_baseline"
    assert "before any baseline" in refusal["message"]
    episode = await outcomes.episode(rid)
    assert episode is not None and episode.measure_history == ()
    assert await outcomes.outbox("outcome.recorded") == []


async def test_a_corrected_measure_is_a_new_version_and_the_first_is_kept(outcomes):
    rid = uuid.uuid4()
    baseline = {"timepoint": "baseline", "mvpa_minutes_per_week": 30, "activity_index": "inactive"}
    await outcomes.deliver(
        triaged(rid), delivered(rid), activity(rid, "measures_recorded", DAY, measures=baseline)
    )
    corrected = baseline | {"version": 2, "mvpa_minutes_per_week": 45}
    await outcomes.deliver(activity(rid, "measures_recorded", DAY, measures=corrected))
    episode = await outcomes.episode(rid)
    assert episode is not None
    assert [r.measures.mvpa_minutes_per_week for r in episode.measure_history] == [30, 45]


async def test_an_episode_for_a_child_is_refused_with_the_events_waiting_for_it(outcomes):
    rid = uuid.uuid4()
    await outcomes.deliver(activity(rid, "accepted", DAY))
    await outcomes.deliver(triaged(rid, **{"demographics.age_years": 12}))
    codes = [r["code"] for r in await outcomes.rows("SELECT code FROM refusals ORDER BY refused_at")]
    assert codes == ["profile.invalid", "profile.invalid"]
    assert await outcomes.rows("SELECT * FROM parked") == []
    assert await outcomes.episode(rid) is None


async def test_episode_pages_keep_room_for_the_next_version_of_their_rows(outcomes):
    # Each event rewrites its episode's row; free space in the page lets that stay in place.
    [(options,)] = await outcomes.rows("SELECT reloptions FROM pg_class WHERE oid = 'episodes'::regclass")
    assert "fillfactor=70" in options
