"""The deprivation figure triage needs, from whatever reference data the service wires in."""

from __future__ import annotations

from typing import Protocol

from referral_schemas.enums import DeprivationSource


class DeprivationLookup(Protocol):
    def deprivation_for(self, postcode: str | None, lsoa: str | None) -> tuple[int | None, DeprivationSource]:
        """IMD decile (1 most deprived) and where it came from; (None, UNKNOWN) if not found."""
        ...
