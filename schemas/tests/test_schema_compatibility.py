import copy

import pytest
from referral_schemas.compat import breaking_changes
from referral_schemas.jsonschema_gen import check

BASE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string", "maxLength": 10},
        "status": {"enum": ["a", "b"], "type": "string"},
        "count": {"type": "integer", "minimum": 0, "maximum": 10},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "child": {"$ref": "#/$defs/Child"},
    },
    "$defs": {"Child": {"type": "object", "properties": {"x": {"type": "string", "pattern": "^a"}}}},
}


def changed(fn):
    new = copy.deepcopy(BASE)
    fn(new)
    return breaking_changes(BASE, new)


def test_checked_in_schemas_are_current_and_compatible():
    assert check() == []


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda s: s["properties"].pop("count"), "count: property removed"),
        (lambda s: s["required"].append("count"), "count: became required"),
        (lambda s: s["properties"]["id"].update(type="integer"), "type"),
        (lambda s: s["properties"]["status"].update(enum=["a"]), "enum no longer allows ['b']"),
        (lambda s: s["properties"]["id"].update(maxLength=5), "maxLength tightened"),
        (lambda s: s["properties"]["count"].update(minimum=1), "minimum tightened"),
        (lambda s: s["properties"]["count"].update(maximum=9), "maximum tightened"),
        (
            lambda s: s["$defs"]["Child"]["properties"]["x"].update(pattern="^b"),
            "child.x: pattern changed",
        ),
        (
            lambda s: s["$defs"]["Child"].update(additionalProperties=False),
            "child: additional properties",
        ),
        (lambda s: s["properties"].update(note={"type": "string"}), "note: variant 1 (null)"),
    ],
)
def test_breaking_changes_are_caught(mutate, fragment):
    problems = changed(mutate)
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s["properties"].update(extra={"type": "string"}),
        lambda s: s["properties"]["status"].update(enum=["a", "b", "c"]),
        lambda s: s["properties"]["id"].update(maxLength=20, description="longer ids"),
        lambda s: s["properties"]["count"].pop("maximum"),
        lambda s: s["required"].remove("status"),
        lambda s: s["properties"]["count"].update(type="number"),
    ],
)
def test_compatible_changes_pass(mutate):
    assert changed(mutate) == []
