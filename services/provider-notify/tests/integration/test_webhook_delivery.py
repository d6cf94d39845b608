"""Webhook delivery to real HTTP receivers on loopback: verified, refused, failing, slow."""

from __future__ import annotations

import asyncio
import time

from provider_notify.adapters.webhook import Attempt, WebhookSender
from provider_notify.domain.delivery import Outcome

SECRET = b"leisure-centre-secret"
BODY = b'{"event_type": "assignment.created", "data": {"assignment_id": "a-1"}}'


async def test_a_signed_delivery_is_verified_and_taken_once_even_when_repeated(receiver):
    rec, base = receiver
    async with WebhookSender(timeout_s=5) as sender:
        first = await sender.post(
            f"{base}/assignments", SECRET, BODY, delivery_id="d-1", now=int(time.time())
        )
        again = await sender.post(
            f"{base}/assignments", SECRET, BODY, delivery_id="d-1", now=int(time.time())
        )
    assert first == Attempt(Outcome.DELIVERED, 200, None, first.elapsed_ms)
    assert again.outcome is Outcome.DELIVERED
    assert rec.taken == [BODY]
    assert rec.content_types == ["application/json"] * 2


async def test_a_wrong_secret_or_an_old_timestamp_is_refused_and_not_retried(receiver):
    rec, base = receiver
    async with WebhookSender(timeout_s=5) as sender:
        wrong = await sender.post(
            f"{base}/assignments", b"not-the-secret", BODY, delivery_id="d-2", now=int(time.time())
        )
        stale = await sender.post(
            f"{base}/assignments", SECRET, BODY, delivery_id="d-3", now=int(time.time()) - 3600
        )
    assert (wrong.outcome, wrong.status, wrong.error) == (Outcome.GIVE_UP, 401, "HTTP 401")
    assert (stale.outcome, stale.status) == (Outcome.GIVE_UP, 401)
    assert rec.taken == []


async def test_5xx_and_timeouts_are_retried_other_4xx_are_not(receiver):
    _, base = receiver
    async with WebhookSender(timeout_s=0.3) as sender:
        broken = await sender.post(f"{base}/broken", SECRET, BODY, delivery_id="d-4", now=int(time.time()))
        refusing = await sender.post(
            f"{base}/refusing", SECRET, BODY, delivery_id="d-5", now=int(time.time())
        )
        slow = await sender.post(f"{base}/slow", SECRET, BODY, delivery_id="d-6", now=int(time.time()))
        nobody = await sender.post(
            "http://127.0.0.1:9/none", SECRET, BODY, delivery_id="d-7", now=int(time.time())
        )
    assert (broken.outcome, broken.status, broken.error) == (Outcome.RETRY, 503, "HTTP 503")
    assert (refusing.outcome, refusing.status, refusing.error) == (Outcome.GIVE_UP, 400, "HTTP 400")
    assert (slow.outcome, slow.status, slow.error) == (Outcome.RETRY, None, "timed out")
    assert 300 <= slow.elapsed_ms < 1500  # given up at the timeout, not at the 2 s answer
    assert (nobody.outcome, nobody.status) == (Outcome.RETRY, None)
    assert nobody.error is not None and nobody.error.startswith("ClientConnectorError: ")


async def test_a_redirect_is_not_followed_but_answered_as_a_refusal(receiver):
    rec, base = receiver
    async with WebhookSender(timeout_s=5) as sender:
        moved = await sender.post(f"{base}/moved", SECRET, BODY, delivery_id="d-8", now=int(time.time()))
    assert (moved.outcome, moved.status, moved.error) == (Outcome.GIVE_UP, 307, "HTTP 307")
    assert rec.taken == []


async def test_posts_to_one_provider_reuse_one_connection_and_no_other_provider_shares_it(receiver):
    rec, base = receiver
    async with WebhookSender(timeout_s=5) as sender:
        for pool in ("hook-a", "hook-b"):
            for i in range(3):
                attempt = await sender.post(
                    f"{base}/assignments",
                    SECRET,
                    BODY,
                    delivery_id=f"{pool}-{i}",
                    now=int(time.time()),
                    pool=pool,
                )
                assert attempt.outcome is Outcome.DELIVERED
    a, b = set(rec.connections[:3]), set(rec.connections[3:])
    assert len(a) == 1 and len(b) == 1
    assert a != b


async def test_aclose_closes_every_pools_connections(receiver):
    rec, base = receiver
    sender = WebhookSender(timeout_s=5)
    now = int(time.time())
    for pool in ("hook-a", "hook-b", None):
        await sender.post(f"{base}/assignments", SECRET, BODY, delivery_id=f"c-{pool}", now=now, pool=pool)
    assert rec.open_connections() == 3
    await sender.aclose()
    async with asyncio.timeout(2):
        while rec.open_connections():
            await asyncio.sleep(0.01)


async def test_a_slow_provider_does_not_hold_up_deliveries_to_others(receiver):
    rec, base = receiver
    async with WebhookSender(timeout_s=5) as sender:
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
