"""Deciding and placing through the real consumer pipeline and database."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import yaml
from referral_schemas import new_envelope
from referral_schemas.enums import ReferralStatus
from referral_schemas.events.assignment import AssignmentDeclined, AssignmentExpired
from referral_schemas.events.referral import ReferralStatusChanged
from referral_schemas.registry import AssignmentDeclinedV1, AssignmentExpiredV1, ReferralStatusV1
from triage.adapters.capacity import CapacityLedger
from triage.directory.load import PACKAGED
from triage.directory.model import Directory

pytestmark = pytest.mark.infra


def kinds(events):
    return [e.event_type for e in events]


def declined(cause, assignment, code="no_capacity"):
    data = AssignmentDeclined(
        assignment_id=assignment.data.assignment_id, provider_id=assignment.data.provider_id, reason_code=code
    )
    return new_envelope(AssignmentDeclinedV1, data, producer="provider-notify", referral_id=cause.referral_id)


async def test_an_accepted_referral_is_triaged_and_assigned_to_a_local_provider(triage, make_accepted):
    event = make_accepted()
    await triage.deliver(event)
    out = await triage.outbox(event.referral_id)
    assert kinds(out) == ["referral.triaged", "assignment.created"]
    triaged, assignment = out
    assert triaged.data.decision.value == "assign"
    assert triaged.correlation_id == event.correlation_id
    assert assignment.data.programme is triaged.data.programme
    assert assignment.data.service_id == "active-leicester-referral"  # the example lives in Leicester
    assert assignment.data.fallback_district is None
    assert assignment.data.contact == event.data.contact
    # Prioritised (carer, South Asian, hypertension): 5 working days from the fixed clock's Monday.
    assert assignment.data.contact_deadline == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    assert await triage.reserved("active-leicester-referral", "exercise_referral") == 1


async def test_a_redelivered_or_older_revision_changes_nothing(triage, make_accepted):
    event = make_accepted()
    await triage.deliver(event)
    await triage.deliver(event)
    assert len(await triage.outbox(event.referral_id)) == 2
    assert await triage.reserved("active-leicester-referral", "exercise_referral") == 1


async def test_a_decline_gives_the_place_back_and_places_the_referral_elsewhere(triage, make_accepted):
    event = make_accepted()
    await triage.deliver(event)
    first = (await triage.outbox(event.referral_id))[1]
    await triage.deliver(declined(event, first))
    out = await triage.outbox(event.referral_id)
    assert kinds(out) == ["referral.triaged", "assignment.created", "assignment.created"]
    second = out[2].data
    assert second.attempt == 2
    assert second.reassigned_from == first.data.assignment_id
    assert second.service_id != first.data.service_id
    assert second.fallback_district is not None  # the only Leicester service declined: a neighbour's
    assert await triage.reserved(first.data.service_id, "exercise_referral") == 0
    assert await triage.reserved(second.service_id, "exercise_referral") == 1
    await triage.deliver(declined(event, first))  # the same decline again: nothing more
    assert len(await triage.outbox(event.referral_id)) == 3
    assert await placements_without_their_referral(triage) == 0


async def test_an_expired_assignment_is_placed_again(triage, make_accepted):
    event = make_accepted()
    await triage.deliver(event)
    first = (await triage.outbox(event.referral_id))[1]
    data = AssignmentExpired(
        assignment_id=first.data.assignment_id,
        provider_id=first.data.provider_id,
        contact_deadline=first.data.contact_deadline,
        expired_at=first.data.contact_deadline,
    )
    await triage.deliver(
        new_envelope(AssignmentExpiredV1, data, producer="provider-notify", referral_id=event.referral_id)
    )
    out = await triage.outbox(event.referral_id)
    assert out[-1].event_type == "assignment.created"
    assert out[-1].data.attempt == 2


async def test_a_cancellation_gives_the_place_back_and_stops_placing(triage, make_accepted):
    event = make_accepted()
    await triage.deliver(event)
    first = (await triage.outbox(event.referral_id))[1]
    status = ReferralStatusChanged(
        source_system=event.data.source_system,
        source_referral_id=event.data.source_referral_id,
        status=ReferralStatus.CANCELLED,
    )
    await triage.deliver(
        new_envelope(ReferralStatusV1, status, producer="referral-intake", referral_id=event.referral_id)
    )
    assert await triage.reserved(first.data.service_id, "exercise_referral") == 0
    await triage.deliver(declined(event, first))
    assert len(await triage.outbox(event.referral_id)) == 2  # nothing placed after the cancellation


async def test_a_district_without_the_programme_falls_back_to_the_nearest_neighbour(triage, make_accepted):
    event = make_accepted(**{"residence.district": "rutland", "requested_programme": "escape_pain"})
    await triage.deliver(event)
    assignment = (await triage.outbox(event.referral_id))[1].data
    assert assignment.programme.value == "escape_pain"
    assert assignment.fallback_district is not None
    assert assignment.fallback_district.value != "rutland"


async def test_with_no_room_anywhere_the_referral_goes_back_to_the_referrer(
    make_triage, make_accepted, tmp_path
):
    import importlib.resources

    source = importlib.resources.files("triage.directory") / PACKAGED
    doc = yaml.safe_load(source.read_text())
    for service in doc["services"]:
        service["monthly_capacity"] = dict.fromkeys(service["monthly_capacity"], 0)
    full = tmp_path / "full.yaml"
    full.write_text(yaml.safe_dump(doc))
    Directory.model_validate(doc)
    triage = await make_triage(directory_file=str(full))
    event = make_accepted()
    await triage.deliver(event)
    out = await triage.outbox(event.referral_id)
    assert kinds(out) == ["referral.triaged"]
    assert out[0].data.decision.value == "return_to_referrer"
    assert out[0].data.reasons[-1].code == "placement.no_capacity"


async def test_the_directory_is_served_in_hsds_shape(triage):
    transport = httpx.ASGITransport(app=triage.service.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://triage") as client:
        services = (await client.get("/services", params={"programme": "steady_steps"})).json()
        organizations = (await client.get("/organizations")).json()
        one = await client.get("/services/melton-referral")
        missing = await client.get("/services/nope")
    assert services["total_items"] == len(services["contents"]) > 0
    assert all(
        {"taxonomy": "programme", "term": "steady_steps"} in s["attributes"] for s in services["contents"]
    )
    assert {o["id"] for o in organizations["contents"]} >= {"active-rutland", "active-leicester"}
    assert one.json()["service_areas"] == [
        {"service_area": "melton", "extent_type": "local_authority_district"}
    ]
    assert missing.status_code == 404


async def test_two_instances_placing_at_once_never_overfill_a_provider(make_triage, make_accepted, tmp_path):
    import asyncio
    import importlib.resources

    doc = yaml.safe_load((importlib.resources.files("triage.directory") / PACKAGED).read_text())
    for service in doc["services"]:
        service["monthly_capacity"] = dict.fromkeys(service["monthly_capacity"], 0)
        if service["id"] == "melton-referral":
            service["monthly_capacity"]["steady_steps"] = 10
    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump(doc))
    first = await make_triage(directory_file=str(small))
    second = await make_triage(fresh=False, directory_file=str(small))  # same schema, own pool
    second.offset = 10_000
    events = [
        make_accepted(
            **{
                "residence.district": "melton",
                "requested_programme": "steady_steps",
                "demographics.age_years": 80,
            }
        )
        for _ in range(40)
    ]
    halves = [events[i::2] for i in range(2)]

    async def run(instance, batch):
        for i in range(0, len(batch), 5):
            await instance.deliver(*batch[i : i + 5])

    await asyncio.gather(run(first, halves[0]), run(second, halves[1]))
    assignments = [
        e for ev in events for e in await first.outbox(ev.referral_id) if e.event_type == "assignment.created"
    ]
    returned = [
        e
        for ev in events
        for e in await first.outbox(ev.referral_id)
        if e.event_type == "referral.triaged" and e.data.decision.value == "return_to_referrer"
    ]
    assert len(assignments) == 10
    assert len(returned) == 30
    assert await first.reserved("melton-referral", "steady_steps") == 10
    assert await placements_without_their_referral(first) == 0


async def placements_without_their_referral(triage) -> int:
    """Placements whose referral row is missing (no foreign key stops one: see migration 0004)."""
    async with triage.service.pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM placements p"
            " WHERE NOT EXISTS (SELECT 1 FROM referrals r WHERE r.referral_id = p.referral_id)"
        )


MELTON_STEADY_STEPS = {
    "residence.district": "melton",
    "requested_programme": "steady_steps",
    "demographics.age_years": 80,
}


async def placements_of(triage, referral_id):
    async with triage.service.pool.acquire() as conn:
        return await conn.fetch(
            "SELECT service_id, state FROM placements WHERE referral_id = $1", referral_id
        )


async def melton_steady_steps_with_places_left(triage, make_accepted, places, *, elsewhere=None) -> None:
    """Steady Steps capacity rows written for every option of a Melton patient (by placing one),
    then `places` left at Melton and, unless None, `elsewhere` left at every other service."""
    await triage.deliver(make_accepted(**MELTON_STEADY_STEPS))
    async with triage.service.pool.acquire() as conn:
        await conn.execute(
            "UPDATE capacity SET reserved = capacity - $1"
            " WHERE service_id = 'melton-referral' AND programme = 'steady_steps'",
            places,
        )
        if elsewhere is not None:
            await conn.execute(
                "UPDATE capacity SET reserved = capacity - $1"
                " WHERE service_id <> 'melton-referral' AND programme = 'steady_steps'",
                elsewhere,
            )


def before_the_first_settlement(monkeypatch, act) -> list[int]:
    """Runs `act()` (another instance's work, on its own connection) just before the next batch
    settles its capacity. Returns the count of settlements, to tell a batch applied again (two)
    from one settled in place (one)."""
    real = CapacityLedger.settle
    settled: list[int] = []

    async def settle(self, conn):
        if not settled:
            await act()
        settled.append(1)
        await real(self, conn)

    monkeypatch.setattr(CapacityLedger, "settle", settle)
    return settled


def another_instance_takes_the_last_melton_place_before_commit(triage, monkeypatch, places=1) -> list[int]:
    async def take() -> None:
        async with triage.service.pool.acquire() as other:
            await other.execute(
                "UPDATE capacity SET reserved = reserved + $1"
                " WHERE service_id = 'melton-referral' AND programme = 'steady_steps'",
                places,
            )

    return before_the_first_settlement(monkeypatch, take)


async def test_a_referral_whose_place_was_taken_meanwhile_goes_to_its_next_option(
    triage, make_accepted, monkeypatch
):
    await melton_steady_steps_with_places_left(triage, make_accepted, 1)
    event, neighbour_first = make_accepted(**MELTON_STEADY_STEPS), make_accepted()
    settled = another_instance_takes_the_last_melton_place_before_commit(triage, monkeypatch)
    await triage.deliver(event, neighbour_first)
    assert len(settled) == 1  # moved at commit, not the batch applied again
    out = await triage.outbox(event.referral_id)
    assert kinds(out) == ["referral.triaged", "assignment.created"]
    assert out[0].data.decision.value == "assign"
    assignment = out[1].data
    assert assignment.service_id != "melton-referral"
    assert assignment.fallback_district is not None
    assert [tuple(p) for p in await placements_of(triage, event.referral_id)] == [
        (assignment.service_id, "open")
    ]
    assert await triage.reserved(assignment.service_id, "steady_steps") == 1
    assert (await triage.held(event.referral_id))[0] == "placing"
    assert await placements_without_their_referral(triage) == 0
    # The rest of the batch stands as it was decided, applied once.
    assert kinds(await triage.outbox(neighbour_first.referral_id)) == [
        "referral.triaged",
        "assignment.created",
    ]
    async with triage.service.pool.acquire() as conn:
        melton = await conn.fetchrow(
            "SELECT capacity, reserved FROM capacity"
            " WHERE service_id = 'melton-referral' AND programme = 'steady_steps'"
        )
    assert melton["reserved"] == melton["capacity"]


async def test_a_referral_whose_last_possible_place_was_taken_meanwhile_goes_back_to_the_referrer(
    triage, make_accepted, monkeypatch
):
    await melton_steady_steps_with_places_left(triage, make_accepted, 1, elsewhere=0)
    event = make_accepted(**MELTON_STEADY_STEPS)
    settled = another_instance_takes_the_last_melton_place_before_commit(triage, monkeypatch)
    await triage.deliver(event)
    assert len(settled) == 1
    out = await triage.outbox(event.referral_id)
    assert kinds(out) == ["referral.triaged"]
    assert out[0].data.decision.value == "return_to_referrer"
    assert out[0].data.reasons[-1].code == "placement.no_capacity"
    assert await placements_of(triage, event.referral_id) == []
    assert await triage.held(event.referral_id) == ("unplaced", None)


async def test_a_taken_place_of_a_referral_cancelled_later_in_the_batch_is_not_moved_but_the_batch_redone(
    triage, make_accepted, monkeypatch
):
    await melton_steady_steps_with_places_left(triage, make_accepted, 2)
    kept, cancelled = make_accepted(**MELTON_STEADY_STEPS), make_accepted(**MELTON_STEADY_STEPS)
    status = ReferralStatusChanged(
        source_system=cancelled.data.source_system,
        source_referral_id=cancelled.data.source_referral_id,
        status=ReferralStatus.CANCELLED,
    )
    cancel = new_envelope(
        ReferralStatusV1, status, producer="referral-intake", referral_id=cancelled.referral_id
    )
    settled = another_instance_takes_the_last_melton_place_before_commit(triage, monkeypatch, places=2)
    await triage.deliver(kept, cancelled, cancel)
    assert len(settled) == 2  # the taken place was the cancelled referral's: applied again
    assert [p["state"] for p in await placements_of(triage, cancelled.referral_id)] == ["cancelled"]
    assert (await triage.held(cancelled.referral_id))[0] == "cancelled"
    moved = (await triage.outbox(kept.referral_id))[1].data
    assert moved.service_id != "melton-referral"
    assert [tuple(p) for p in await placements_of(triage, kept.referral_id)] == [(moved.service_id, "open")]


async def test_a_new_referral_another_instance_stored_meanwhile_is_applied_alone_and_changes_nothing(
    triage, make_accepted, monkeypatch
):
    """A rebalance could let a second instance store a referral this batch found absent: its
    rows are written by COPY, which the key then refuses, and the event applied alone sees it."""
    event, other = make_accepted(), make_accepted()

    async def store() -> None:
        async with triage.service.pool.acquire() as elsewhere:
            await elsewhere.execute(
                "INSERT INTO referrals (referral_id, revision, state, decision) VALUES ($1, $2, 'placing', '{}')",
                event.referral_id,
                event.data.revision,
            )

    before_the_first_settlement(monkeypatch, store)
    await triage.deliver(event, other)
    assert await triage.outbox(event.referral_id) == []  # the other instance's decision stands
    assert kinds(await triage.outbox(other.referral_id)) == ["referral.triaged", "assignment.created"]
    async with triage.service.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM inbox") == 2
