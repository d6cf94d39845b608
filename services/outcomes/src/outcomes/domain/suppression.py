"""Statistical disclosure control for KPI cells (the NHS small-number rule).

Primary suppression: a cell is withheld when any count it rests on is between 1 and 4: its
numerator, its denominator, or the number of episodes (people) behind it, which differs from the
denominator when that counts sessions. Zero is published: it describes nobody.

Secondary suppression: the cells of one breakdown (every district, say) add up to the breakdown's
total, the "all" cell of the same KPI and period. If exactly one of them is withheld while the
total is published, the total minus the others gives it back. So the smallest other cell (fewest
episodes, then smallest denominator, then numerator, then first in order) is withheld too, and this
repeats until no withheld cell stands alone in its breakdown or the total itself is withheld. With
two or more withheld, subtraction yields only their sum.

Each KPI is protected on its own; see docs/kpis.md for the limits of that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from referral_schemas.enums import Suppression

SMALLEST_PUBLISHED = 5


@dataclass(frozen=True)
class Counts:
    """The counts one cell would publish or rests on; None where the cell has no such count."""

    numerator: int | None
    denominator: int
    episodes: int


def is_small(counts: Counts) -> bool:
    """True when a count names between 1 and 4 people or events."""
    return any(
        c is not None and 0 < c < SMALLEST_PUBLISHED
        for c in (counts.numerator, counts.denominator, counts.episodes)
    )


def suppress(cells: Sequence[Counts], *, total: Counts | None) -> list[Suppression]:
    """How each cell of one breakdown is published, in order.

    `total` is the breakdown's published total (the "all" cell), or None when there is none to
    subtract from: for the "all" breakdown itself, or when no total is published.
    """
    verdicts = [Suppression.PRIMARY if is_small(c) else Suppression.NONE for c in cells]
    if total is None or is_small(total):
        return verdicts
    while sum(v is not Suppression.NONE for v in verdicts) == 1:
        open_cells = [i for i, v in enumerate(verdicts) if v is Suppression.NONE]
        if not open_cells:
            break
        smallest = min(open_cells, key=lambda i: _size(cells[i], i))
        verdicts[smallest] = Suppression.SECONDARY
    return verdicts


def _size(counts: Counts, position: int) -> tuple[int, int, int, int]:
    return (counts.episodes, counts.denominator, counts.numerator or 0, position)
