"""A provider lists its own assignments over HTTP, against the real database: only its own, newest
first, filtered by stage and arrival, paged by cursor (every assignment once, ties included)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from provider_notify.service_layer.deadlines import expire_due
from referral_schemas import dump_event, new_envelope, topic_for
from referral_schemas.examples import example
from servicekit.testing import consumer_record

pytestmark = pytest.mark.infra

LIST = "/providers/{}/assignments"
SUMMARY = {
    "assignment_id",
    "referral_id",
    "programme",
    "stage",
    "delivery_state",
    "contact_deadline",
    "arrived_at",
    "delivered_at",
    "reminded_at",
    "withdrawal",
}


def auth(provider):
    return {"Authorization": f"Bearer {provider}-token"}  # as conftest's `api` keys them


_offset = iter(range(1, 1_000_000))


async def arrive(service, prefix, count=1, provider_id="active-blaby", deadline_days=30):
    """`count` assignments for `provider_id` taken in as one batch, so in one transaction: they
    share their arrival time. Returns their events."""
    template = example("assignment.created")
    deadline = datetime.now(UTC) + timedelta(days=deadline_days)
    events = []
    for _ in range(count):
        data = template.data.model_copy(
            update={"provider_id": provider_id, "assignment_id": uuid.uuid4(), "contact_deadline": deadline}
        )
        events.append(new_envelope(type(template), data, producer="triage", referral_id=uuid.uuid4()))
    topic = prefix + topic_for("assignment.created")
    records = [consumer_record(topic, dump_event(e), key=b"k", offset=next(_offset)) for e in events]
    await service.consumers[0].apply_batch(records)
    return events


def ids(events):
    return [str(e.data.assignment_id) for e in events]


async def newest_first(service, provider_id="active-blaby"):
    """The provider's assignment ids in the list's order, read straight from the table."""
    async with service.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT assignment_id FROM assignments WHERE provider_id = $1"
            " ORDER BY created_at DESC, assignment_id DESC",
            provider_id,
        )
    return [str(r["assignment_id"]) for r in rows]


async def listed(client, provider="active-blaby", **params):
    got = await client.get(LIST.format(provider), params=params, headers=auth(provider))
    assert got.status_code == 200, got.text
    return got.json()


async def answer(client, event, kind, **extra):
    body = {
        "response_id": f"r-{uuid.uuid4().hex[:8]}",
        "assignment_id": str(event.data.assignment_id),
        "provider_id": event.data.provider_id,
        "response": kind,
        "recorded_at": datetime.now(UTC).isoformat(),
        **extra,
    }
    got = await client.post(
        f"/providers/{event.data.provider_id}/responses", json=body, headers=auth(event.data.provider_id)
    )
    assert got.status_code == 200, got.text


async def test_a_provider_lists_only_its_own_assignments_newest_first_without_patient_details(api):
    service, client, prefix = api
    older = await arrive(service, prefix, 2)
    newer = await arrive(service, prefix, 1)
    theirs = await arrive(service, prefix, 1, provider_id="active-rutland")

    page = await listed(client)

    listed_ids = [a["assignment_id"] for a in page["assignments"]]
    assert listed_ids == await newest_first(service)
    assert set(listed_ids) == set(ids(older + newer))
    assert listed_ids[0] == ids(newer)[0]  # the later batch first
    assert ids(theirs)[0] not in listed_ids
    assert page["next"] is None
    first = page["assignments"][0]
    assert set(first) == SUMMARY
    assert (first["referral_id"], first["programme"], first["stage"], first["delivery_state"]) == (
        str(newer[0].referral_id),
        newer[0].data.programme.value,
        "pending",
        "delivered",
    )
    assert first["arrived_at"] >= page["assignments"][-1]["arrived_at"]
    assert datetime.fromisoformat(first["contact_deadline"]) == newer[0].data.contact_deadline
    assert (first["reminded_at"], first["withdrawal"]) == (None, None)
    # The single view keeps the patient: nothing of the contact details is in the list.
    text = json.dumps(page)
    contact = newer[0].data.contact
    assert "contact" not in first
    for detail in (contact.nhs_number, contact.family_name, contact.postcode, contact.phone):
        assert detail not in text
    # The other provider sees its own alone.
    rutland = await listed(client, "active-rutland")
    assert [a["assignment_id"] for a in rutland["assignments"]] == ids(theirs)


async def test_the_list_is_filtered_by_stage_one_or_several_repeated_or_comma_separated(api):
    service, client, prefix = api
    accepted = (await arrive(service, prefix, 1))[0]
    declined = (await arrive(service, prefix, 1))[0]
    pending = (await arrive(service, prefix, 1))[0]
    expiring = (await arrive(service, prefix, 1, deadline_days=1))[0]
    await answer(client, accepted, "accepted")
    await answer(client, declined, "declined", reason_code="no_capacity", reason="Full until April")
    assert await expire_due(service.uow, datetime.now(UTC) + timedelta(days=2)) == 1  # `expiring` only

    def stages_of(page):
        return {a["assignment_id"]: a["stage"] for a in page["assignments"]}

    everything = stages_of(await listed(client))
    assert everything == {
        str(accepted.data.assignment_id): "accepted",
        str(declined.data.assignment_id): "declined",
        str(pending.data.assignment_id): "pending",
        str(expiring.data.assignment_id): "expired",
    }
    assert list(stages_of(await listed(client, stage="pending"))) == ids([pending])
    repeated = await client.get(
        LIST.format("active-blaby") + "?stage=accepted&stage=declined", headers=auth("active-blaby")
    )
    assert set(stages_of(repeated.json()).values()) == {"accepted", "declined"}
    comma = await listed(client, stage="expired,accepted")
    assert [a["assignment_id"] for a in comma["assignments"]] == ids([expiring, accepted])  # newest first
    assert (await listed(client, stage="cancelled"))["assignments"] == []
    # The expired one shows its withdrawal, in summary.
    withdrawn = comma["assignments"][0]["withdrawal"]
    assert (withdrawn["reason"], withdrawn["stage_reached"]) == ("expired", None)
    assert datetime.fromisoformat(withdrawn["withdrawn_at"])


async def test_the_list_is_filtered_by_arrival_at_or_after_since(api):
    service, client, prefix = api
    march = [(await arrive(service, prefix, 1))[0] for _ in range(3)]
    async with service.pool.acquire() as conn:  # arrivals on three days in March, 09:00 UTC
        for day, event in enumerate(march, start=1):
            await conn.execute(
                "UPDATE assignments SET created_at = $1 WHERE assignment_id = $2",
                datetime(2026, 3, day, 9, tzinfo=UTC),
                event.data.assignment_id,
            )

    def listed_ids(page):
        return [a["assignment_id"] for a in page["assignments"]]

    from_the_2nd = await listed(client, since="2026-03-02T09:00:00Z")  # at or after: the 2nd included
    assert listed_ids(from_the_2nd) == ids([march[2], march[1]])
    assert from_the_2nd["assignments"][1]["arrived_at"] == "2026-03-02T09:00:00+00:00"
    same_instant_in_bst = await listed(client, since="2026-03-02T10:00:00+01:00")
    assert listed_ids(same_instant_in_bst) == ids([march[2], march[1]])
    assert listed_ids(await listed(client, since="2026-03-02T09:00:00.000001Z")) == ids([march[2]])
    assert listed_ids(await listed(client, since="2026-04-01T00:00:00Z")) == []


async def test_pages_walk_every_assignment_exactly_once_even_across_a_shared_arrival_time(api):
    service, client, prefix = api
    tied = await arrive(service, prefix, 7)  # one transaction: seven share one arrival time
    for _ in range(3):
        await arrive(service, prefix, 1)
    await arrive(service, prefix, 2, provider_id="active-rutland")
    expected = await newest_first(service)
    assert len(expected) == 10

    seen, pages, cursor = [], [], None
    while True:
        params = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        page = await listed(client, **params)
        pages.append(page["assignments"])
        seen += [a["assignment_id"] for a in page["assignments"]]
        if len(pages) == 1:  # a newer assignment arriving mid-walk moves nothing on later pages
            await arrive(service, prefix, 1)
        cursor = page["next"]
        if cursor is None:
            break

    assert seen == expected
    assert [len(p) for p in pages] == [3, 3, 3, 1]
    tied_times = {a["arrived_at"] for p in pages for a in p if a["assignment_id"] in ids(tied)}
    assert len(tied_times) == 1
    # The seven tied ones span three pages: the cursor carries the id as well as the time.
    assert sum(1 for p in pages if any(a["assignment_id"] in ids(tied) for a in p)) == 3
    # Filters hold across pages when sent again with the cursor.
    first = await listed(client, stage="pending", limit="8")
    rest = await listed(client, stage="pending", limit="8", cursor=first["next"])
    assert [a["assignment_id"] for a in first["assignments"] + rest["assignments"]] == (
        await newest_first(service)
    )
    assert rest["next"] is None


async def test_another_providers_list_is_refused(api):
    service, client, prefix = api
    await arrive(service, prefix, 1, provider_id="active-rutland")
    theirs = await client.get(LIST.format("active-rutland"), headers=auth("active-blaby"))
    assert (theirs.status_code, theirs.json()) == (
        403,
        {"error": "this provider's token may act only for itself"},
    )
    assert (await client.get(LIST.format("active-rutland"))).status_code == 401
    wrong = {"Authorization": "Bearer not-a-token"}
    assert (await client.get(LIST.format("active-rutland"), headers=wrong)).status_code == 401
    assert (
        await client.get(LIST.format("active-rutland"), headers=auth("active-rutland"))
    ).status_code == 200


@pytest.mark.parametrize(
    ("query", "parameter", "words"),
    [
        ("stage=finished", "stage", "unknown stage 'finished'; stages are pending, accepted"),
        ("stage=pending,Accepted", "stage", "unknown stage 'Accepted'"),
        ("since=yesterday", "since", "'yesterday' is not an ISO 8601 date-time"),
        ("since=2026-03-01", "since", "is a date, not a date-time"),
        ("since=2026-03-01T09:00:00", "since", "has no UTC offset"),
        ("since=2026-03-01T09:00:00+01:00", "since", "send '+' in a query string as %2B"),
        ("limit=0", "limit", "not a whole number from 1 to 200"),
        ("limit=201", "limit", "not a whole number from 1 to 200"),
        ("limit=ten", "limit", "'ten' is not a whole number"),
        ("limit=10&limit=20", "limit", "limit given 2 times"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor", "not a cursor this API gave out"),
        ("offset=50", "offset", "unknown parameter 'offset'; the list takes stage, since, limit, cursor"),
    ],
)
async def test_bad_parameters_are_refused_naming_the_parameter(api, query, parameter, words):
    _, client, _ = api
    got = await client.get(f"{LIST.format('active-blaby')}?{query}", headers=auth("active-blaby"))
    assert got.status_code == 400
    body = got.json()
    assert body["error"] == f"invalid query parameter: {parameter}"
    assert [p["parameter"] for p in body["problems"]] == [parameter]
    assert words in body["problems"][0]["problem"]
