"""Measures posted by providers over HTTP: own assignments only, validated, versioned, repeatable."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from .conftest import activity, delivered, triaged

pytestmark = pytest.mark.infra

CITY = {"authorization": "Bearer city-token"}
RUTLAND = {"authorization": "Bearer rutland-token"}


@pytest.fixture
async def assignment(outcomes):
    rid, assignment_id = uuid.uuid4(), uuid.uuid4()
    await outcomes.deliver(triaged(rid), delivered(rid, "leicester-city-leisure", assignment_id))
    return rid, assignment_id


def posted(assignment_id, timepoint="baseline", **measures):
    return {
        "measurement_id": str(uuid.uuid4()),
        "assignment_id": str(assignment_id),
        "recorded_on": "2026-03-10",
        "measures": {"timepoint": timepoint, "mvpa_minutes_per_week": 40, "wellbeing_swemwbs": 20} | measures,
    }


async def test_a_provider_records_measures_for_its_own_assignment(outcomes, assignment):
    rid, assignment_id = assignment
    response = await outcomes.client.post(
        "/providers/leicester-city-leisure/measures", json=posted(assignment_id), headers=CITY
    )
    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == "applied"
    episode = await outcomes.episode(rid)
    assert episode is not None and episode.measure_history[0].measures.mvpa_minutes_per_week == 40
    [(_, recorded)] = await outcomes.outbox("outcome.recorded")
    assert recorded.data.measures.wellbeing_swemwbs == 20


async def test_posting_the_same_measurement_again_changes_nothing(outcomes, assignment):
    _, assignment_id = assignment
    body = posted(assignment_id)
    first = await outcomes.client.post("/providers/leicester-city-leisure/measures", json=body, headers=CITY)
    again = await outcomes.client.post("/providers/leicester-city-leisure/measures", json=body, headers=CITY)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["outcome"] == "repeat"
    assert len(await outcomes.outbox("outcome.recorded")) == 1


async def test_another_providers_assignment_is_not_found(outcomes, assignment):
    _, assignment_id = assignment
    response = await outcomes.client.post(
        "/providers/active-rutland/measures", json=posted(assignment_id), headers=RUTLAND
    )
    assert response.status_code == 404
    assert await outcomes.rows("SELECT * FROM refusals") == []


@pytest.mark.parametrize(
    ("headers", "status"), [({}, 401), ({"authorization": "Bearer wrong"}, 401), (RUTLAND, 403)]
)
async def test_without_this_providers_token_the_request_is_refused(outcomes, assignment, headers, status):
    """No valid token: 401. Another provider's valid token: 403."""
    _, assignment_id = assignment
    response = await outcomes.client.post(
        "/providers/leicester-city-leisure/measures", json=posted(assignment_id), headers=headers
    )
    assert response.status_code == status


async def test_out_of_range_measures_are_refused_naming_the_field(outcomes, assignment):
    _, assignment_id = assignment
    body = posted(assignment_id, wellbeing_swemwbs=50)
    response = await outcomes.client.post(
        "/providers/leicester-city-leisure/measures", json=body, headers=CITY
    )
    assert response.status_code == 400
    [problem] = response.json()["problems"]
    assert problem["field"] == "measures.wellbeing_swemwbs"
    assert "less than or equal to 35" in problem["problem"]


async def test_an_oversized_body_is_refused(outcomes, assignment):
    _, assignment_id = assignment
    body = posted(assignment_id) | {"padding": "x" * 20_000}
    response = await outcomes.client.post(
        "/providers/leicester-city-leisure/measures", json=body, headers=CITY
    )
    assert response.status_code == 413


async def test_a_follow_up_before_the_baseline_is_refused_and_kept(outcomes, assignment):
    _, assignment_id = assignment
    body = posted(assignment_id, timepoint="week_12")
    response = await outcomes.client.post(
        "/providers/leicester-city-leisure/measures", json=body, headers=CITY
    )
    assert response.status_code == 422
    assert response.json()["code"] == "measures.follow_up_before_baseline"
    [refusal] = await outcomes.rows("SELECT source, code FROM refusals")
    assert tuple(refusal) == ("http", "measures.follow_up_before_baseline")


async def test_a_correction_with_the_same_version_but_other_values_is_refused(outcomes, assignment):
    _, assignment_id = assignment
    url = "/providers/leicester-city-leisure/measures"
    await outcomes.client.post(url, json=posted(assignment_id), headers=CITY)
    response = await outcomes.client.post(
        url, json=posted(assignment_id, mvpa_minutes_per_week=90), headers=CITY
    )
    assert response.status_code == 422
    assert response.json()["code"] == "measures.version_conflict"
    corrected = await outcomes.client.post(
        url, json=posted(assignment_id, mvpa_minutes_per_week=90, version=2), headers=CITY
    )
    assert corrected.status_code == 201


async def test_measures_for_an_episode_not_opened_yet_are_parked(outcomes):
    rid, assignment_id = uuid.uuid4(), uuid.uuid4()
    await outcomes.deliver(delivered(rid, "leicester-city-leisure", assignment_id))
    response = await outcomes.client.post(
        "/providers/leicester-city-leisure/measures", json=posted(assignment_id), headers=CITY
    )
    assert response.status_code == 202 and response.json()["outcome"] == "parked"
    await outcomes.deliver(triaged(rid), activity(rid, "accepted", date(2026, 3, 11)))
    episode = await outcomes.episode(rid)
    assert episode is not None and len(episode.measure_history) == 1
