"""The canonical referral id, derived from the referrer's own identifiers."""

from __future__ import annotations

import uuid

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
