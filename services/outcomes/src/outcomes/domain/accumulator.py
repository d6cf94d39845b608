"""KPIs kept up to date as episodes change, without recomputing them from every episode.

Each cell keeps running sums (and, for a median, a count of each value), so an episode's
contribution can be taken out as exactly as it was put in. When an event changes an episode,
`replace` the old version with the new one. `cells` gives what `kpis.compute` would give over
the episodes held.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from referral_schemas.enums import KpiDimension, KpiName

from outcomes.domain.dimensions import ALL_VALUE, DIMENSIONS, Dimension, dimension_values
from outcomes.domain.episode import Episode
from outcomes.domain.kpis import KPIS, Aggregate, Contribution, Figures, KpiCell, check_period, publish

_AGGREGATES = {kpi.name: kpi.aggregate for kpi in KPIS}


@dataclass
class Tally:
    numerator: int = 0
    denominator: int = 0
    episodes: int = 0
    values: Counter[int] = field(default_factory=Counter)

    def add(self, part: Contribution, sign: int) -> None:
        self.numerator += sign * part.numerator
        self.denominator += sign * part.denominator
        self.episodes += sign
        self.values[part.numerator] += sign
        if not self.values[part.numerator]:
            del self.values[part.numerator]

    def figures(self, aggregate: Aggregate) -> Figures | None:
        n = self.episodes
        if n == 0:
            return None
        match aggregate:
            case Aggregate.RATE:
                if self.denominator == 0:
                    return None
                return Figures(self.numerator, self.denominator, n, self.numerator / self.denominator)
            case Aggregate.MEAN:
                return Figures(None, n, n, self.numerator / n)
            case Aggregate.MEDIAN:
                return Figures(None, n, n, _median(self.values, n))


def _median(values: Counter[int], n: int) -> float:
    wanted = {(n - 1) // 2, n // 2}
    found: list[int] = []
    seen = 0
    for value in sorted(values):
        count = values[value]
        found.extend(value for position in wanted if seen <= position < seen + count)
        seen += count
    low, high = min(found), max(found)
    return float(low) if low == high else (low + high) / 2


def cells_from_tallies(
    by: Dimension,
    period: str | None,
    by_value: Mapping[KpiName, Mapping[str, Tally]],
    total: Mapping[KpiName, Tally],
) -> list[KpiCell]:
    """The published cells of every KPI, from the tallies of a breakdown and of its total."""
    cells: list[KpiCell] = []
    for kpi in KPIS:
        figures = {
            value: f
            for value, tally in by_value.get(kpi.name, {}).items()
            if (f := tally.figures(kpi.aggregate))
        }
        total_tally = total.get(kpi.name)
        cells.extend(
            publish(
                kpi.name, by, period, figures, total_tally.figures(kpi.aggregate) if total_tally else None
            )
        )
    return cells


# (dimension, period) -> KPI -> dimension value -> tally
_Cells = dict[tuple[Dimension, str | None], dict[KpiName, dict[str, Tally]]]


class KpiAccumulator:
    """Running KPIs over a changing set of episodes, one version of each episode at a time."""

    def __init__(self, episodes: Iterable[Episode] = ()) -> None:
        self._members: dict[str, Episode] = {}
        self._cells: _Cells = {}
        for episode in episodes:
            self.add(episode)

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, episode_id: object) -> bool:
        return episode_id in self._members

    def add(self, episode: Episode) -> None:
        """Count `episode` in. Raises ValueError if a version of it is already counted."""
        if episode.episode_id in self._members:
            raise ValueError(f"episode {episode.episode_id} is already counted: replace it instead")
        self._members[episode.episode_id] = episode
        self._count(episode, +1)

    def remove(self, episode: Episode) -> None:
        """Take `episode` out, as it was counted in. Raises ValueError if it is not counted."""
        counted = self._members.pop(episode.episode_id, None)
        if counted is None:
            raise ValueError(f"episode {episode.episode_id} is not counted")
        self._count(counted, -1)

    def replace(self, episode: Episode) -> None:
        """Count the new version of `episode` instead of the one held (if any)."""
        if episode.episode_id in self._members:
            self.remove(episode)
        self.add(episode)

    def cells(self, *, by: Dimension, period: str | None = None) -> list[KpiCell]:
        """The same cells `kpis.compute(episodes held, by=by, period=period)` returns."""
        check_period(period)
        breakdown = self._cells.get((by, period), {})
        totals = self._cells.get((KpiDimension.ALL, period), {})
        total = {name: t[ALL_VALUE] for name, t in totals.items() if ALL_VALUE in t}
        return cells_from_tallies(by, period, breakdown, total)

    def _count(self, episode: Episode, sign: int) -> None:
        parts = [(kpi.name, part) for kpi in KPIS if (part := kpi.contribution(episode)) is not None]
        for period in (None, episode.profile.referral_month):
            for dimension in DIMENSIONS:
                breakdown = self._cells.setdefault((dimension, period), {})
                for value in dimension_values(episode, dimension):
                    for name, part in parts:
                        by_value = breakdown.setdefault(name, {})
                        tally = by_value.setdefault(value, Tally())
                        tally.add(part, sign)
                        if tally.episodes == 0:
                            del by_value[value]
