"""Write (or, with --check, verify) the checked-in JSON Schema of every event.

uv run python -m referral_schemas.jsonschema_gen [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from referral_schemas.compat import breaking_changes
from referral_schemas.examples import example_json
from referral_schemas.registry import ENVELOPES

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "jsonschema"


def schema_for(event_type: str) -> dict[str, Any]:
    schema = ENVELOPES[event_type].model_json_schema(mode="validation")
    schema["$id"] = f"urn:active-referrals:event:{event_type}.v1"
    schema["title"] = f"{event_type}.v1"
    schema["examples"] = [example_json(event_type)]
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def path_for(event_type: str, directory: Path = SCHEMA_DIR) -> Path:
    return directory / f"{event_type}.v1.json"


def check(directory: Path = SCHEMA_DIR) -> list[str]:
    """Problems with the checked-in schemas: missing, stale, or changed incompatibly."""
    problems = []
    for event_type in ENVELOPES:
        path = path_for(event_type, directory)
        if not path.exists():
            problems.append(f"{path.name}: missing (run `make schemas`)")
            continue
        old = json.loads(path.read_text())
        new = schema_for(event_type)
        problems.extend(f"{path.name}: breaking: {b}" for b in breaking_changes(old, new))
        if render(new) != path.read_text():
            problems.append(f"{path.name}: out of date (run `make schemas`)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="verify instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    SCHEMA_DIR.mkdir(exist_ok=True)
    for event_type in ENVELOPES:
        path = path_for(event_type)
        if path.exists():
            breaking = breaking_changes(json.loads(path.read_text()), schema_for(event_type))
            if breaking:
                print(f"{path.name}: refusing a breaking change (publish a .v2):", file=sys.stderr)
                for b in breaking:
                    print(f"  {b}", file=sys.stderr)
                return 1
        path.write_text(render(schema_for(event_type)))
    print(f"wrote {len(ENVELOPES)} schemas to {SCHEMA_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
