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

from typing import Any

from provider_notify.domain.withdrawal import provider_has_it
from provider_notify.service_layer.delivery import PROVIDER_TOPIC, announce_due
from referral_schemas import Envelope
from referral_schemas.enums import DeliveryChannel
from servicekit.db.uow import UnitOfWork


def notice_state(channel: DeliveryChannel, delivery_started: bool) -> str:
    """The notice's delivery state as it is stored: delivered (Kafka, with this commit), pending
    (for the deliverer) or not_needed."""
    if not provider_has_it(channel, delivery_started):
        return "not_needed"
    return "delivered" if channel is DeliveryChannel.KAFKA else "pending"


def send_notice(uow: UnitOfWork, event: Envelope[Any], provider_id: str, state: str) -> None:
    """Put `event` on the provider's feed, or wake a deliverer for it, as its `state` says."""
    if state == "delivered":
        # Keyed by provider, not by referral as uow.emit would.
        uow.publish(event, topic=PROVIDER_TOPIC, key=provider_id, aggregate_type="provider")
    elif state == "pending":
        uow.on_flush(announce_due)
