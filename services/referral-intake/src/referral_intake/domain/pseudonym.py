"""The pseudonymous patient key every downstream event carries instead of the NHS number."""

from __future__ import annotations

import base64
import hashlib
import hmac


def patient_key(nhs_number: str, key: bytes) -> str:
    """HMAC-SHA256 of a normalised NHS number under `key`, URL-safe base64 without padding.

    Keyed, so that nobody without the key can test a guessed NHS number against a patient key;
    deterministic, so that one patient's referrals link up. The result (43 characters of
    A-Z a-z 0-9 - _) fits `referral_schemas.primitives.PseudonymousKey`.

    Raises ValueError for an empty key or a number that is not ten ASCII digits: hashing
    "999 000 0018" and "9990000018" to different keys would split one patient in two.
    """
    if not key:
        raise ValueError("the patient key needs a non-empty secret")
    if len(nhs_number) != 10 or not (nhs_number.isascii() and nhs_number.isdigit()):
        raise ValueError("patient_key takes a normalised NHS number (10 digits)")
    digest = hmac.new(key, nhs_number.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
