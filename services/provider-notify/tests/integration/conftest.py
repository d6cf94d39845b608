"""provider-notify against real loopback HTTP receivers (and, where marked, the real database)."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
import yaml
from provider_notify.adapters.webhook import WebhookSender
from provider_notify.bootstrap import bootstrap
from provider_notify.domain.channels import load_channels
from provider_notify.domain.delivery import RetryPolicy
from provider_notify.domain.signing import HEADER, Verified, verify
from provider_notify.service_layer.delivery import NotifyContext
from provider_notify.settings import NotifySettings
from servicekit.testing import reset_schema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

SECRET = b"leisure-centre-secret"
# The providers whose staff call the HTTP API in these tests; each one's token is "<id>-token".
API_PROVIDERS = ("active-blaby", "active-rutland")


@pytest.fixture
def notify_settings(test_database_url, kafka_bootstrap, isolated_topic_prefix):
    """Settings for provider-notify (no relay) on an emptied schema, with `overrides`."""

    def make(**overrides: object) -> NotifySettings:
        reset_schema(test_database_url, "provider-notify")
        return NotifySettings.model_validate(
            {
                "DATABASE_URL": test_database_url,
                "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "TOPIC_PREFIX": isolated_topic_prefix,
                "relay_enabled": False,
                **overrides,
            }
        )

    return make


@pytest.fixture
async def api(notify_settings, isolated_topic_prefix):
    """provider-notify with API_PROVIDERS' tokens, and an HTTP client on its API."""
    keys = {p: hashlib.sha256(f"{p}-token".encode()).hexdigest() for p in API_PROVIDERS}
    service = bootstrap(notify_settings(api_keys=keys))
    await service.open_database()
    await service.producer.start()
    transport = httpx.ASGITransport(app=service.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:
        yield service, client, isolated_topic_prefix
    await service.producer.stop()
    await service.close_database()


class Receiver:
    """A provider's endpoint as a small provider would write it: verify, de-duplicate, answer."""

    def __init__(self) -> None:
        self.taken: list[bytes] = []
        self.seen_deliveries: set[str] = set()
        # For each request to /assignments: the sender's end of its connection, and its Content-Type.
        self.connections: list[tuple[str, int]] = []
        self.content_types: list[str | None] = []
        self.open_connections: Callable[[], int] = lambda: 0  # set once served

    def app(self) -> Starlette:
        async def assignments(request: Request) -> Response:
            assert request.client is not None
            self.connections.append((request.client.host, request.client.port))
            self.content_types.append(request.headers.get("content-type"))
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

        async def moved(_: Request) -> Response:
            # 307 keeps the method and body: a sender that followed it would deliver.
            return RedirectResponse("/assignments", status_code=307)

        return Starlette(
            routes=[
                Route("/assignments", assignments, methods=["POST"]),
                Route("/broken", broken, methods=["POST"]),
                Route("/refusing", refusing, methods=["POST"]),
                Route("/slow", slow, methods=["POST"]),
                Route("/moved", moved, methods=["POST"]),
            ]
        )


@pytest.fixture
async def receiver():
    """A Receiver served on a free loopback port: (receiver, base URL)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rec = Receiver()
    server = uvicorn.Server(uvicorn.Config(rec.app(), host="127.0.0.1", port=port, log_config=None))
    rec.open_connections = lambda: len(server.server_state.connections)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.02)
    yield rec, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def notify(notify_settings, receiver, tmp_path, monkeypatch):
    """provider-notify on an empty schema (relay off, the deliverer driven pass by pass, the clock
    in the test's hands), with webhook providers posting to `receiver`: hook-ok, hook-broken (503),
    hook-refusing (400), hook-slow (2 s); any other provider takes Kafka.
    Yields (service, receiver, sender, clock, deliverer context)."""
    rec, base = receiver
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", "leisure-centre-secret")
    providers = {
        "providers": [
            {
                "provider_id": "hook-ok",
                "channel": "webhook",
                "url": f"{base}/assignments",
                "secret_env": "TEST_WEBHOOK_SECRET",
            },
            {
                "provider_id": "hook-broken",
                "channel": "webhook",
                "url": f"{base}/broken",
                "secret_env": "TEST_WEBHOOK_SECRET",
            },
            {
                "provider_id": "hook-refusing",
                "channel": "webhook",
                "url": f"{base}/refusing",
                "secret_env": "TEST_WEBHOOK_SECRET",
            },
            {
                "provider_id": "hook-slow",
                "channel": "webhook",
                "url": f"{base}/slow",
                "secret_env": "TEST_WEBHOOK_SECRET",
            },
        ]
    }
    path = tmp_path / "providers.yaml"
    path.write_text(yaml.safe_dump(providers))
    settings = notify_settings(providers_file=str(path), give_up_after_s=3600)
    clock = {"now": datetime.now(UTC)}
    service = bootstrap(settings, now=lambda: clock["now"])
    await service.open_database()
    await service.producer.start()
    # The deliverer's context, as bootstrap builds it from these settings, driven here pass by pass.
    ctx = NotifyContext(
        channels=lambda: load_channels(path),
        policy=RetryPolicy(settings.retry_base_s, settings.retry_cap_s, settings.give_up_after_s),
        lease=timedelta(seconds=settings.lease_s),
        batch=settings.deliver_batch,
        now=lambda: clock["now"],
    )
    async with WebhookSender(timeout_s=2) as sender:
        yield service, rec, sender, clock, ctx
    await service.producer.stop()
    await service.close_database()
