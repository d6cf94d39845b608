"""What a KPI can be broken down by, and which cell(s) of a breakdown an episode falls in.

The contract's `KpiDimension` has no month, because `OutcomeKpi` carries the month as its
period; outcomes also breaks down by month of referral, so a dimension here is either.
"""

from __future__ import annotations

from typing import Final, Literal, TypeAlias

from referral_schemas.enums import KpiDimension

from outcomes.domain.episode import Episode

Month: TypeAlias = Literal["month"]
MONTH: Final[Month] = "month"
Dimension: TypeAlias = KpiDimension | Month
DIMENSIONS: Final[tuple[Dimension, ...]] = (*KpiDimension, MONTH)

ALL_VALUE: Final = "all"
UNKNOWN: Final = "unknown"
NO_PRIORITY_GROUP: Final = "none"


def dimension_values(episode: Episode, by: Dimension) -> tuple[str, ...]:
    """The cells `episode` counts in when broken down `by`.

    One cell for every dimension but the priority group: a patient can belong to several PLUS
    groups and counts in each (or in "none"), so those cells overlap and need not sum to the total.
    """
    p = episode.profile
    match by:
        case KpiDimension.ALL:
            return (ALL_VALUE,)
        case KpiDimension.PROGRAMME:
            return (p.programme.value,)
        case KpiDimension.PROVIDER:
            return (p.provider_id,)
        case KpiDimension.DISTRICT:
            return (p.district.value if p.district else UNKNOWN,)
        case KpiDimension.IMD_QUINTILE:
            return (str(p.imd_quintile) if p.imd_quintile else UNKNOWN,)
        case KpiDimension.CORE20:
            # Unknown deprivation is neither Core20 nor known to be outside it.
            if p.imd_quintile is None:
                return (UNKNOWN,)
            return ("core20" if p.core20 else "rest",)
        case KpiDimension.ETHNICITY:
            return (p.ethnic_group.value,)
        case KpiDimension.AGE_BAND:
            return (p.age_band.value,)
        case KpiDimension.SEX:
            return (p.sex.value,)
        case KpiDimension.PRIORITY_GROUP:
            return tuple(sorted(g.value for g in p.plus_groups)) or (NO_PRIORITY_GROUP,)
        case "month":
            return (p.referral_month,)
