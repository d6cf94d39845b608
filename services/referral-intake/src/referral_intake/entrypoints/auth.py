"""Who may use intake's HTTP API: a referrer (its ODS code) or "operator"."""

from __future__ import annotations

from servicekit.http import bearer_principal as principal_of

OPERATOR = "operator"

__all__ = ["OPERATOR", "may_see", "principal_of"]


def may_see(principal: str, referrer_ods_code: str) -> bool:
    return principal in (OPERATOR, referrer_ods_code)
