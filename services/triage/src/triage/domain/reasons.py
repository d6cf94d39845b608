"""Reasons as decisions state them: built from a few templates, so each distinct one is built
(and validated against the contract) once, where every decision used to build two or three."""

from __future__ import annotations

from functools import lru_cache

from referral_schemas.events.common import Reason


@lru_cache(maxsize=1024)
def reason(code: str, field: str | None, message: str) -> Reason:
    return Reason(code=code, field=field, message=message)
