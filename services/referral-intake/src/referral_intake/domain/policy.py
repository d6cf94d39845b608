"""The deployment's choices for the submission checks, and the served area they consult."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from referral_schemas.enums import District

# Older than anyone alive: a date of birth giving more is a typing error (date_of_birth.implausible).
OLDEST_PLAUSIBLE_AGE = 120


class AreaLookup(Protocol):
    """The postcode directory of the served area (in production `llr_geo`, via an adapter)."""

    def normalise_postcode(self, raw: str) -> str | None:
        """The postcode in ONS form ("LE1 5WW"), or None when `raw` is not a UK postcode."""
        ...

    def district_for(self, postcode: str) -> District | None:
        """The served district of a normalised postcode; None when outside the area or unknown."""
        ...


@dataclass(frozen=True)
class ValidationPolicy:
    """What a deployment decides about the checks; refuses settings that make no sense."""

    accept_test_nhs_numbers: bool = False
    max_free_text: int = 2000
    min_age: int = 16
    max_age: int = 120

    def __post_init__(self) -> None:
        if self.max_free_text < 1:
            raise ValueError("max_free_text must be at least 1")
        if not 0 <= self.min_age <= self.max_age <= OLDEST_PLAUSIBLE_AGE:
            raise ValueError(f"need 0 <= min_age <= max_age <= {OLDEST_PLAUSIBLE_AGE}")
