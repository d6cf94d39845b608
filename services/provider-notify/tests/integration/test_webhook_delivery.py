"""Webhook delivery to real HTTP receivers on loopback: verified, refused, failing, slow."""

from __future__ import annotations

import asyncio
import time

import httpx
from provider_notify.adapters.webhook import WebhookSender
from provider_notify.domain.delivery import Outcome

SECRET = b"leisure-centre-secret"
BODY = b'{"event_type": "assignment.created", "data": {"assignment_id": "a-1"}}'


async def test_a_signed_delivery_is_verified_and_taken_once_even_when_repeated(receiver):
    rec, base = receiver
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(client, timeout_s=5)
        first = await sender.post(
            f"{base}/assignments", SECRET, BODY, delivery_id="d-1", now=int(time.time())
        )
        again = await sender.post(
            f"{base}/assignments", SECRET, BODY, delivery_id="d-1", now=int(time.time())
        )
    assert (first.outcome, first.status) == (Outcome.DELIVERED, 200)
    assert again.outcome is Outcome.DELIVERED
    assert rec.taken == [BODY]


async def test_a_wrong_secret_or_an_old_timestamp_is_refused_and_not_retried(receiver):
    rec, base = receiver
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(client, timeout_s=5)
        wrong = await sender.post(
            f"{base}/assignments", b"not-the-secret", BODY, delivery_id="d-2", now=int(time.time())
        )
        stale = await sender.post(
            f"{base}/assignments", SECRET, BODY, delivery_id="d-3", now=int(time.time()) - 3600
        )
    assert (wrong.outcome, wrong.status) == (Outcome.GIVE_UP, 401)
    assert (stale.outcome, stale.status) == (Outcome.GIVE_UP, 401)
    assert rec.taken == []


async def test_5xx_and_timeouts_are_retried_other_4xx_are_not(receiver):
    _, base = receiver
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(client, timeout_s=0.3)
        broken = await sender.post(f"{base}/broken", SECRET, BODY, delivery_id="d-4", now=int(time.time()))
        refusing = await sender.post(
            f"{base}/refusing", SECRET, BODY, delivery_id="d-5", now=int(time.time())
        )
        slow = await sender.post(f"{base}/slow", SECRET, BODY, delivery_id="d-6", now=int(time.time()))
        nobody = await sender.post(
            "http://127.0.0.1:9/none", SECRET, BODY, delivery_id="d-7", now=int(time.time())
        )
    assert (broken.outcome, broken.status) == (Outcome.RETRY, 503)
    assert (refusing.outcome, refusing.status) == (Outcome.GIVE_UP, 400)
    assert (slow.outcome, slow.error) == (Outcome.RETRY, "timed out")
    assert nobody.outcome is Outcome.RETRY
    assert nobody.status is None


async def test_a_slow_provider_does_not_hold_up_deliveries_to_others(receiver):
    rec, base = receiver
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(client, timeout_s=5)
        now = int(time.time())
        slow = asyncio.create_task(sender.post(f"{base}/slow", SECRET, BODY, delivery_id="s", now=now))
        quick = await asyncio.gather(
            *(
                sender.post(f"{base}/assignments", SECRET, BODY, delivery_id=f"q-{i}", now=now)
                for i in range(20)
            )
        )
        assert not slow.done()  # all twenty were answered while the slow one was still waiting
        await slow
    assert all(a.outcome is Outcome.DELIVERED for a in quick)
    assert len(rec.taken) == 20
