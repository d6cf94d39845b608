"""Deprivation and neighbouring districts from the LLR reference data (llr_geo)."""

from __future__ import annotations

from collections.abc import Sequence

import llr_geo
from referral_schemas.enums import DeprivationSource, District


class LlrDeprivation:
    def __init__(self) -> None:
        llr_geo.load()  # at start-up, not in the first batch

    def deprivation_for(self, postcode: str | None, lsoa: str | None) -> tuple[int | None, DeprivationSource]:
        found = llr_geo.deprivation_for(postcode, lsoa)
        return found.imd_decile, found.source


def neighbours(district: District) -> Sequence[tuple[District, float]]:
    return llr_geo.neighbours_by_distance(district)
