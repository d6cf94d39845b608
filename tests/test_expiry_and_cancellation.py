"""End to end through the four services running as processes on real Kafka and PostgreSQL, for the
two ways an assignment ends without the provider's answer: its contact deadline passes (it
expires and triage places the referral elsewhere), or the referrer cancels the referral (the
provider's later answers are refused and its view of the assignment says cancelled). Either way
the provider is told on its own feed, provider.assignments.v1 under its key, that the assignment
is withdrawn, and why.

Contact deadlines are working days; the expiry test holds one provider to a deadline seconds
away with provider-notify's NOTIFY_CONTACT_DEADLINE_OVERRIDE_S, the setting for tests and demos.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import httpx
import psycopg
import pytest
from referral_schemas import referral_id_for

pytestmark = pytest.mark.infra

FIRST_PORT = 28200  # this file's HTTP ports: the first four free from here (see tests/conftest.py)
LEICESTER = "active-leicester"  # the provider triage picks for the example referral's postcode
TOKEN = "leicester-token"
WAIT_S = 120  # overall bound on each wait; every wait polls for a state, none sleeps for one
T = TypeVar("T")


def _provider_api() -> dict[str, str]:
    return {"NOTIFY_API_KEYS": json.dumps({LEICESTER: hashlib.sha256(TOKEN.encode()).hexdigest()})}


def _answer(assignment_id: str, response: str) -> dict[str, str]:
    return {
        "response_id": f"lcl-{uuid.uuid4().hex[:8]}",
        "assignment_id": assignment_id,
        "provider_id": LEICESTER,
        "response": response,
        "recorded_at": datetime.now(UTC).isoformat(),
    }


async def _eventually(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool]) -> T:
    """Poll `probe` until `done` holds for what it returns; fails with the last value after WAIT_S."""
    last: T | None = None
    try:
        async with asyncio.timeout(WAIT_S):
            while True:
                last = await probe()
                if done(last):
                    return last
                await asyncio.sleep(0.2)
    except TimeoutError:
        shown = last.text if isinstance(last, httpx.Response) else last
        raise AssertionError(f"not so after {WAIT_S}s; last: {shown}") from None


def _withdrawals(seen) -> list[tuple[str | None, dict]]:
    """(record key, data) of every assignment.withdrawn seen on the providers' feed."""
    return [
        (key, e["data"])
        for key, e in seen.keyed("provider.assignments.v1")
        if e["event_type"] == "assignment.withdrawn"
    ]


async def _triage_state(database_url: str, referral_id: str) -> str | None:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT state FROM triage.referrals WHERE referral_id = %s", (referral_id,))
        row = await cur.fetchone()
    return row[0] if row else None


async def test_an_assignment_the_provider_never_answers_expires_and_the_referral_goes_to_another_provider(
    four_services, test_database_url
):
    # Active Leicester never answers, and is held to a deadline 2 seconds after an assignment
    # arrives; every other provider keeps the working-day deadline triage sets.
    env = _provider_api() | {"NOTIFY_CONTACT_DEADLINE_OVERRIDE_S": json.dumps({LEICESTER: 2})}
    async with four_services(env, first_port=FIRST_PORT) as services:
        submission = await services.gp_submits()
        rid = str(referral_id_for(submission.data.source_system, submission.data.source_referral_id))
        topics = (
            "assignment.created.v1",
            "assignment.delivered.v1",
            "assignment.expired.v1",
            "provider.assignments.v1",
        )
        async with services.journey(topics, lambda e: e["referral_id"] == rid) as seen:
            await seen.until(
                lambda: (
                    seen["assignment.expired.v1"]
                    and len(seen["assignment.delivered.v1"]) >= 2
                    and _withdrawals(seen)
                ),
                timeout_s=WAIT_S,
            )
        first, second = (e["data"] for e in seen["assignment.created.v1"])
        async with httpx.AsyncClient(
            base_url=services.url("provider_notify"), headers={"Authorization": f"Bearer {TOKEN}"}
        ) as leicester:
            late = await leicester.post(
                f"/providers/{LEICESTER}/responses", json=_answer(first["assignment_id"], "accepted")
            )
            view = await leicester.get(f"/providers/{LEICESTER}/assignments/{first['assignment_id']}")

    # The first provider was given it, on its Kafka topic, and let the deadline pass.
    assert first["provider_id"] == LEICESTER and first["attempt"] == 1
    [expired] = (e["data"] for e in seen["assignment.expired.v1"])
    assert expired["assignment_id"] == first["assignment_id"]
    assert expired["provider_id"] == LEICESTER
    # Held to the override, not to triage's working-day deadline on the assignment.
    held_to = datetime.fromisoformat(expired["contact_deadline"])
    assert held_to < datetime.fromisoformat(first["contact_deadline"])
    assert held_to <= datetime.fromisoformat(expired["expired_at"])
    # It was told, on its own feed and under its own key, after the assignment, that the
    # assignment is withdrawn because the deadline passed.
    leicester_feed = [
        (e["event_type"], e["data"]["assignment_id"])
        for key, e in seen.keyed("provider.assignments.v1")
        if key == LEICESTER
    ]
    assert leicester_feed == [
        ("assignment.created", first["assignment_id"]),
        ("assignment.withdrawn", first["assignment_id"]),
    ]
    [(key, withdrawn)] = _withdrawals(seen)
    assert key == LEICESTER and withdrawn["provider_id"] == LEICESTER
    assert withdrawn["reason"] == "expired"
    assert withdrawn["contact_deadline"] == expired["contact_deadline"]
    assert withdrawn["stage_reached"] is None
    # Triage placed the referral again, with another provider, and that one has it.
    assert second["attempt"] == 2
    assert second["reassigned_from"] == first["assignment_id"]
    assert second["provider_id"] != LEICESTER
    delivered = {e["data"]["assignment_id"]: e["data"] for e in seen["assignment.delivered.v1"]}
    assert delivered.keys() == {first["assignment_id"], second["assignment_id"]}
    assert delivered[second["assignment_id"]]["provider_id"] == second["provider_id"]
    # Too late: the first provider's answer is refused, and its view says why.
    assert late.status_code == 409, late.text
    assert late.json()["code"] == "transition.after_final"
    assert late.json()["message"] == "cannot record accepted: the assignment is expired"
    assert view.status_code == 200 and view.json()["stage"] == "expired"
    assert view.json()["withdrawal"]["data"] == withdrawn

    with psycopg.connect(test_database_url) as conn:
        placements = conn.execute(
            "SELECT attempt, provider_id, service_id, state FROM triage.placements"
            " WHERE referral_id = %s ORDER BY attempt",
            (rid,),
        ).fetchall()
        reserved = dict(
            conn.execute(
                "SELECT service_id, sum(reserved) FROM triage.capacity WHERE programme = %s GROUP BY service_id",
                (first["programme"],),
            ).fetchall()
        )
        stages = dict(
            conn.execute(
                "SELECT assignment_id::text, stage FROM notify.assignments WHERE referral_id = %s", (rid,)
            ).fetchall()
        )
    assert placements == [
        (1, LEICESTER, first["service_id"], "expired"),
        (2, second["provider_id"], second["service_id"], "open"),
    ]
    # The expired placement's capacity was given back; only the new one holds a place.
    assert reserved[first["service_id"]] == 0
    assert reserved[second["service_id"]] == 1
    assert stages == {first["assignment_id"]: "expired", second["assignment_id"]: "pending"}


async def test_a_referral_its_referrer_cancels_is_cancelled_at_the_provider_which_can_no_longer_answer_it(
    four_services, test_database_url
):
    async with four_services(_provider_api(), first_port=FIRST_PORT) as services:
        submission = await services.gp_submits()
        rid = str(referral_id_for(submission.data.source_system, submission.data.source_referral_id))
        topics = ("provider.assignments.v1", "assignment.delivered.v1", "referral.status.v1")
        async with services.journey(topics, lambda e: e["referral_id"] == rid) as seen:
            # Active Leicester reads its assignment from its Kafka topic.
            await seen.until(lambda: seen["provider.assignments.v1"] and seen["assignment.delivered.v1"])
            [copy] = seen["provider.assignments.v1"]
            assignment_id = copy["data"]["assignment_id"]
            assert copy["data"]["provider_id"] == LEICESTER

            # The GP system cancels the referral (BaRS: the ServiceRequest is revoked).
            await services.gp_submits(
                {
                    "source_referral_id": submission.data.source_referral_id,
                    "action": "cancel",
                    "cancel_status": "revoked",
                    "cancel_reason": "The patient has moved out of the area.",
                }
            )
            await seen.until(lambda: "cancelled" in seen.statuses() and _withdrawals(seen), timeout_s=WAIT_S)

        async with httpx.AsyncClient(
            base_url=services.url("provider_notify"), headers={"Authorization": f"Bearer {TOKEN}"}
        ) as leicester:
            own = f"/providers/{LEICESTER}/assignments/{assignment_id}"
            view = await _eventually(
                lambda: leicester.get(own), lambda r: r.json().get("stage") == "cancelled"
            )
            # Triage heard it too (it gives the place back), before anyone looks at its tables.
            await _eventually(lambda: _triage_state(test_database_url, rid), lambda s: s == "cancelled")
            accept = await leicester.post(
                f"/providers/{LEICESTER}/responses", json=_answer(assignment_id, "accepted")
            )
            contact = await leicester.post(
                f"/providers/{LEICESTER}/responses", json=_answer(assignment_id, "contacted")
            )
            view_after = await leicester.get(own)

    assert seen.statuses()[-1] == "cancelled"
    # Active Leicester was told on its feed, under its key, that the assignment is withdrawn
    # because the referrer cancelled it.
    assert [(key, e["event_type"]) for key, e in seen.keyed("provider.assignments.v1")] == [
        (LEICESTER, "assignment.created"),
        (LEICESTER, "assignment.withdrawn"),
    ]
    [(_, withdrawn)] = _withdrawals(seen)
    assert withdrawn["assignment_id"] == assignment_id and withdrawn["provider_id"] == LEICESTER
    assert withdrawn["reason"] == "referral_cancelled"
    assert withdrawn["stage_reached"] is None and withdrawn["contact_deadline"] is None
    assert "do not contact the patient" in withdrawn["detail"]
    # The provider's own view of the assignment says it is cancelled, before and after it answered.
    assert view.status_code == 200 and view.json()["assignment"]["data"]["assignment_id"] == assignment_id
    assert view_after.json()["stage"] == "cancelled"
    assert view.json()["withdrawal"]["data"] == withdrawn
    # Accepting it, or recording work on it, is refused with the reason.
    assert accept.status_code == 409, accept.text
    assert accept.json() == {
        "outcome": "refused",
        "stage": None,
        "code": "transition.after_final",
        "message": "cannot record accepted: the assignment is cancelled",
    }
    assert contact.status_code == 409, contact.text
    assert contact.json()["message"] == "cannot record contacted: the assignment is cancelled"

    with psycopg.connect(test_database_url) as conn:
        held = conn.execute(
            "SELECT stage, delivery_state FROM notify.assignments WHERE referral_id = %s", (rid,)
        ).fetchall()
        answers = conn.execute(
            "SELECT response, outcome, code FROM notify.responses WHERE assignment_id = %s ORDER BY received_at",
            (assignment_id,),
        ).fetchall()
        placements = conn.execute(
            "SELECT state, service_id, programme FROM triage.placements WHERE referral_id = %s", (rid,)
        ).fetchall()
        referral = conn.execute(
            "SELECT state FROM triage.referrals WHERE referral_id = %s", (rid,)
        ).fetchone()
        [(state, service_id, programme)] = placements
        reserved = conn.execute(
            "SELECT sum(reserved) FROM triage.capacity WHERE service_id = %s AND programme = %s",
            (service_id, programme),
        ).fetchone()
    # provider-notify closed the assignment as cancelled, and kept both refused answers.
    assert held == [("cancelled", "delivered")]
    assert answers == [
        ("accepted", "refused", "transition.after_final"),
        ("contacted", "refused", "transition.after_final"),
    ]
    # Triage gave the place back and placed the referral nowhere else.
    assert state == "cancelled" and referral == ("cancelled",)
    assert reserved == (0,)
