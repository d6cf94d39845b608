"""Webhook delivery to real HTTP receivers on loopback: verified, refused, failing, slow."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest
import uvicorn
from provider_notify.adapters.webhook import WebhookSender
from provider_notify.domain.delivery import Outcome
from provider_notify.domain.signing import HEADER, Verified, verify
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SECRET = b"leisure-centre-secret"
BODY = b'{"event_type": "assignment.created", "data": {"assignment_id": "a-1"}}'


class Receiver:
    """A provider's endpoint as a small provider would write it: verify, de-duplicate, answer."""

    def __init__(self) -> None:
        self.taken: list[bytes] = []
        self.seen_deliveries: set[str] = set()

    def app(self) -> Starlette:
        async def assignments(request: Request) -> Response:
            body = await request.body()
            result = verify(request.headers.get(HEADER), body, [SECRET], now=int(time.time()))
            if not isinstance(result, Verified):
                return JSONResponse({"error": result.problem.value, "detail": result.detail}, status_code=401)
            delivery = request.headers.get("Referrals-Delivery-Id", "")
            if delivery not in self.seen_deliveries:  # a repeat is acknowledged, not taken twice
                self.seen_deliveries.add(delivery)
                self.taken.append(body)
            return JSONResponse({"ok": True})

        async def broken(_: Request) -> Response:
            return Response(status_code=503)

        async def refusing(_: Request) -> Response:
            return Response(status_code=400)

        async def slow(_: Request) -> Response:
            await asyncio.sleep(2)
            return Response(status_code=200)

        return Starlette(
            routes=[
                Route("/assignments", assignments, methods=["POST"]),
                Route("/broken", broken, methods=["POST"]),
                Route("/refusing", refusing, methods=["POST"]),
                Route("/slow", slow, methods=["POST"]),
            ]
        )


@pytest.fixture
async def receiver():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rec = Receiver()
    server = uvicorn.Server(uvicorn.Config(rec.app(), host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.02)
    yield rec, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


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
