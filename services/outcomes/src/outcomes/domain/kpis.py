"""The KPIs commissioners receive, defined as data, and their computation over episodes.

Every KPI is built from what one episode contributes to it (or nothing, when the episode is not
in its denominator), so that the same definition serves a from-scratch `compute` and the
incremental `KpiAccumulator`. A period selects the episodes referred in that month (a referral
cohort), so a month's figures keep maturing as its episodes progress.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple

from referral_schemas.enums import (
    ActivityIndex,
    D2AOutcome,
    KpiDimension,
    KpiName,
    Programme,
    Suppression,
    Timepoint,
)

from outcomes.domain.dimensions import Dimension, dimension_values
from outcomes.domain.episode import Episode
from outcomes.domain.suppression import Counts, suppress

_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_ACTIVE: Final = frozenset({ActivityIndex.MODERATELY_ACTIVE, ActivityIndex.ACTIVE})
_ADHERENT_SHARE: Final = (3, 4)  # attended at least 3/4 of the sessions offered
_FOLLOW_UPS_LAST_FIRST: Final = (Timepoint.MONTH_12, Timepoint.MONTH_6, Timepoint.WEEK_12, Timepoint.BASELINE)


class Aggregate(StrEnum):
    RATE = "rate"  # sum of numerators / sum of denominators
    MEAN = "mean"  # mean of the episodes' values
    MEDIAN = "median"  # median of the episodes' values


class Contribution(NamedTuple):
    """What one episode adds: a numerator and denominator, or (for a mean or median) its value and 1."""

    numerator: int
    denominator: int


@dataclass(frozen=True)
class KpiDefinition:
    name: KpiName
    aggregate: Aggregate
    numerator: str
    denominator: str
    description: str
    contribution: Callable[[Episode], Contribution | None]


def _uptake(e: Episode) -> Contribution:
    return Contribution(int(e.milestones.enrolled_on is not None), 1)


def _days_to_first_contact(e: Episode) -> Contribution | None:
    contact = e.milestones.first_contact_on
    return None if contact is None else Contribution((contact - e.profile.referral_date).days, 1)


def _finished_sessions(e: Episode) -> tuple[int, int] | None:
    # While an episode runs, "offered" is the whole programme and most sessions lie ahead, so
    # only episodes that have ended say anything about adherence.
    m = e.milestones
    if not m.ended or not m.sessions_offered:
        return None
    # A session beyond those offered (a catch-up) does not make adherence exceed 100%.
    return min(m.sessions_attended, m.sessions_offered), m.sessions_offered


def _adherence(e: Episode) -> Contribution | None:
    sessions = _finished_sessions(e)
    return None if sessions is None else Contribution(*sessions)


def _adherence_75(e: Episode) -> Contribution | None:
    sessions = _finished_sessions(e)
    if sessions is None:
        return None
    attended, offered = sessions
    part, whole = _ADHERENT_SHARE
    return Contribution(int(attended * whole >= offered * part), 1)


def _completion(e: Episode) -> Contribution | None:
    if e.milestones.enrolled_on is None:
        return None
    return Contribution(int(e.milestones.completed_on is not None), 1)


def _inactive_to_active(e: Episode) -> Contribution | None:
    baseline, week_12 = e.current(Timepoint.BASELINE), e.current(Timepoint.WEEK_12)
    if baseline is None or week_12 is None or week_12.activity_index is None:
        return None
    if baseline.activity_index is not ActivityIndex.INACTIVE:
        return None
    return Contribution(int(week_12.activity_index in _ACTIVE), 1)


def _mvpa_change(e: Episode) -> Contribution | None:
    baseline, week_12 = e.current(Timepoint.BASELINE), e.current(Timepoint.WEEK_12)
    if baseline is None or week_12 is None:
        return None
    if baseline.mvpa_minutes_per_week is None or week_12.mvpa_minutes_per_week is None:
        return None
    return Contribution(week_12.mvpa_minutes_per_week - baseline.mvpa_minutes_per_week, 1)


def _wellbeing_change(e: Episode) -> Contribution | None:
    baseline, week_12 = e.current(Timepoint.BASELINE), e.current(Timepoint.WEEK_12)
    if baseline is None or week_12 is None:
        return None
    if baseline.wellbeing_swemwbs is None or week_12.wellbeing_swemwbs is None:
        return None
    return Contribution(week_12.wellbeing_swemwbs - baseline.wellbeing_swemwbs, 1)


def _d2a_outcome(e: Episode) -> D2AOutcome | None:
    # The latest assessment is the outcome: reablement can still change it at a later timepoint.
    for timepoint in _FOLLOW_UPS_LAST_FIRST:
        measures = e.current(timepoint)
        if measures is not None and measures.d2a_outcome is not None:
            return measures.d2a_outcome
    return None


def _d2a_independent(e: Episode) -> Contribution | None:
    if e.profile.programme is not Programme.DISCHARGE_TO_ASSESS:
        return None
    outcome = _d2a_outcome(e)
    return None if outcome is None else Contribution(int(outcome is D2AOutcome.INDEPENDENT), 1)


def _d2a_at_home_91(e: Episode) -> Contribution | None:
    if e.profile.programme is not Programme.DISCHARGE_TO_ASSESS:
        return None
    for timepoint in _FOLLOW_UPS_LAST_FIRST:
        measures = e.current(timepoint)
        if measures is not None and measures.at_home_91_days is not None:
            return Contribution(int(measures.at_home_91_days), 1)
    return None


KPIS: Final[tuple[KpiDefinition, ...]] = (
    KpiDefinition(
        KpiName.UPTAKE,
        Aggregate.RATE,
        numerator="episodes enrolled on the programme",
        denominator="episodes referred (placed on a programme)",
        description="Share of referrals that led to enrolment",
        contribution=_uptake,
    ),
    KpiDefinition(
        KpiName.TIME_TO_FIRST_CONTACT_DAYS,
        Aggregate.MEDIAN,
        numerator="days from referral to the provider's first contact, per episode",
        denominator="episodes with a first contact",
        description="Median days from referral to first contact",
        contribution=_days_to_first_contact,
    ),
    KpiDefinition(
        KpiName.ADHERENCE,
        Aggregate.RATE,
        numerator="sessions attended (at most the sessions offered), in episodes that have ended",
        denominator="sessions offered, in episodes that completed or dropped out",
        description="Share of offered sessions attended",
        contribution=_adherence,
    ),
    KpiDefinition(
        KpiName.ADHERENCE_75,
        Aggregate.RATE,
        numerator="ended episodes that attended at least 75% of the sessions offered",
        denominator="episodes that completed or dropped out with sessions offered",
        description="Share of participants attending at least three quarters of their sessions",
        contribution=_adherence_75,
    ),
    KpiDefinition(
        KpiName.COMPLETION,
        Aggregate.RATE,
        numerator="enrolled episodes that completed the programme",
        denominator="episodes enrolled",
        description="Share of enrolled participants who completed",
        contribution=_completion,
    ),
    KpiDefinition(
        KpiName.INACTIVE_TO_ACTIVE_12W,
        Aggregate.RATE,
        numerator="of those, moderately active or active at 12 weeks",
        denominator="episodes inactive (GPPAQ) at baseline with a 12-week activity index",
        description="Share of inactive participants who became at least moderately active by 12 weeks",
        contribution=_inactive_to_active,
    ),
    KpiDefinition(
        KpiName.ACTIVITY_MINUTES_CHANGE,
        Aggregate.MEAN,
        numerator="12-week minus baseline MVPA minutes per week, per episode",
        denominator="episodes with MVPA minutes at baseline and 12 weeks",
        description="Mean change in moderate-to-vigorous activity minutes per week, baseline to 12 weeks",
        contribution=_mvpa_change,
    ),
    KpiDefinition(
        KpiName.WELLBEING_CHANGE,
        Aggregate.MEAN,
        numerator="12-week minus baseline SWEMWBS score, per episode",
        denominator="episodes with SWEMWBS at baseline and 12 weeks",
        description="Mean change in SWEMWBS wellbeing score, baseline to 12 weeks",
        contribution=_wellbeing_change,
    ),
    KpiDefinition(
        KpiName.D2A_INDEPENDENT,
        Aggregate.RATE,
        numerator="of those, independent with no ongoing care needs",
        denominator="Discharge to Assess episodes with a recorded reablement outcome",
        description="Share of Discharge to Assess patients fully independent (LLR pilot: 58% of 401)",
        contribution=_d2a_independent,
    ),
    KpiDefinition(
        KpiName.D2A_AT_HOME_91,
        Aggregate.RATE,
        numerator="of those, at home 91 days after discharge",
        denominator="Discharge to Assess episodes with the 91-day status recorded",
        description="Share of Discharge to Assess patients still at home 91 days after discharge",
        contribution=_d2a_at_home_91,
    ),
)


@dataclass(frozen=True)
class Figures:
    """A cell's numbers before disclosure control. A mean or median has no numerator."""

    numerator: int | None
    denominator: int
    episodes: int
    value: float

    def counts(self) -> Counts:
        return Counts(self.numerator, self.denominator, self.episodes)


@dataclass(frozen=True)
class KpiCell:
    """One published cell: what `OutcomeKpi` needs, with the numbers withheld when suppressed.

    `period` is the referral month the cell covers, or None for all time. A cell broken down by
    month has the month as its dimension value; in `OutcomeKpi`, which has no month dimension,
    that is the period with dimension "all". `episodes` is how many episodes the cell rests on,
    which only adherence (counting sessions) distinguishes from the denominator.
    """

    kpi: KpiName
    dimension: Dimension
    dimension_value: str
    period: str | None
    numerator: int | None
    denominator: int | None
    episodes: int | None
    value: float | None
    suppression: Suppression

    @property
    def suppressed(self) -> bool:
        return self.suppression is not Suppression.NONE


def check_period(period: str | None) -> None:
    if period is not None and not _MONTH.match(period):
        raise ValueError(f"period must be a month, YYYY-MM, not {period!r}")


def compute(episodes: Iterable[Episode], *, by: Dimension, period: str | None = None) -> list[KpiCell]:
    """Every KPI broken down `by`, over the episodes referred in `period` (all when None).

    Cells come KPI by KPI in the order of `KPIS`, then by dimension value; a cell with nothing in
    its denominator is left out. Suppression is applied (see `suppression`).
    """
    check_period(period)
    chosen = [e for e in episodes if period is None or e.profile.referral_month == period]
    groups: dict[str, list[Episode]] = defaultdict(list)
    for episode in chosen:
        for value in dimension_values(episode, by):
            groups[value].append(episode)
    cells: list[KpiCell] = []
    for kpi in KPIS:
        total = _figures(kpi, chosen)
        by_value = {value: f for value, members in groups.items() if (f := _figures(kpi, members))}
        cells.extend(publish(kpi.name, by, period, by_value, total))
    return cells


def _figures(kpi: KpiDefinition, episodes: Iterable[Episode]) -> Figures | None:
    parts = [c for e in episodes if (c := kpi.contribution(e)) is not None]
    if not parts:
        return None
    n = len(parts)
    values = [c.numerator for c in parts]
    match kpi.aggregate:
        case Aggregate.RATE:
            numerator, denominator = sum(values), sum(c.denominator for c in parts)
            if denominator == 0:
                return None
            return Figures(numerator, denominator, n, numerator / denominator)
        case Aggregate.MEAN:
            return Figures(None, n, n, sum(values) / n)
        case Aggregate.MEDIAN:
            return Figures(None, n, n, float(statistics.median(values)))


def publish(
    kpi: KpiName,
    by: Dimension,
    period: str | None,
    by_value: Mapping[str, Figures],
    total: Figures | None,
) -> list[KpiCell]:
    """The cells of one KPI's breakdown, with disclosure control against the breakdown's total."""
    values = sorted(by_value)
    figures = [by_value[v] for v in values]
    published_total = None if by is KpiDimension.ALL or total is None else total.counts()
    verdicts = suppress([f.counts() for f in figures], total=published_total)
    cells = []
    for value, f, verdict in zip(values, figures, verdicts, strict=True):
        if verdict is Suppression.NONE:
            cells.append(
                KpiCell(kpi, by, value, period, f.numerator, f.denominator, f.episodes, f.value, verdict)
            )
        else:
            cells.append(KpiCell(kpi, by, value, period, None, None, None, None, verdict))
    return cells
