"""What is wrong with a FHIR submission, located by a FHIRPath-like path."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True, slots=True)
class FhirProblem:
    """One problem: where (e.g. "Bundle.entry[2].resource.birthDate") and what, for people."""

    path: str
    problem: str


class FhirMappingError(Exception):
    """The body cannot become a referral submission; `problems` names every reason found."""

    def __init__(self, problems: Sequence[FhirProblem]) -> None:
        if not problems:
            raise ValueError("a FhirMappingError names at least one problem")
        self.problems: list[FhirProblem] = list(problems)
        super().__init__("; ".join(f"{p.path}: {p.problem}" for p in self.problems))


class Problems:
    """Collects problems so that one answer names all of them, not only the first."""

    def __init__(self) -> None:
        self.found: list[FhirProblem] = []

    def add(self, path: str, problem: str) -> None:
        self.found.append(FhirProblem(path, problem))

    def raise_if_any(self) -> None:
        if self.found:
            raise FhirMappingError(self.found)


def shown(value: object, limit: int = 40) -> str:
    """A sender's value quoted in a problem, cut short: problems travel in size-limited reasons."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# The library reports pydantic field names in a few places (`resource_type`, `x__ext`) and
# pseudo-locations of its own (`root`); everything else in a `loc` is already the JSON name.
_JSON_NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9]*$")


def path_from_loc(root: str, loc: Sequence[int | str]) -> str:
    """A pydantic error location, turned into a path under `root` as FHIRPath writes it."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        if part == "resource_type":
            part = "resourceType"
        elif part.endswith("__ext"):
            part = "_" + part.removesuffix("__ext")
        if part == "root" or not _JSON_NAME.match(part):
            continue
        path += f".{part}"
    return path


C = TypeVar("C", bound=BaseModel)


def build_contract(
    model: type[C], fields: dict[str, Any], origins: dict[str, str], fallback: str, problems: Problems
) -> C | None:
    """`model` from `fields`, or None with each contract violation placed at its FHIR origin.

    The contracts hold a submission to lengths and formats (an ODS code of 30 characters, a
    note too long); the sender needs to hear which of their elements broke the limit.
    """
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            message = error["msg"].removeprefix("Value error, ")
            problems.add(origins.get(name, fallback), f"{message} (as {model.__name__}.{name})")
        return None
