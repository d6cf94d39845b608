"""Webhook signatures: HMAC-SHA256 over "<unix seconds>." + body, sent with the timestamp.

Header: `Referrals-Signature: t=<unix seconds>,v1=<hex>` (several v1 values while a provider
rotates its secret). The receiver recomputes the HMAC with each secret it holds, compares in
constant time, and refuses a timestamp too far from its own clock either way, so a captured
request cannot be replayed later and a skewed clock is named as such.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

HEADER = "Referrals-Signature"
DEFAULT_TOLERANCE_S = 300


class SignatureProblem(StrEnum):
    MALFORMED = "signature.malformed"
    CLOCK_SKEW = "signature.clock_skew"
    MISMATCH = "signature.mismatch"


@dataclass(frozen=True)
class Verified:
    timestamp: int


@dataclass(frozen=True)
class Refused:
    problem: SignatureProblem
    detail: str


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: bytes, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(
    header: str | None,
    body: bytes,
    secrets: list[bytes],
    *,
    now: int,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> Verified | Refused:
    """Whether `header` signs `body` with one of `secrets`, at a time close enough to `now`."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return Refused(SignatureProblem.MALFORMED, f"{HEADER} must look like t=<unix seconds>,v1=<hex>")
    skew = now - timestamp
    if abs(skew) > tolerance_s:
        side = "old" if skew > 0 else "in the future"
        return Refused(
            SignatureProblem.CLOCK_SKEW,
            f"the timestamp is {abs(skew)} s {side}; at most {tolerance_s} s allowed",
        )
    for secret in secrets:
        expected = sign(secret, timestamp, body)
        if any(hmac.compare_digest(expected, s) for s in signatures):
            return Verified(timestamp)
    return Refused(SignatureProblem.MISMATCH, "no signature matches the body with a current secret")
