"""Episodes a process holds from its own last read or write (OUTCOMES_EPISODE_CACHE_SIZE): used
only while the stored version is the one it wrote or read."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

import pytest
from outcomes.adapters.episodes import EPISODE_JSON
from outcomes.adapters.unit_of_work import OutcomesUnitOfWork
from outcomes.service_layer.recording import handle_triaged
from servicekit.resilience import ConcurrentChange
from servicekit.testing import event_records

from .conftest import activity, delivered, triaged

pytestmark = pytest.mark.infra

DAY = date(2026, 3, 10)


async def test_an_episode_another_process_changed_is_read_again_not_taken_from_memory(
    outcomes, other_process
):
    rid = uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid), activity(rid, "accepted", DAY))
    # After a rebalance the other instance takes the next step of the same episode...
    records = event_records(outcomes.prefix, [activity(rid, "contacted", date(2026, 3, 12))], 100)
    await other_process.consumers[0].apply_batch(records)
    # ... and this one the step after, on top of it.
    await outcomes.deliver(activity(rid, "enrolled", date(2026, 3, 20), sessions_offered=12))

    episode = await outcomes.episode(rid)
    assert episode is not None
    m = episode.milestones
    assert (m.accepted_on, m.first_contact_on, m.enrolled_on) == (DAY, date(2026, 3, 12), date(2026, 3, 20))
    [fact] = await outcomes.rows("SELECT time_to_first_contact_days_n FROM kpi_facts")
    assert fact[0] == 10


async def test_a_step_refused_on_what_memory_held_is_decided_again_on_what_another_process_stored(
    outcomes, other_process
):
    rid = uuid.uuid4()
    await outcomes.deliver(
        triaged(rid),
        delivered(rid),
        activity(rid, "accepted", DAY),
        activity(rid, "contacted", date(2026, 3, 11)),
        activity(rid, "enrolled", date(2026, 3, 12), sessions_offered=12),
        activity(rid, "completed", date(2026, 6, 1)),
    )
    records = event_records(outcomes.prefix, [activity(rid, "closed", date(2026, 6, 2))], 100)
    await other_process.consumers[0].apply_batch(records)

    # In this process's memory the episode is completed, not closed: a drop-out would be refused
    # as a second ending. Stored, it is closed, which is the refusal that must be recorded.
    await outcomes.deliver(activity(rid, "dropped_out", date(2026, 6, 3)))
    assert [r["code"] for r in await outcomes.rows("SELECT code FROM refusals")] == ["episode.closed"]


async def test_an_episode_rewritten_elsewhere_is_never_overwritten_with_what_memory_held(
    outcomes, other_process
):
    rid = uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid), activity(rid, "accepted", DAY))
    episode_id = outcomes.keys.episode(rid)
    records = event_records(outcomes.prefix, [activity(rid, "contacted", date(2026, 3, 12))], 100)
    await other_process.consumers[0].apply_batch(records)

    # Taken from memory (accepted only) and changed: the write finds another version stored.
    async with outcomes.service.uow() as uow:
        assert isinstance(uow, OutcomesUnitOfWork)
        held = await uow.episodes.get(episode_id)
        assert held is not None and held.milestones.first_contact_on is None
        uow.episodes.save(
            dataclasses.replace(held, milestones=dataclasses.replace(held.milestones, assessed_on=DAY))
        )
        with pytest.raises(ConcurrentChange):
            await uow.commit()

    episode = await outcomes.episode(rid)
    assert episode is not None
    assert (episode.milestones.first_contact_on, episode.milestones.assessed_on) == (date(2026, 3, 12), None)
    # Forgotten: the next unit of work reads what is stored.
    async with outcomes.service.uow() as uow:
        assert isinstance(uow, OutcomesUnitOfWork)
        again = await uow.episodes.get(episode_id)
    assert again is not None and again.milestones.first_contact_on == date(2026, 3, 12)


class Boom(Exception):
    pass


async def fail_after_the_episodes_are_written(conn) -> None:
    raise Boom


async def test_a_write_rolled_back_is_not_taken_for_what_is_stored(outcomes):
    rid = uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid), activity(rid, "accepted", DAY))
    episode_id = outcomes.keys.episode(rid)

    with pytest.raises(Boom):
        async with outcomes.service.uow() as uow:
            assert isinstance(uow, OutcomesUnitOfWork)
            held = await uow.episodes.get(episode_id)
            assert held is not None
            moved = dataclasses.replace(
                held, milestones=dataclasses.replace(held.milestones, accepted_on=None)
            )
            uow.episodes.save(moved)
            uow.on_flush(fail_after_the_episodes_are_written)
            await uow.commit()

    async with outcomes.service.uow() as uow:
        assert isinstance(uow, OutcomesUnitOfWork)
        again = await uow.episodes.get(episode_id)
    assert again is not None and again.milestones.accepted_on == DAY


async def test_a_state_written_by_hand_clears_the_version_and_is_read_by_the_next_batch(outcomes):
    rid = uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid), activity(rid, "accepted", DAY))
    episode_id = outcomes.keys.episode(rid)
    stored = await outcomes.episode(rid)
    assert stored is not None
    repaired = dataclasses.replace(
        stored, milestones=dataclasses.replace(stored.milestones, accepted_on=date(2026, 3, 9))
    )
    async with outcomes.service.pool.acquire() as conn:
        await conn.execute(
            "UPDATE episodes SET state = $2 WHERE episode_id = $1",
            episode_id,
            EPISODE_JSON.dump_json(repaired).decode(),
        )
        assert await conn.fetchval("SELECT version FROM episodes WHERE episode_id = $1", episode_id) is None

    await outcomes.deliver(activity(rid, "contacted", date(2026, 3, 12)))
    episode = await outcomes.episode(rid)
    assert episode is not None
    assert (episode.milestones.accepted_on, episode.milestones.first_contact_on) == (
        date(2026, 3, 9),
        date(2026, 3, 12),
    )


async def test_an_episode_held_from_a_rolled_back_opening_is_not_taken_as_stored(outcomes):
    rid = uuid.uuid4()
    episode_id = outcomes.keys.episode(rid)

    with pytest.raises(Boom):
        async with outcomes.service.uow() as uow:
            assert isinstance(uow, OutcomesUnitOfWork)
            await handle_triaged(triaged(rid), uow, outcomes.keys)
            uow.on_flush(fail_after_the_episodes_are_written)
            await uow.commit()
    assert await outcomes.rows("SELECT 1 FROM episodes WHERE episode_id = $1", episode_id) == []

    # Held in memory from the write that was rolled back, stored nowhere: the step waits for
    # the episode to open, and is applied when it does.
    await outcomes.deliver(activity(rid, "accepted", DAY))
    assert await outcomes.episode(rid) is None
    assert len(await outcomes.rows("SELECT 1 FROM parked WHERE episode_id = $1", episode_id)) == 1

    await outcomes.deliver(triaged(rid))
    episode = await outcomes.episode(rid)
    assert episode is not None and episode.milestones.accepted_on == DAY
    assert await outcomes.rows("SELECT 1 FROM parked") == []
