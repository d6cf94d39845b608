"""The served area, from the LLR postcode directory (ONS data packaged in llr_geo)."""

from __future__ import annotations

import llr_geo
from referral_schemas.enums import District


class LlrArea:
    """Leicester, Leicestershire and Rutland: the nine districts this deployment serves."""

    def __init__(self) -> None:
        llr_geo.load()  # at start-up, not in the first batch

    def normalise_postcode(self, raw: str) -> str | None:
        return llr_geo.normalise_postcode(raw)

    def district_for(self, postcode: str) -> District | None:
        info = llr_geo.lookup_postcode(postcode)
        return info.district if info is not None else None
