"""Write, or with --check verify, the checked-in JSON Schema of every event.

    uv run python -m referral_schemas.jsonschema_gen [--check]

Writing refuses a change that is not backward compatible with the checked-in schema: that needs a
new major version (a .v2 event and topic), not an edit of .v1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from referral_schemas.compat import breaking_changes
from referral_schemas.examples import example_json
from referral_schemas.registry import EVENTS

# The package is used from its source tree (a workspace member), where the schemas are kept.
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "jsonschema"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_for(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event's envelope, with its example."""
    spec = EVENTS[event_type]
    schema = spec.envelope.model_json_schema(mode="validation")
    schema["$schema"] = _DIALECT
    schema["$id"] = f"urn:active-referrals:event:{spec.schema_name}"
    schema["title"] = spec.schema_name
    schema["examples"] = [example_json(event_type)]
    return schema


def render(schema: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def path_for(event_type: str, directory: Path = SCHEMA_DIR) -> Path:
    return directory / f"{EVENTS[event_type].schema_name}.json"


def check(directory: Path = SCHEMA_DIR) -> list[str]:
    """Problems with the checked-in schemas: missing, stale, incompatible, or left over."""
    problems: list[str] = []
    expected = set()
    for event_type in EVENTS:
        path = path_for(event_type, directory)
        expected.add(path.name)
        if not path.exists():
            problems.append(f"{path.name}: missing (regenerate the schemas)")
            continue
        text = path.read_text(encoding="utf-8")
        new = schema_for(event_type)
        problems.extend(
            f"{path.name}: breaking: {change}" for change in breaking_changes(json.loads(text), new)
        )
        if render(new) != text:
            problems.append(f"{path.name}: out of date (regenerate the schemas)")
    for path in sorted(directory.glob("*.json")):
        if path.name not in expected:
            problems.append(f"{path.name}: no event has this schema any more (removing an event is breaking)")
    return problems


def write(directory: Path = SCHEMA_DIR) -> list[str]:
    """Write every schema; returns the breaking changes that stopped it (nothing written then)."""
    refused: list[str] = []
    for event_type in EVENTS:
        path = path_for(event_type, directory)
        if path.exists():
            old = json.loads(path.read_text(encoding="utf-8"))
            refused.extend(
                f"{path.name}: {change}" for change in breaking_changes(old, schema_for(event_type))
            )
    if refused:
        return refused
    directory.mkdir(parents=True, exist_ok=True)
    for event_type in EVENTS:
        path_for(event_type, directory).write_text(render(schema_for(event_type)), encoding="utf-8")
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="verify the checked-in schemas instead of writing"
    )
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    refused = write()
    if refused:
        print(
            "refusing breaking changes to .v1 schemas (publish a new major version instead):", file=sys.stderr
        )
        for change in refused:
            print(f"  {change}", file=sys.stderr)
        return 1
    print(f"wrote {len(EVENTS)} schemas to {SCHEMA_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
