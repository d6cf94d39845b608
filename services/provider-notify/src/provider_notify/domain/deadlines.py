"""The contact deadline an assignment is held to.

Triage's, in working days, unless the `contact_deadline_override_s` setting names its provider:
a setting for tests and demos, so that a provider that never answers can be seen to expire
within seconds. Nothing else moves the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta


def held_deadline(
    provider_id: str, promised: datetime, arrived: datetime, override_s: Mapping[str, float]
) -> datetime:
    """The contact deadline an assignment is held to: `promised` (triage's, in working days), or,
    when `override_s` (the tests' and demos' setting) names the provider, that many seconds after
    the assignment `arrived`, whichever is earlier. An override never extends a deadline."""
    seconds = override_s.get(provider_id)
    if seconds is None:
        return promised
    return min(promised, arrived + timedelta(seconds=seconds))
