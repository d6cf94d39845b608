"""Bearer tokens for the HTTP API: each maps to a referrer (its ODS code) or to "operator"."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from starlette.requests import Request

OPERATOR = "operator"


def principal_of(request: Request, api_keys: Mapping[str, str]) -> str | None:
    """Who sent `request`, or None when the token is missing or unknown.

    Only SHA-256 digests of tokens are configured, so a leaked settings file does not hand out
    working tokens; every entry is compared, in constant time, so timing reveals nothing.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    digest = hashlib.sha256(token.strip().encode()).hexdigest()
    found = None
    for principal, expected in api_keys.items():
        if hmac.compare_digest(digest, expected.lower()):
            found = principal
    return found


def may_see(principal: str, referrer_ods_code: str) -> bool:
    return principal in (OPERATOR, referrer_ods_code)
