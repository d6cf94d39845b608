"""The provider directory: Open Referral UK (HSDS) organisations, services and locations.

Validated as a whole at load: every reference resolves, capacity is given only for programmes
a service runs, and every district is served for every programme somewhere (or the gap is
visible in `unserved`).
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable
from functools import cached_property
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from referral_schemas.enums import District, Programme, RiskLevel

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organization(_Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=1000)


class Location(_Strict):
    id: Slug
    organization_id: Slug
    name: str = Field(min_length=1, max_length=200)
    postcode: str = Field(pattern=r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")
    district: District


class Eligibility(_Strict):
    min_age: int = Field(0, ge=0, le=130)
    max_age: int | None = Field(None, ge=0, le=130)


class Service(_Strict):
    id: Slug
    organization_id: Slug
    name: str = Field(min_length=1, max_length=200)
    locations: list[Slug] = Field(min_length=1)
    service_areas: list[District] = Field(min_length=1)
    programmes: list[Programme] = Field(min_length=1)
    risk_levels: list[RiskLevel] = Field(min_length=1)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    schedule: str = Field("", max_length=500)
    monthly_capacity: dict[Programme, int] = Field(
        description="New patients per programme per calendar month"
    )

    @model_validator(mode="after")
    def _capacity_matches_programmes(self) -> Self:
        if set(self.monthly_capacity) != set(self.programmes):
            raise ValueError("monthly_capacity must give a figure for exactly the programmes listed")
        if any(c < 0 for c in self.monthly_capacity.values()):
            raise ValueError("monthly_capacity figures cannot be negative")
        if self.eligibility.max_age is not None and self.eligibility.max_age < self.eligibility.min_age:
            raise ValueError("eligibility.max_age is below min_age")
        return self

    def accepts(self, programme: Programme, risk: RiskLevel, age: int, district: District) -> bool:
        el = self.eligibility
        return (
            programme in self.programmes
            and risk in self.risk_levels
            and district in self.service_areas
            and age >= el.min_age
            and (el.max_age is None or age <= el.max_age)
        )


class Directory(_Strict):
    version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    organizations: list[Organization] = Field(min_length=1)
    locations: list[Location] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)

    def age_band(self, age: int) -> int:
        """Ages in one band are admitted by exactly the same services (the bands are cut at every
        service's age limits), so matching can be remembered per band rather than per age."""
        return bisect.bisect_right(self._age_limits, age)

    @cached_property
    def _age_limits(self) -> list[int]:
        limits = {s.eligibility.min_age for s in self.services}
        limits |= {s.eligibility.max_age + 1 for s in self.services if s.eligibility.max_age is not None}
        return sorted(limits)

    @cached_property
    def matches(self) -> dict[Hashable, tuple[Any, ...]]:
        """Room for `matching.candidates` to remember its answers, which depend on this
        directory only; a reloaded directory starts with none."""
        return {}

    def offering(self, programme: Programme, district: District) -> tuple[Service, ...]:
        """The services running `programme` in `district`, larger monthly capacity first, then
        by id (a stable order)."""
        return self._offering_index.get((programme, district), ())

    @cached_property
    def _offering_index(self) -> dict[tuple[Programme, District], tuple[Service, ...]]:
        # Every placement asks; the answer depends on the directory only, so it is worked out
        # once per directory loaded (a cached_property is a plain attribute once computed).
        index: dict[tuple[Programme, District], list[Service]] = {}
        for s in self.services:
            for programme in s.programmes:
                for district in s.service_areas:
                    index.setdefault((programme, district), []).append(s)
        return {
            key: tuple(sorted(found, key=lambda s: (-s.monthly_capacity.get(key[0], 0), s.id)))
            for key, found in index.items()
        }

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        orgs = {o.id for o in self.organizations}
        locations = {loc.id: loc for loc in self.locations}
        for kind, ids in (
            ("organization", [o.id for o in self.organizations]),
            ("location", [loc.id for loc in self.locations]),
            ("service", [s.id for s in self.services]),
        ):
            if len(ids) != len(set(ids)):
                raise ValueError(f"{kind} ids are not unique")
        for loc in self.locations:
            if loc.organization_id not in orgs:
                raise ValueError(f"location {loc.id} names unknown organization {loc.organization_id}")
        for s in self.services:
            if s.organization_id not in orgs:
                raise ValueError(f"service {s.id} names unknown organization {s.organization_id}")
            for lid in s.locations:
                if lid not in locations:
                    raise ValueError(f"service {s.id} names unknown location {lid}")
                if locations[lid].organization_id != s.organization_id:
                    raise ValueError(f"service {s.id} uses location {lid} of another organization")
        return self

    def organization(self, organization_id: str) -> Organization:
        return next(o for o in self.organizations if o.id == organization_id)

    def unserved(self) -> list[tuple[District, Programme]]:
        """(district, programme) pairs no service covers: referrals there need a fallback."""
        return [
            (d, p)
            for d in District
            for p in Programme
            if not any(p in s.programmes and d in s.service_areas for s in self.services)
        ]
