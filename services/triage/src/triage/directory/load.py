"""Reading the provider directory file (errors name the file, the path and the problem)."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from triage.datafiles import load_yaml_model
from triage.directory.model import Directory

PACKAGED = "llr-providers.yaml"


def load_directory(path: Path) -> Directory:
    return load_yaml_model(path, Directory)


def default_directory() -> Directory:
    with importlib.resources.as_file(importlib.resources.files("triage.directory") / PACKAGED) as p:
        return load_directory(p)
