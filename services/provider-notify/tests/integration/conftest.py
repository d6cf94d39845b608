"""provider-notify against real loopback HTTP receivers (and, where marked, the real database)."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
import uvicorn
from provider_notify.domain.signing import HEADER, Verified, verify
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SECRET = b"leisure-centre-secret"


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
    """A Receiver served on a free loopback port: (receiver, base URL)."""
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
