"""Bands and groups commissioners see in place of a patient's age and NHS ethnic category."""

from __future__ import annotations

from referral_schemas.enums import AgeBand, EthnicGroup

# Lower bound of each band, youngest first; the last band is open-ended.
_AGE_BANDS: tuple[tuple[int, AgeBand], ...] = (
    (16, AgeBand.AGE_16_17),
    (18, AgeBand.AGE_18_34),
    (35, AgeBand.AGE_35_49),
    (50, AgeBand.AGE_50_64),
    (65, AgeBand.AGE_65_74),
    (75, AgeBand.AGE_75_PLUS),
)

# NHS Data Dictionary ethnic category letters, grouped as the census groups them.
_ETHNIC_GROUPS: dict[str, EthnicGroup] = {
    **dict.fromkeys("ABC", EthnicGroup.WHITE),
    **dict.fromkeys("DEFG", EthnicGroup.MIXED),
    **dict.fromkeys("HJKL", EthnicGroup.ASIAN),
    **dict.fromkeys("MNP", EthnicGroup.BLACK),
    **dict.fromkeys("RS", EthnicGroup.OTHER),
    "Z": EthnicGroup.NOT_STATED,
    "99": EthnicGroup.NOT_STATED,
}


def age_band(age_years: int) -> AgeBand:
    """The band of an age at referral. Raises ValueError below 16, which no band covers."""
    band: AgeBand | None = None
    for lower, candidate in _AGE_BANDS:
        if age_years >= lower:
            band = candidate
    if band is None:
        raise ValueError(f"no age band covers {age_years}: the youngest band starts at 16")
    return band


def ethnic_group(category: str | None) -> EthnicGroup:
    """The broad group of an NHS ethnic category code; a missing or unknown code is not stated."""
    if category is None:
        return EthnicGroup.NOT_STATED
    return _ETHNIC_GROUPS.get(category.strip().upper(), EthnicGroup.NOT_STATED)
