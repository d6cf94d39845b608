"""A person's name as one line, for people reading a referral."""

from __future__ import annotations

from collections.abc import Sequence

from fhir.resources.R4B.humanname import HumanName


def display_name(names: Sequence[HumanName]) -> str | None:
    """The first current name: its text if given, else prefix, given names and family name."""
    for name in names:
        if name.use in ("old", "anonymous"):
            continue
        if name.text:
            return name.text
        parts = [*(name.prefix or []), *(name.given or []), *([name.family] if name.family else [])]
        joined = " ".join(part for part in parts if part)
        if joined:
            return joined
    return None
