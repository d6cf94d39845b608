"""What to do after a webhook attempt, and when to try again.

2xx: delivered. 5xx, 408, 429, a timeout or a connection error: try again with exponential
backoff and full jitter, until the delivery has been failing for `give_up_after_s`; then it is
parked as undeliverable (assignment.delivery_failed). Any other 4xx: the provider refused the
request as malformed or unauthorised, which trying again will not change.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GIVE_UP = "give_up"


def classify(status: int | None) -> Outcome:
    """`status` None means no HTTP answer at all (timeout, refused or reset connection)."""
    if status is None or status >= 500 or status in (408, 429):
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.DELIVERED
    return Outcome.GIVE_UP


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 1.0
    cap_s: float = 300.0
    give_up_after_s: float = 24 * 3600.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds before attempt `attempt + 1` (attempt counts from 1): full jitter up to a cap."""
        return rng.uniform(0, min(self.cap_s, self.base_s * 2 ** (attempt - 1)))

    def exhausted(self, failing_for_s: float) -> bool:
        return failing_for_s >= self.give_up_after_s
