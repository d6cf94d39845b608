"""Episode keys: pseudonyms of referral ids that outcomes alone can compute.

A keyed hash, so that an episode in the published stream cannot be linked back to the referral
(or to anything else in the workflow) without the outcomes service's secret, while every event
about one referral still finds its episode.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid


def episode_key(secret: bytes, referral_id: uuid.UUID) -> str:
    digest = hmac.new(secret, b"episode:" + referral_id.bytes, hashlib.sha256).digest()
    return "ep_" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
