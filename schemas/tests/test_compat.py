"""The compatibility check catches each kind of breaking change and lets compatible ones through."""

import copy

import pytest
from referral_schemas.compat import ChangeKind, breaking_changes

OLD = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "status", "child"],
    "properties": {
        "id": {"type": "string", "maxLength": 10, "minLength": 1},
        "status": {"$ref": "#/$defs/Status"},
        "count": {"type": "integer", "minimum": 0, "maximum": 10},
        "ratio": {"type": "number"},
        "note": {"anyOf": [{"type": "string", "maxLength": 50}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
        "kind": {"const": "a", "type": "string"},
        "child": {"$ref": "#/$defs/Child"},
        "open": {"type": "object"},
    },
    "$defs": {
        "Status": {"enum": ["a", "b"], "type": "string"},
        "Child": {
            "type": "object",
            "properties": {
                "x": {"type": "string", "pattern": "^a"},
                "when": {"type": "string", "format": "date"},
            },
        },
    },
}


def changes(mutate):
    new = copy.deepcopy(OLD)
    mutate(new)
    return breaking_changes(OLD, new)


def props(schema):
    return schema["properties"]


def child(schema):
    return schema["$defs"]["Child"]


@pytest.mark.parametrize(
    ("mutate", "path", "kind"),
    [
        (lambda s: props(s).pop("count"), "$.count", ChangeKind.PROPERTY_REMOVED),
        (lambda s: child(s)["properties"].pop("x"), "$.child.x", ChangeKind.PROPERTY_REMOVED),
        (lambda s: s["required"].append("count"), "$.count", ChangeKind.BECAME_REQUIRED),
        (lambda s: child(s).update(required=["x"]), "$.child.x", ChangeKind.BECAME_REQUIRED),
        (
            lambda s: props(s).update(extra={"type": "string"}) or s["required"].append("extra"),
            "$.extra",
            ChangeKind.BECAME_REQUIRED,
        ),
        (lambda s: props(s)["id"].update(type="integer"), "$.id", ChangeKind.TYPE_CHANGED),
        (lambda s: props(s)["ratio"].update(type="integer"), "$.ratio", ChangeKind.TYPE_CHANGED),
        (lambda s: props(s).update(note={"type": "string"}), "$.note", ChangeKind.TYPE_CHANGED),
        (lambda s: props(s).update(open={"type": "string"}), "$.open", ChangeKind.TYPE_CHANGED),
        (lambda s: s["$defs"]["Status"].update(enum=["a"]), "$.status", ChangeKind.ENUM_NARROWED),
        (lambda s: props(s)["kind"].update(const="b"), "$.kind", ChangeKind.ENUM_NARROWED),
        (lambda s: props(s)["id"].update(enum=["x"]), "$.id", ChangeKind.ENUM_NARROWED),
        (lambda s: props(s)["id"].update(maxLength=5), "$.id", ChangeKind.CONSTRAINT_TIGHTENED),
        (lambda s: props(s)["id"].update(minLength=2), "$.id", ChangeKind.CONSTRAINT_TIGHTENED),
        (lambda s: props(s)["count"].update(minimum=1), "$.count", ChangeKind.CONSTRAINT_TIGHTENED),
        (lambda s: props(s)["count"].update(maximum=9), "$.count", ChangeKind.CONSTRAINT_TIGHTENED),
        (lambda s: props(s)["ratio"].update(exclusiveMaximum=1), "$.ratio", ChangeKind.CONSTRAINT_TIGHTENED),
        (lambda s: props(s)["tags"].update(maxItems=4), "$.tags", ChangeKind.CONSTRAINT_TIGHTENED),
        (lambda s: props(s)["tags"].update(uniqueItems=True), "$.tags", ChangeKind.CONSTRAINT_TIGHTENED),
        (
            lambda s: props(s)["tags"]["items"].update(maxLength=3),
            "$.tags[]",
            ChangeKind.CONSTRAINT_TIGHTENED,
        ),
        (
            lambda s: props(s)["note"]["anyOf"][0].update(maxLength=40),
            "$.note",
            ChangeKind.CONSTRAINT_TIGHTENED,
        ),
        (
            lambda s: child(s)["properties"]["x"].update(pattern="^b"),
            "$.child.x",
            ChangeKind.CONSTRAINT_TIGHTENED,
        ),
        (lambda s: props(s)["id"].update(pattern="^[a-z]+$"), "$.id", ChangeKind.CONSTRAINT_TIGHTENED),
        (
            lambda s: child(s)["properties"]["when"].update(format="date-time"),
            "$.child.when",
            ChangeKind.CONSTRAINT_TIGHTENED,
        ),
        (
            lambda s: child(s).update(additionalProperties=False),
            "$.child",
            ChangeKind.ADDITIONAL_PROPERTIES_RESTRICTED,
        ),
        (
            lambda s: child(s).update(additionalProperties={"type": "integer"}),
            "$.child",
            ChangeKind.ADDITIONAL_PROPERTIES_RESTRICTED,
        ),
        (
            lambda s: child(s)["properties"].update(y={"type": "integer"}),
            "$.child.y",
            ChangeKind.TYPE_CHANGED,
        ),
        (
            lambda s: props(s)["open"].update(allOf=[{"required": ["z"]}]),
            "$.open",
            ChangeKind.UNMODELLED_KEYWORD_CHANGED,
        ),
    ],
)
def test_a_breaking_change_is_caught(mutate, path, kind):
    found = changes(mutate)
    assert any(c.path == path and c.kind is kind for c in found), [str(c) for c in found]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: props(s).update(extra={"type": "string"}),
        lambda s: s["$defs"]["Status"].update(enum=["a", "b", "c"]),
        lambda s: props(s)["id"].update(maxLength=20, minLength=0, description="longer ids"),
        lambda s: props(s)["count"].pop("maximum"),
        lambda s: props(s)["count"].update(type="number"),
        lambda s: props(s)["count"].update(type=["integer", "null"]),
        lambda s: props(s).update(
            count={"anyOf": [{"type": "integer", "minimum": 0, "maximum": 10}, {"type": "null"}]}
        ),
        lambda s: props(s)["kind"].pop("const"),
        lambda s: child(s)["properties"]["x"].pop("pattern"),
        lambda s: s["required"].remove("status"),
        lambda s: s.update(additionalProperties=True),
        lambda s: s.update(title="Renamed", description="Described"),
        lambda s: props(s)["tags"].update(maxItems=50),
        lambda s: (
            s["$defs"].update(Renamed=s["$defs"].pop("Child"))
            or props(s)["child"].update({"$ref": "#/$defs/Renamed"})
        ),
    ],
)
def test_a_compatible_change_passes(mutate):
    assert changes(mutate) == []


def test_an_identical_schema_passes():
    assert breaking_changes(OLD, copy.deepcopy(OLD)) == []


def test_recursive_definitions_are_compared_without_looping():
    tree = {
        "$ref": "#/$defs/Node",
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            }
        },
    }
    narrowed = copy.deepcopy(tree)
    narrowed["$defs"]["Node"]["properties"]["kids"]["maxItems"] = 2
    assert breaking_changes(tree, copy.deepcopy(tree)) == []
    assert [c.path for c in breaking_changes(tree, narrowed)] == ["$.kids"]


def test_a_change_reads_as_path_kind_and_detail():
    [change] = changes(lambda s: props(s)["id"].update(maxLength=5))
    assert str(change) == "$.id: constraint_tightened: maxLength 10 became 5"


def test_a_remote_reference_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="cannot follow"):
        breaking_changes({"$ref": "https://example.org/a.json"}, {"$ref": "https://example.org/a.json"})
