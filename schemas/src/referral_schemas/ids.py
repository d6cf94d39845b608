"""Identifiers: the canonical referral id, derived from the referrer's own identifiers, new event
ids, and other random ids."""

from __future__ import annotations

import os
import uuid

from uuid_utils import compat as uuid_utils_std

# Fixed forever: changing it would change every referral id ever issued.
REFERRAL_NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-5b7a-9c61-2f0e4d8a7b35")
# ASCII unit separator: refused inside either identifier, so distinct pairs never share a name.
_SEPARATOR = "\x1f"


def referral_id_for(source_system: str, source_referral_id: str) -> uuid.UUID:
    """uuid5(REFERRAL_NAMESPACE, source_system + U+001F + source_referral_id), strings taken exactly.

    Deterministic, so a resubmission or an update of a referral maps to the same referral, and
    any party holding the source identifiers can compute it.
    """
    for name, value in (("source_system", source_system), ("source_referral_id", source_referral_id)):
        if not value or _SEPARATOR in value:
            raise ValueError(f"{name} must be non-empty and free of U+001F, got {value!r}")
    return uuid.uuid5(REFERRAL_NAMESPACE, f"{source_system}{_SEPARATOR}{source_referral_id}")


_ids_drawn: list[uuid.UUID] = []
# A forked child must not hand out the ids its parent drew.
os.register_at_fork(after_in_child=_ids_drawn.clear)


def new_random_id() -> uuid.UUID:
    """A random (version 4) UUID, as uuid.uuid4(), from randomness drawn 256 ids at a time: one
    system call per event was a measurable share of a service's time per event."""
    if not _ids_drawn:
        raw = os.urandom(16 * 256)
        _ids_drawn.extend(uuid.UUID(bytes=raw[i : i + 16], version=4) for i in range(0, len(raw), 16))
    return _ids_drawn.pop()


def new_event_id() -> uuid.UUID:
    """A time-ordered (version 7, RFC 9562) UUID: the current Unix time in milliseconds, then
    random bits. Every consumer's inbox and every outbox is indexed by event id; with ids drawn
    later sorting later, those indexes grow at their right-hand end instead of at random pages
    (a consumer's inbox claim over 60,000 events, on an inbox of a million rows, took 8.2 µs an
    event against 11.8 with random ids). An event's envelope carries its time anyway."""
    return uuid_utils_std.uuid7()  # a standard-library uuid.UUID
