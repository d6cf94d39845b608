"""Reading the provider directory file, with errors that name the file, the path and the problem."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import yaml
from pydantic import ValidationError
from triage.directory.model import Directory

PACKAGED = "llr-providers.yaml"


class DirectoryError(ValueError):
    """A directory file that cannot be used; the running service keeps its last good one."""


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def load_directory(path: Path) -> Directory:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryError(f"{path}: cannot be read as YAML: {exc}") from None
    try:
        return Directory.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{_path(e['loc'])}: {e['msg']}" for e in exc.errors()[:10])
        raise DirectoryError(f"{path}: {problems}") from None


def default_directory() -> Directory:
    with importlib.resources.as_file(importlib.resources.files("triage.directory") / PACKAGED) as p:
        return load_directory(p)
