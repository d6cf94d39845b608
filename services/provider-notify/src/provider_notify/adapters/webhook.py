"""Posting an assignment to a provider's webhook endpoint, signed, with a bounded wait.

Connections are pooled per provider (`pool=`): one `aiohttp.ClientSession` (and connector)
each, made on first use inside the running loop and closed by `aclose()`; without `pool`, one
default session made the same way. Each provider's deliveries are awaited
independently, so a slow endpoint only ever holds its own. A pool per provider, not one for all,
so that a provider's connections and cookies are never another's, even where two providers share
a host. It began as a cost: httpcore looked through every connection of a pool for each request
it queued or finished, so one pool of a few hundred connections spent most of a core on that (115
requests/s at 200 at once, against 1,400 with a pool per provider, measured on loopback). aiohttp
keeps idle connections in a queue per host: one session for 768 connections to 48 providers went
as fast as a session per provider (about 6,000 requests/s on loopback, against httpx's 800).
"""

from __future__ import annotations

import os
import ssl
import time
from dataclasses import dataclass

import aiohttp
import certifi
from provider_notify.domain.delivery import Outcome, classify
from provider_notify.domain.signing import HEADER, signature_header

# Idle keep-alive connections are closed after this long (as with httpx's default before).
KEEPALIVE_S = 5.0


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    status: int | None
    error: str | None
    elapsed_ms: float


def _ssl_context() -> ssl.SSLContext:
    """The CA roots httpx trusted: certifi's, unless SSL_CERT_FILE or SSL_CERT_DIR name others."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())


class WebhookSender:
    """Owns its sessions: make it anywhere, post from inside the event loop, `aclose()` at the end."""

    def __init__(self, *, timeout_s: float = 10.0) -> None:
        # As httpx's timeout was: `timeout_s` to connect (TLS included), and between bytes read.
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout_s, sock_read=timeout_s)
        self._sessions: dict[str | None, aiohttp.ClientSession] = {}  # None: the default session
        self._ssl: ssl.SSLContext | None = None  # one for every pool: each costs 20 ms to load

    def _session_for(self, pool: str | None) -> aiohttp.ClientSession:
        session = self._sessions.get(pool)
        if session is None:
            # The caller bounds concurrent requests per pool, so no limit here (limit=0).
            self._ssl = self._ssl or _ssl_context()
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_S, ssl=self._ssl)
            session = self._sessions[pool] = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return session

    async def aclose(self) -> None:
        """Close every session, the per-provider ones and the default."""
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()

    async def __aenter__(self) -> WebhookSender:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def post(
        self, url: str, secret: bytes, body: bytes, *, delivery_id: str, now: int, pool: str | None = None
    ) -> Attempt:
        headers = {
            "Content-Type": "application/json",
            HEADER: signature_header(secret, now, body),
            # Lets the receiver drop a repeat of a delivery it has already taken.
            "Referrals-Delivery-Id": delivery_id,
        }
        started = time.perf_counter()
        try:
            session = self._session_for(pool)
            # A redirect is answered as it is (classified), not followed, as before.
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                await response.read()  # read to the end, so that the connection is kept for reuse
                status = response.status
        except TimeoutError:  # aiohttp's own timeouts (ServerTimeoutError...) are TimeoutErrors too
            return Attempt(Outcome.RETRY, None, "timed out", (time.perf_counter() - started) * 1000)
        except aiohttp.ClientError as exc:
            return Attempt(
                Outcome.RETRY,
                None,
                f"{type(exc).__name__}: {exc}"[:500],
                (time.perf_counter() - started) * 1000,
            )
        elapsed = (time.perf_counter() - started) * 1000
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return Attempt(classify(status), status, error, elapsed)
