"""Versioned YAML data files (rules, provider directory) read into validated models.

A file that cannot be used raises `DataFileError` naming the file, the path inside it
(`programmes[3].codes[0].code`) and the problem, so whoever edited it can find the mistake.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class DataFileError(ValueError):
    """A data file refused at load; a running service keeps the last good version."""


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def load_yaml_model(path: Path, model: type[M]) -> M:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataFileError(f"{path}: cannot be read as YAML: {exc}") from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{_path(e['loc'])}: {e['msg']}" for e in exc.errors()[:10])
        raise DataFileError(f"{path}: {problems}") from None
