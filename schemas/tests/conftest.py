"""Wire-format helpers for the contract tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from referral_schemas.examples import example_json

_DROP = object()


def _apply(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is _DROP:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


@pytest.fixture
def wire() -> Callable[..., bytes]:
    """wire(event_type, {"data.patient.nhs_number": "1"}, drop=[...]): the example's bytes, changed.

    Paths are dotted, list positions are numbers.
    """

    def build(
        event_type: str, changes: Mapping[str, Any] | None = None, /, drop: tuple[str, ...] = ()
    ) -> bytes:
        doc = example_json(event_type)
        for path, value in (changes or {}).items():
            _apply(doc, path, value)
        for path in drop:
            _apply(doc, path, _DROP)
        return json.dumps(doc).encode()

    return build
