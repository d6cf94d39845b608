"""Leisure providers, played: they take their assignments (some by signed webhook, the rest from
their Kafka topic) and then work each referral through the programme over the providers' HTTP
APIs — accept or decline, contact, measure, enrol, sessions, follow-up measures, finish.

Every step is a real request to provider-notify (responses) or outcomes (measures), with the
provider's own bearer token, as a provider's system would make it. A withdrawal (the referral
cancelled, or the contact deadline passed) arrives the same way as the assignment, and the
provider stops work on that assignment: it sends nothing more for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from provider_notify.domain.signing import HEADER, Verified, verify
from referral_schemas import parse_event
from referral_schemas.enums import Programme
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# These take their assignments by webhook; the others read provider.assignments.v1.
WEBHOOK_PROVIDERS = ("active-blaby", "melton-leisure", "active-rutland")
ALL_PROVIDERS = (
    "active-leicester", "active-blaby", "charnwood-leisure", "harborough-leisure", "hinckley-leisure",
    "melton-leisure", "nwl-leisure", "oadby-wigston-leisure", "active-rutland", "llr-cardiopulmonary",
)  # fmt: skip


def token(provider_id: str) -> str:
    return f"demo-token-{provider_id}"


def api_keys() -> dict[str, str]:
    """provider → SHA-256 of its token, as provider-notify and outcomes take them."""
    return {p: hashlib.sha256(token(p).encode()).hexdigest() for p in ALL_PROVIDERS}


def webhook_secret(provider_id: str) -> str:
    return f"demo-webhook-secret-{provider_id}"


def secret_env(provider_id: str) -> str:
    return "DEMO_WEBHOOK_SECRET_" + provider_id.upper().replace("-", "_")


@dataclass
class Tally:
    taken: Counter[str] = field(default_factory=Counter)  # by channel
    outcomes: Counter[str] = field(default_factory=Counter)  # how each referral ended at the provider
    refused: list[str] = field(default_factory=list)
    finished: int = 0
    withdrawn: Counter[str] = field(default_factory=Counter)  # withdrawals received, by reason
    reminded: int = 0  # reminders of assignments not answered yet


class Withdrawn(Exception):
    """The assignment was taken back: stop work on it."""


class Providers:
    def __init__(
        self, notify_url: str, outcomes_url: str, *, seed: int = 5, concurrency: int = 24, play: bool = True
    ) -> None:
        self.play = play  # False: take assignments and answer nothing (fault tests)
        self.notify_url, self.outcomes_url = notify_url, outcomes_url
        self.rng = random.Random(seed)  # noqa: S311 - play, not secrets
        self.tally = Tally()
        self._seen: set[str] = set()
        self._withdrawn: dict[str, str] = {}  # assignment id -> why it was taken back
        self._work: set[asyncio.Task[None]] = set()
        self._limit = asyncio.Semaphore(concurrency)
        self._client = httpx.AsyncClient(timeout=30)

    # ------------------------------------------------------------------ taking assignments
    def webhook_app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            provider_id = request.path_params["provider_id"]
            body = await request.body()
            checked = verify(
                request.headers.get(HEADER),
                body,
                [webhook_secret(provider_id).encode()],
                now=int(time.time()),
            )
            if not isinstance(checked, Verified):
                return JSONResponse({"error": checked.problem.value}, status_code=401)
            self.take(body, "webhook")
            return JSONResponse({"ok": True})

        return Starlette(routes=[Route("/providers/{provider_id}/assignments", receive, methods=["POST"])])

    async def read_kafka(self, bootstrap: str, topic: str) -> None:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=f"demo-providers-{uuid.uuid4().hex[:6]}",
            auto_offset_reset="earliest",
        )  # fmt: skip
        await consumer.start()
        try:
            async for record in consumer:
                if record.value is not None:
                    self.take(record.value, "kafka")
        finally:
            await consumer.stop()

    def take(self, body: bytes, channel: str) -> None:
        event = parse_event(body)  # an assignment, a reminder of one, or its withdrawal
        if event.event_type == "assignment.withdrawn":
            self.withdraw(event.data)
            return
        if event.event_type == "assignment.reminded":
            self.tally.reminded += 1  # the demo's providers answer at once, or on purpose never
            return
        key = str(event.data.assignment_id)
        if key in self._seen:
            return  # a redelivery: the provider already has it
        self._seen.add(key)
        self.tally.taken[channel] += 1
        if not self.play:
            return
        task = asyncio.create_task(self._work_through(event.data))
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    def withdraw(self, withdrawal: Any) -> None:
        """An assignment is taken back: its journey sends nothing more (see `_still_ours`)."""
        key = str(withdrawal.assignment_id)
        if key in self._withdrawn:
            return  # a redelivery
        self._withdrawn[key] = withdrawal.reason.value
        self.tally.withdrawn[withdrawal.reason.value] += 1

    def _still_ours(self, a: Any) -> None:
        why = self._withdrawn.get(str(a.assignment_id))
        if why is not None:
            raise Withdrawn(why)

    @property
    def busy(self) -> int:
        return len(self._work)

    async def close(self) -> None:
        for task in list(self._work):
            task.cancel()
        await asyncio.gather(*self._work, return_exceptions=True)
        await self._client.aclose()

    # ------------------------------------------------------------------ the programme
    async def _work_through(self, a: Any) -> None:
        async with self._limit:
            try:
                ended = await self._journey(a)
            except Withdrawn as stop:
                ended = f"withdrawn: {stop}"
            except httpx.HTTPError as exc:
                ended = f"error: {exc!r}"
            self.tally.outcomes[ended] += 1
            self.tally.finished += 1

    async def _journey(self, a: Any) -> str:
        rng = self.rng
        pid = a.provider_id
        if rng.random() < 0.06:
            await self._respond(a, "declined", reason_code="no_capacity", reason="Course full this month")
            return "declined"
        await self._respond(a, "accepted")
        if rng.random() < 0.08:
            await self._respond(a, "unable_to_contact", reason_code="no_answer")
            await self._respond(a, "closed")
            return "not contacted"
        await self._respond(a, "contacted")
        minutes, wellbeing = rng.choice([0, 10, 20, 30, 45, 60, 90]), rng.randint(12, 26)
        baseline = {
            "timepoint": "baseline",
            "mvpa_minutes_per_week": minutes,
            "activity_index": rng.choice(["inactive", "inactive", "moderately_inactive"]),
            "wellbeing_swemwbs": wellbeing,
        }
        await self._respond(a, "assessed")
        await self._respond(a, "measures_recorded", measures=baseline)
        if rng.random() < 0.15:
            await self._respond(a, "dropped_out", reason_code="changed_mind")
            await self._respond(a, "closed")
            return "dropped out before enrolling"
        offered = 24 if a.programme is Programme.STEADY_STEPS else 12
        await self._respond(a, "enrolled", sessions_offered=offered)
        keen = rng.uniform(0.4, 1.0)
        for _ in range(offered):
            attended = rng.random() < keen
            await self._respond(a, "session_attended" if attended else "session_missed", session_date=True)
        if keen < 0.55 and rng.random() < 0.6:
            await self._respond(a, "dropped_out", reason_code="lost_interest")
            await self._respond(a, "closed")
            return "dropped out"
        follow_up: dict[str, Any] = {
            "timepoint": "week_12",
            "mvpa_minutes_per_week": max(0, minutes + rng.randint(-10, 150)),
            "activity_index": rng.choice(
                ["moderately_inactive", "moderately_active", "moderately_active", "active"]
            ),
            "wellbeing_swemwbs": min(35, wellbeing + rng.randint(-2, 6)),
        }
        if a.programme is Programme.DISCHARGE_TO_ASSESS:
            follow_up |= {
                "d2a_outcome": rng.choices(["independent", "reduced_care", "ongoing_care"], [58, 27, 15])[0],
                "at_home_91_days": rng.random() < 0.88,
            }
        # Follow-ups go to outcomes' own API, as a provider's outcome system would post them.
        self._still_ours(a)
        answer = await self._client.post(
            f"{self.outcomes_url}/providers/{pid}/measures",
            json={
                "measurement_id": str(uuid.uuid4()),
                "assignment_id": str(a.assignment_id),
                "recorded_on": date.today().isoformat(),
                "measures": follow_up,
            },
            headers={"authorization": f"Bearer {token(pid)}"},
        )
        if answer.status_code >= 300:
            self.tally.refused.append(f"measures {answer.status_code}: {answer.text[:200]}")
        await self._respond(a, "completed", sessions_offered=offered)
        await self._respond(a, "closed")
        return "completed"

    async def _respond(self, a: Any, kind: str, *, session_date: bool = False, **extra: Any) -> None:
        self._still_ours(a)
        body: dict[str, Any] = {
            "response_id": f"demo-{uuid.uuid4().hex}",
            "assignment_id": str(a.assignment_id),
            "provider_id": a.provider_id,
            "response": kind,
            "recorded_at": datetime.now(UTC).isoformat(),
            **extra,
        }
        if session_date:
            body["session_date"] = date.today().isoformat()
        answer = await self._client.post(
            f"{self.notify_url}/providers/{a.provider_id}/responses",
            json=body,
            headers={"authorization": f"Bearer {token(a.provider_id)}"},
        )
        if answer.status_code != 200:
            self.tally.refused.append(f"{kind} {answer.status_code}: {answer.text[:200]}")
