"""Which services may take a referral, best first: local ones, then neighbouring districts.

Capacity is not known here (it lives in the database and is reserved atomically there); this
only orders the candidates, so the reservation can walk down the list until one has room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from referral_schemas.enums import District, Programme, RiskLevel
from triage.directory.model import Directory, Service


@dataclass(frozen=True)
class Candidate:
    service: Service
    district: District
    """The district whose service area made the service eligible."""
    fallback: bool
    """True when `district` is a neighbour of the patient's, because the local one is full."""
    distance_km: float


def candidates(
    directory: Directory,
    *,
    programme: Programme,
    risk: RiskLevel,
    age: int,
    district: District,
    neighbours: Sequence[tuple[District, float]],
    exclude_services: frozenset[str] = frozenset(),
) -> list[Candidate]:
    """Services able to take the referral: the patient's district first, then neighbours by
    distance (`neighbours`, nearest first). Within a district, larger monthly capacity first,
    then by id, so the order is stable."""
    # Remembered per directory: every placement asks, and a few hundred questions cover them all.
    key = (programme, risk, directory.age_band(age), district, tuple(neighbours), exclude_services)
    known = directory.matches.get(key)
    if known is None:
        found: list[Candidate] = []
        seen: set[str] = set(exclude_services)
        for area, km, fallback in [(district, 0.0, False), *((d, k, True) for d, k in neighbours)]:
            for s in directory.offering(programme, area):
                if s.id not in seen and s.accepts(programme, risk, age, area):
                    seen.add(s.id)
                    found.append(Candidate(s, area, fallback, km))
        if len(directory.matches) >= MEMORY:
            directory.matches.clear()
        known = directory.matches[key] = tuple(found)
    return list(known)


MEMORY = 4096
