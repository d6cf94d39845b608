"""Versioned YAML data files (rules, provider directory) read into validated models.

A file that cannot be used raises `DataFileError` (or the subclass a caller names) with the
file, the place inside it (`programmes[3].reasons[0].code`, or the line and column of a YAML
syntax error) and the problem, so whoever edited it can find the mistake.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class DataFileError(ValueError):
    """A data file refused at load; a running service keeps the last good version."""


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            # pydantic's marker for a mapping key that is itself invalid
            out += " (key)"
        else:
            out += f".{part}" if out else part
    return out


def _problem(error: Any) -> str:
    where = _location(error["loc"])
    cause = error.get("ctx", {}).get("error")
    if where:
        return f"{where}: {error['msg']}"
    # Cross-checks over the whole document name the path in their own message.
    return str(cause) if isinstance(cause, ValueError) else f"(document): {error['msg']}"


def model_from_document(
    document: object, model: type[M], source: str, error: type[DataFileError] = DataFileError
) -> M:
    """Validate an already-parsed document; `source` names it in errors."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors()[:10])
        raise error(f"{source}: {problems}") from None


def load_yaml_model(path: Path, model: type[M], error: type[DataFileError] = DataFileError) -> M:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(document)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{path}: {where}: not valid YAML: {problem}") from None
    return model_from_document(document, model, str(path), error)
