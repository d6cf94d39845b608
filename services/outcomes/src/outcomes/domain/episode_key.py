"""Episode keys: pseudonyms of referral ids that outcomes alone can compute.

A keyed hash, so that an episode in the published stream cannot be linked back to the referral
(or to anything else in the workflow) without the outcomes service's secret, while every event
about one referral still finds its episode.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import uuid


# Asked for twice per event (the batch's prefetch, then its handler) and by each of an episode's
# events; the HMAC and its encoding cost about 2 us each time.
@functools.lru_cache(maxsize=16_384)
def episode_key(secret: bytes, referral_id: uuid.UUID) -> str:
    digest = hmac.new(secret, b"episode:" + referral_id.bytes, hashlib.sha256).digest()
    return "ep_" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
