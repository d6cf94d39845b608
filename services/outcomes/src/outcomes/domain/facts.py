"""An episode flattened into the row the KPI queries aggregate: its breakdown values and what it
contributes to each KPI (or nothing, outside that KPI's denominator).

The contributions come from the KPI definitions themselves, so a query summing these rows gives
what `kpis.compute` gives over the episodes.

The facts are also tallied as they change: `TallyDeltas` turns a batch of (previous fact, new
fact) pairs into the changes of the stored per-(dimension, value, month, KPI) tallies, which are
additive (sums, counts and, for a median, counts of each value), so unfiltered breakdowns read a
few hundred tallies instead of every fact.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Final

from referral_schemas.enums import KpiDimension

from outcomes.domain.dimensions import ALL_VALUE, NO_PRIORITY_GROUP, UNKNOWN, Dimension
from outcomes.domain.episode import Episode, Placement
from outcomes.domain.kpis import KPIS, Aggregate, Contribution


@dataclass(frozen=True)
class KpiFact:
    episode_id: str
    placement: Placement
    contributions: tuple[Contribution | None, ...]
    """One per KPI, in the order of `KPIS`."""


def kpi_fact(episode: Episode) -> KpiFact:
    return KpiFact(
        episode_id=episode.episode_id,
        placement=episode.profile.placement,
        contributions=tuple(kpi.contribution(episode) for kpi in KPIS),
    )


def fact_values(placement: Placement, by: Dimension) -> tuple[str, ...]:
    """The cells an episode placed so counts in when broken down `by`: what `dimension_values`
    gives for the episode, from its fact's placement alone (a stored fact has no episode to ask)."""
    match by:
        case KpiDimension.ALL:
            return (ALL_VALUE,)
        case KpiDimension.PROGRAMME:
            return (placement.programme,)
        case KpiDimension.PROVIDER:
            return (placement.provider_id,)
        case KpiDimension.DISTRICT:
            return (placement.district or UNKNOWN,)
        case KpiDimension.IMD_QUINTILE:
            return (str(placement.imd_quintile) if placement.imd_quintile else UNKNOWN,)
        case KpiDimension.CORE20:
            if placement.imd_quintile is None:
                return (UNKNOWN,)
            return ("core20" if placement.imd_quintile == 1 else "rest",)
        case KpiDimension.ETHNICITY:
            return (placement.ethnic_group,)
        case KpiDimension.AGE_BAND:
            return (placement.age_band,)
        case KpiDimension.SEX:
            return (placement.sex,)
        case KpiDimension.PRIORITY_GROUP:
            return tuple(sorted(placement.plus_groups)) or (NO_PRIORITY_GROUP,)
        case "month":
            return (placement.month,)


# Every dimension is tallied but the month (`DIMENSIONS` less the month), which is a column of
# every tally instead.
TALLIED: Final[tuple[KpiDimension, ...]] = tuple(KpiDimension)
_NAMES: Final = tuple(kpi.name.value for kpi in KPIS)
_MEDIAN: Final = tuple(kpi.aggregate is Aggregate.MEDIAN for kpi in KPIS)

TallyKey = tuple[str, str, str, str]
"""(dimension, dimension value, referral month, KPI): one stored tally."""


@functools.lru_cache(maxsize=4096)
def fact_cells(placement: Placement) -> tuple[tuple[str, str], ...]:
    """(dimension, value) of every tallied cell an episode placed so counts in. Remembered: the
    episodes of a batch share a few hundred placements at most, and a changed fact is counted
    in each of its cells."""
    return tuple((d.value, v) for d in TALLIED for v in fact_values(placement, d))


@dataclass
class TallyDeltas:
    """How a batch of changed facts changes the stored tallies: per (dimension, value, month, KPI)
    the change of its numerator, denominator and episodes, and for a median KPI the change of
    how often each value occurs. Additive, so the deltas of concurrent batches commute."""

    tallies: dict[TallyKey, list[int]] = field(default_factory=dict)
    value_counts: dict[tuple[str, str, str, str, int], int] = field(default_factory=dict)
    months: set[str] = field(default_factory=set)

    def replace(self, old: KpiFact | None, new: KpiFact) -> bool:
        """Take `old` out (if any) and count `new` in; False when they are the same."""
        if old == new:
            return False
        self.months.add(new.placement.month)
        if old is not None and old.placement == new.placement:
            # The episode stays in its cells: only the KPIs it contributes differently change.
            cells = fact_cells(new.placement)
            for position, (was, now) in enumerate(zip(old.contributions, new.contributions, strict=True)):
                if was != now:
                    self._count(cells, new.placement.month, position, was, -1)
                    self._count(cells, new.placement.month, position, now, +1)
            return True
        if old is not None:
            self.months.add(old.placement.month)
            self._count_fact(old, -1)
        self._count_fact(new, +1)
        return True

    def _count_fact(self, fact: KpiFact, sign: int) -> None:
        cells = fact_cells(fact.placement)
        for position, part in enumerate(fact.contributions):
            self._count(cells, fact.placement.month, position, part, sign)

    def _count(
        self,
        cells: tuple[tuple[str, str], ...],
        month: str,
        position: int,
        part: Contribution | None,
        sign: int,
    ) -> None:
        if part is None:
            return
        kpi, median = _NAMES[position], _MEDIAN[position]
        n, d = sign * part.numerator, sign * part.denominator
        for dimension, value in cells:
            key = (dimension, value, month, kpi)
            tally = self.tallies.get(key)
            if tally is None:
                self.tallies[key] = [n, d, sign]
            else:
                tally[0] += n
                tally[1] += d
                tally[2] += sign
            if median:
                counted = (*key, part.numerator)
                self.value_counts[counted] = self.value_counts.get(counted, 0) + sign

    def changed_tallies(self) -> list[tuple[TallyKey, list[int]]]:
        """The tallies that change, in key order (the order rows are locked in)."""
        return sorted((k, t) for k, t in self.tallies.items() if any(t))

    def changed_value_counts(self) -> list[tuple[tuple[str, str, str, str, int], int]]:
        return sorted((k, c) for k, c in self.value_counts.items() if c)
