"""The pseudonymous patient key every downstream event carries instead of the NHS number."""

from __future__ import annotations

import base64
import hashlib
import hmac


def patient_key(nhs_number: str, key: bytes) -> str:
    """HMAC-SHA256 of the normalised NHS number under `key`, URL-safe base64 without padding.

    Keyed, so that nobody without the key can test a guessed NHS number against a key; stable,
    so that outcomes can link one patient's referrals.
    """
    digest = hmac.new(key, nhs_number.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
