"""Capacity is reserved atomically: concurrent triage instances never over-fill a provider."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from servicekit.resilience import is_transient
from triage.adapters.capacity import CapacityTaken
from triage.adapters.unit_of_work import TriageUnitOfWork
from triage.directory.load import default_directory

pytestmark = pytest.mark.infra

KEY = ("melton-referral", "steady_steps", "2026-03")  # 150 places a month in the directory
NEXT = ("charnwood-referral", "steady_steps", "2026-03")  # 400


@dataclass(eq=False)
class Referral:
    """A reservation's holder: its options, best first, and where the ledger moved it."""

    options: list[tuple[str, str, str]]
    moves: list[tuple[str, str, str] | None] = field(default_factory=list)
    movable: bool = True

    def moved(self, to: tuple[str, str, str] | None) -> None:
        self.moves.append(to)


async def reserved(pool, key=KEY) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT coalesce((SELECT reserved FROM capacity"
            " WHERE service_id = $1 AND programme = $2 AND period = $3), 0)",
            *key,
        )


async def leave_places(pool, key, places: int) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE capacity SET reserved = capacity - $4"
            " WHERE service_id = $1 AND programme = $2 AND period = $3",
            *key,
            places,
        )


async def test_concurrent_instances_never_reserve_more_than_the_capacity(triage_pool):
    directory = default_directory()
    capacity = directory.services[[s.id for s in directory.services].index(KEY[0])].monthly_capacity
    places = capacity[next(p for p in capacity if p.value == KEY[1])]

    async def instance(wanted: int) -> int:
        granted = 0
        for _ in range(wanted // 10):
            while True:
                try:
                    async with TriageUnitOfWork(triage_pool) as uow:
                        await uow.capacity.load(directory, [KEY])
                        batch = sum(uow.capacity.try_reserve(KEY) for _ in range(10))
                        await asyncio.sleep(0.01)  # deciding, while the other instances reserve
                        await uow.commit()
                except CapacityTaken:
                    continue  # as the consumer does: the batch again, on fresh figures
                granted += batch
                break
        return granted

    results = await asyncio.gather(*(instance(100) for _ in range(4)))
    assert sum(results) == places
    assert await reserved(triage_pool) == places


async def test_places_another_instance_took_after_they_were_read_fail_the_batch_at_commit(triage_pool):
    directory = default_directory()
    async with TriageUnitOfWork(triage_pool) as uow:
        await uow.capacity.load(directory, [KEY])  # writes the row
        await uow.commit()
    async with triage_pool.acquire() as conn:
        places = await conn.fetchval(
            "UPDATE capacity SET reserved = capacity - 1"
            " WHERE service_id = $1 AND programme = $2 AND period = $3 RETURNING capacity",
            *KEY,
        )
    async with TriageUnitOfWork(triage_pool) as late:
        await late.capacity.load(directory, [KEY])
        assert late.capacity.try_reserve(KEY)  # the last place, as read
        async with TriageUnitOfWork(triage_pool) as first:
            await first.capacity.load(directory, [KEY])
            assert first.capacity.try_reserve(KEY)
            await first.commit()
        with pytest.raises(CapacityTaken) as taken:
            await late.commit()
    assert taken.value.keys == [KEY]
    assert is_transient(taken.value)  # so the consumer applies the batch again rather than failing it
    assert await reserved(triage_pool) == places


async def test_a_released_place_can_be_reserved_again_and_a_rollback_reserves_nothing(triage_pool):
    directory = default_directory()
    async with TriageUnitOfWork(triage_pool) as uow:
        await uow.capacity.load(directory, [KEY])
        assert uow.capacity.try_reserve(KEY)
        # no commit: rolled back
    assert await reserved(triage_pool) == 0
    async with TriageUnitOfWork(triage_pool) as uow:
        await uow.capacity.load(directory, [KEY])
        assert uow.capacity.try_reserve(KEY)
        assert uow.capacity.try_reserve(KEY)
        uow.capacity.release(KEY)
        await uow.commit()
    assert await reserved(triage_pool) == 1


async def test_a_service_missing_from_the_directory_has_no_room(triage_pool):
    directory = default_directory()
    gone = ("closed-down-centre", "steady_steps", "2026-03")
    async with TriageUnitOfWork(triage_pool) as uow:
        await uow.capacity.load(directory, [gone])
        assert not uow.capacity.try_reserve(gone)


async def with_places_left(pool, left: dict[tuple[str, str, str], int]) -> None:
    """Capacity rows written for the keys of `left`, each with that many places still free."""
    async with TriageUnitOfWork(pool) as uow:
        await uow.capacity.load(default_directory(), list(left))
        await uow.commit()
    for key, places in left.items():
        await leave_places(pool, key, places)


async def another_instance_takes_one(pool, key) -> None:
    async with TriageUnitOfWork(pool) as other:
        await other.capacity.load(default_directory(), [key])
        assert other.capacity.try_reserve(key)
        await other.commit()


async def test_a_place_taken_meanwhile_moves_its_holder_to_the_next_option_with_room(triage_pool):
    directory = default_directory()
    await with_places_left(triage_pool, {KEY: 2, NEXT: 1})
    first, second = Referral([KEY, NEXT]), Referral([KEY, NEXT])
    async with TriageUnitOfWork(triage_pool) as late:
        await late.capacity.load(directory, [KEY, NEXT])
        assert late.capacity.try_reserve(KEY, first)
        assert late.capacity.try_reserve(KEY, second)  # the last two places, as read
        await another_instance_takes_one(triage_pool, KEY)
        await late.commit()  # no CapacityTaken: the batch stands
    # The later reservation is the one moved, to the next option; the first keeps its place.
    assert (first.moves, second.moves) == ([], [NEXT])
    assert await reserved(triage_pool, KEY) == await capacity_of(triage_pool, KEY)
    assert await reserved(triage_pool, NEXT) == await capacity_of(triage_pool, NEXT)


async def test_a_holder_with_no_option_left_is_moved_to_none_and_reserves_nothing(triage_pool):
    directory = default_directory()
    await with_places_left(triage_pool, {KEY: 1, NEXT: 0})
    holder = Referral([NEXT, KEY])
    async with TriageUnitOfWork(triage_pool) as late:
        await late.capacity.load(directory, [KEY, NEXT])
        assert late.capacity.try_reserve(KEY, holder)
        await another_instance_takes_one(triage_pool, KEY)
        await late.commit()
    assert holder.moves == [None]
    assert await reserved(triage_pool, KEY) == await capacity_of(triage_pool, KEY)
    assert await reserved(triage_pool, NEXT) == await capacity_of(triage_pool, NEXT)


async def test_an_option_another_instance_holds_locked_fails_the_batch_rather_than_wait(triage_pool):
    directory = default_directory()
    await with_places_left(triage_pool, {KEY: 1})
    holder = Referral([KEY, NEXT])
    async with TriageUnitOfWork(triage_pool) as late:
        await late.capacity.load(directory, [KEY])
        assert late.capacity.try_reserve(KEY, holder)
        await another_instance_takes_one(triage_pool, KEY)
        async with triage_pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT 1 FROM capacity WHERE service_id = $1 AND programme = $2 AND period = $3 FOR UPDATE",
                *NEXT,
            )  # another instance settling, holding the next option's row
            with pytest.raises(CapacityTaken) as taken:
                await late.commit()
    assert taken.value.keys == [KEY]
    assert holder.moves == []
    assert await reserved(triage_pool, KEY) == await capacity_of(triage_pool, KEY)
    assert await reserved(triage_pool, NEXT) == 0


async def capacity_of(pool, key) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT capacity FROM capacity WHERE service_id = $1 AND programme = $2 AND period = $3", *key
        )


async def test_a_taken_place_whose_holder_cannot_move_fails_the_batch(triage_pool):
    directory = default_directory()
    await with_places_left(triage_pool, {KEY: 1})
    holder = Referral([KEY, NEXT], movable=False)  # e.g. cancelled later in the same batch
    async with TriageUnitOfWork(triage_pool) as late:
        await late.capacity.load(directory, [KEY, NEXT])
        assert late.capacity.try_reserve(KEY, holder)
        await another_instance_takes_one(triage_pool, KEY)
        with pytest.raises(CapacityTaken):
            await late.commit()
    assert holder.moves == []
    assert await reserved(triage_pool, NEXT) == 0
