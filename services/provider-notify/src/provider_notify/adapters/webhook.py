"""Posting an assignment to a provider's webhook endpoint, signed, with a bounded wait.

One `httpx.AsyncClient` per process (connection pooling per host); each provider's deliveries
are awaited independently, so a slow endpoint only ever holds its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from provider_notify.domain.delivery import Outcome, classify
from provider_notify.domain.signing import HEADER, signature_header


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    status: int | None
    error: str | None
    elapsed_ms: float


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, *, timeout_s: float = 10.0) -> None:
        self._client = client
        self._timeout = timeout_s

    async def post(self, url: str, secret: bytes, body: bytes, *, delivery_id: str, now: int) -> Attempt:
        headers = {
            "Content-Type": "application/json",
            HEADER: signature_header(secret, now, body),
            # Lets the receiver drop a repeat of a delivery it has already taken.
            "Referrals-Delivery-Id": delivery_id,
        }
        started = time.perf_counter()
        try:
            response = await self._client.post(url, content=body, headers=headers, timeout=self._timeout)
        except httpx.TimeoutException:
            return Attempt(Outcome.RETRY, None, "timed out", (time.perf_counter() - started) * 1000)
        except httpx.TransportError as exc:
            return Attempt(
                Outcome.RETRY,
                None,
                f"{type(exc).__name__}: {exc}"[:500],
                (time.perf_counter() - started) * 1000,
            )
        elapsed = (time.perf_counter() - started) * 1000
        error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        return Attempt(classify(response.status_code), response.status_code, error, elapsed)
