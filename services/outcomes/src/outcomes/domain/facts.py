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

from dataclasses import dataclass, field
from typing import Final

from referral_schemas.enums import KpiDimension

from outcomes.domain.dimensions import ALL_VALUE, NO_PRIORITY_GROUP, UNKNOWN, Dimension
from outcomes.domain.episode import Episode
from outcomes.domain.kpis import KPIS, Aggregate, Contribution


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


def fact_values(fact: KpiFact, by: Dimension) -> tuple[str, ...]:
    """The cells the fact's episode counts in when broken down `by`: what `dimension_values`
    gives for the episode, from its fact alone (a stored fact has no episode to ask)."""
    match by:
        case KpiDimension.ALL:
            return (ALL_VALUE,)
        case KpiDimension.PROGRAMME:
            return (fact.programme,)
        case KpiDimension.PROVIDER:
            return (fact.provider_id,)
        case KpiDimension.DISTRICT:
            return (fact.district or UNKNOWN,)
        case KpiDimension.IMD_QUINTILE:
            return (str(fact.imd_quintile) if fact.imd_quintile else UNKNOWN,)
        case KpiDimension.CORE20:
            if fact.imd_quintile is None:
                return (UNKNOWN,)
            return ("core20" if fact.imd_quintile == 1 else "rest",)
        case KpiDimension.ETHNICITY:
            return (fact.ethnic_group,)
        case KpiDimension.AGE_BAND:
            return (fact.age_band,)
        case KpiDimension.SEX:
            return (fact.sex,)
        case KpiDimension.PRIORITY_GROUP:
            return tuple(sorted(fact.plus_groups)) or (NO_PRIORITY_GROUP,)
        case "month":
            return (fact.month,)


# Every dimension is tallied but the month (`DIMENSIONS` less the month), which is a column of
# every tally instead.
TALLIED: Final[tuple[KpiDimension, ...]] = tuple(KpiDimension)
_NAMES: Final = tuple(kpi.name.value for kpi in KPIS)
_MEDIAN: Final = tuple(kpi.aggregate is Aggregate.MEDIAN for kpi in KPIS)

TallyKey = tuple[str, str, str, str]
"""(dimension, dimension value, referral month, KPI): one stored tally."""


def fact_cells(fact: KpiFact) -> list[tuple[str, str]]:
    """(dimension, value) of every tallied cell the fact's episode counts in."""
    return [(d.value, v) for d in TALLIED for v in fact_values(fact, d)]


def _placement(fact: KpiFact) -> tuple[object, ...]:
    return (
        fact.month,
        fact.programme,
        fact.provider_id,
        fact.district,
        fact.imd_quintile,
        fact.ethnic_group,
        fact.age_band,
        fact.sex,
        fact.plus_groups,
    )


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
        self.months.add(new.month)
        if old is not None and _placement(old) == _placement(new):
            # The episode stays in its cells: only the KPIs it contributes differently change.
            cells = fact_cells(new)
            for position, (was, now) in enumerate(zip(old.contributions, new.contributions, strict=True)):
                if was != now:
                    self._count(cells, new.month, position, was, -1)
                    self._count(cells, new.month, position, now, +1)
            return True
        if old is not None:
            self.months.add(old.month)
            self._count_fact(old, -1)
        self._count_fact(new, +1)
        return True

    def _count_fact(self, fact: KpiFact, sign: int) -> None:
        cells = fact_cells(fact)
        for position, part in enumerate(fact.contributions):
            self._count(cells, fact.month, position, part, sign)

    def _count(
        self, cells: list[tuple[str, str]], month: str, position: int, part: Contribution | None, sign: int
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
