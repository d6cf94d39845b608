"""An episode flattened into the row the KPI queries aggregate: its breakdown values and what it
contributes to each KPI (or nothing, outside that KPI's denominator).

The contributions come from the KPI definitions themselves, so a query summing these rows gives
what `kpis.compute` gives over the episodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from outcomes.domain.episode import Episode
from outcomes.domain.kpis import KPIS, Contribution


@dataclass(frozen=True)
class KpiFact:
    episode_id: str
    month: str
    programme: str
    provider_id: str
    district: str | None
    imd_quintile: int | None
    ethnic_group: str
    age_band: str
    sex: str
    plus_groups: tuple[str, ...]
    contributions: tuple[Contribution | None, ...]
    """One per KPI, in the order of `KPIS`."""


def kpi_fact(episode: Episode) -> KpiFact:
    p = episode.profile
    return KpiFact(
        episode_id=episode.episode_id,
        month=p.referral_month,
        programme=p.programme.value,
        provider_id=p.provider_id,
        district=p.district.value if p.district else None,
        imd_quintile=p.imd_quintile,
        ethnic_group=p.ethnic_group.value,
        age_band=p.age_band.value,
        sex=p.sex.value,
        plus_groups=tuple(sorted(g.value for g in p.plus_groups)),
        contributions=tuple(kpi.contribution(episode) for kpi in KPIS),
    )
