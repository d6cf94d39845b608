"""Telling a provider something about an assignment it holds (a reminder, a withdrawal), on the
channel the assignment came by, in the transaction that decides it.

- Kafka: on the provider's feed (provider.assignments.v1, keyed by provider like its copy of the
  assignment, so after it and in order), through the outbox: sent if and only if this commits.
- Webhook: queued in the notice's own table for the deliverer, which leases, signs, retries and
  parks it as it does assignments; it is woken when this commits.
- A webhook assignment whose delivery never started never reached the provider: nothing is sent
  about it (not_needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from provider_notify.domain.withdrawal import provider_has_it
from provider_notify.service_layer.delivery import PROVIDER_TOPIC, announce_due
from referral_schemas import Envelope
from referral_schemas.enums import DeliveryChannel
from servicekit.db.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Notice:
    """How a notice goes out, as its row records it (the columns its table shares with the
    deliverer's queue)."""

    state: str  # delivered (on the Kafka feed with this commit), pending (for the deliverer), not_needed
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None


def notice_for(channel: DeliveryChannel, delivery_started: bool, now: datetime) -> Notice:
    if not provider_has_it(channel, delivery_started):
        return Notice("not_needed", 0, None, None)
    if channel is DeliveryChannel.KAFKA:
        return Notice("delivered", 1, None, now)
    return Notice("pending", 0, now, None)


def send_notice(uow: UnitOfWork, event: Envelope[Any], provider_id: str, notice: Notice) -> None:
    """Put `event` on the provider's feed, or wake a deliverer for it, as `notice` says."""
    if notice.state == "delivered":
        # Keyed by provider, not by referral as uow.emit would.
        uow.publish(event, topic=PROVIDER_TOPIC, key=provider_id, aggregate_type="provider")
    elif notice.state == "pending":
        uow.on_flush(announce_due)
