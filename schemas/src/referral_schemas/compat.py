"""Is a new JSON Schema of an event backward compatible with the old one?

The rule: every document the old schema accepts, the new one accepts too, with the same
meaning, so that a consumer upgraded to the new schema still reads every event already on the
topic and producers built to the old schema keep working. Breaking: a property removed or newly
required, a type changed or narrowed, an enum or const narrowed, a bound tightened, a pattern or
format changed, additional properties newly restricted. Compatible: a new optional property, a
wider enum, a looser bound, a new nullable variant, description or title changes.

The check is conservative: a keyword it does not model (allOf, not, if/then/else, ...) that
changed counts as breaking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Schema = dict[str, Any]


class ChangeKind(StrEnum):
    PROPERTY_REMOVED = "property_removed"
    BECAME_REQUIRED = "became_required"
    TYPE_CHANGED = "type_changed"
    ENUM_NARROWED = "enum_narrowed"
    CONSTRAINT_TIGHTENED = "constraint_tightened"
    ADDITIONAL_PROPERTIES_RESTRICTED = "additional_properties_restricted"
    UNMODELLED_KEYWORD_CHANGED = "unmodelled_keyword_changed"


@dataclass(frozen=True, slots=True)
class BreakingChange:
    path: str
    """Where, as $.property.nested[] (items of an array end in [])."""
    kind: ChangeKind
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.detail}"


# A higher lower bound or a lower upper bound refuses documents that were valid.
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
# Any change to these may refuse a valid document (regular expressions cannot be compared).
_EXACT = ("pattern", "format", "multipleOf")
_UNMODELLED = (
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
    "propertyNames",
    "prefixItems",
    "contains",
    "unevaluatedProperties",
    "unevaluatedItems",
)


def breaking_changes(old: Schema, new: Schema) -> list[BreakingChange]:
    """Every breaking change from `old` to `new`; an empty list when `new` is compatible."""
    comparison = _Comparison(old, new)
    comparison.compare(old, new, "$")
    return comparison.found


@dataclass
class _Comparison:
    old_root: Schema
    new_root: Schema
    found: list[BreakingChange] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        refs = (old.get("$ref", ""), new.get("$ref", ""))
        if all(refs):
            # Recursive definitions would otherwise loop; one comparison per pair is enough.
            if refs in self._seen:
                return
            self._seen.add(refs)
        old, new = _resolve(old, self.old_root), _resolve(new, self.new_root)
        if "anyOf" in old or "oneOf" in old or "anyOf" in new or "oneOf" in new:
            self._compare_variants(old, new, path)
            return
        self._compare_types(old, new, path)
        self._compare_values(old, new, path)
        self._compare_bounds(old, new, path)
        self._compare_objects(old, new, path)
        if "items" in new:
            self.compare(old.get("items", {}), new["items"], f"{path}[]")
        for key in _UNMODELLED:
            if old.get(key) != new.get(key):
                self._add(path, ChangeKind.UNMODELLED_KEYWORD_CHANGED, f"{key} changed")

    def _add(self, path: str, kind: ChangeKind, detail: str) -> None:
        self.found.append(BreakingChange(path, kind, detail))

    def _compare_variants(self, old: Schema, new: Schema, path: str) -> None:
        """Every old variant must be accepted by some new variant: report the closest one's changes."""
        for variant in _variants(old):
            trials = []
            for candidate in _variants(new):
                trial = _Comparison(self.old_root, self.new_root, _seen=set(self._seen))
                trial.compare(variant, candidate, path)
                type_changed = any(c.path == path and c.kind is ChangeKind.TYPE_CHANGED for c in trial.found)
                trials.append((type_changed, len(trial.found), trial.found))
            self.found.extend(min(trials, key=lambda t: t[:2])[2])

    def _compare_types(self, old: Schema, new: Schema, path: str) -> None:
        new_types = _types(new)
        if new_types is None:
            return
        old_types = _types(old)
        if old_types is None or not old_types <= new_types:
            before = ", ".join(sorted(old_types)) if old_types is not None else "any"
            self._add(path, ChangeKind.TYPE_CHANGED, f"{before} became {', '.join(sorted(new_types))}")

    def _compare_values(self, old: Schema, new: Schema, path: str) -> None:
        new_values = _allowed_values(new)
        if new_values is None:
            return
        old_values = _allowed_values(old)
        if old_values is None:
            self._add(path, ChangeKind.ENUM_NARROWED, f"any value became only {new_values}")
            return
        removed = [value for value in old_values if value not in new_values]
        if removed:
            self._add(path, ChangeKind.ENUM_NARROWED, f"no longer allows {removed}")

    def _compare_bounds(self, old: Schema, new: Schema, path: str) -> None:
        for key in _LOWER_BOUNDS:
            if key in new and (key not in old or new[key] > old[key]):
                self._add(path, ChangeKind.CONSTRAINT_TIGHTENED, f"{key} {old.get(key)} became {new[key]}")
        for key in _UPPER_BOUNDS:
            if key in new and (key not in old or new[key] < old[key]):
                self._add(path, ChangeKind.CONSTRAINT_TIGHTENED, f"{key} {old.get(key)} became {new[key]}")
        for key in _EXACT:
            if key in new and old.get(key) != new[key]:
                self._add(
                    path, ChangeKind.CONSTRAINT_TIGHTENED, f"{key} {old.get(key)!r} became {new[key]!r}"
                )
        if new.get("uniqueItems") is True and old.get("uniqueItems") is not True:
            self._add(path, ChangeKind.CONSTRAINT_TIGHTENED, "items must now be unique")

    def _compare_objects(self, old: Schema, new: Schema, path: str) -> None:
        old_props: dict[str, Schema] = old.get("properties", {})
        new_props: dict[str, Schema] = new.get("properties", {})
        old_extra = _additional(old)
        for name, schema in old_props.items():
            if name in new_props:
                self.compare(schema, new_props[name], f"{path}.{name}")
            else:
                self._add(f"{path}.{name}", ChangeKind.PROPERTY_REMOVED, "property removed")
        for name in sorted(new_props.keys() - old_props.keys()):
            # Old documents may already hold this name, validated by additionalProperties.
            if old_extra is not None:
                self.compare(old_extra, new_props[name], f"{path}.{name}")
        for name in sorted(set(new.get("required", ())) - set(old.get("required", ()))):
            self._add(f"{path}.{name}", ChangeKind.BECAME_REQUIRED, "became required")
        new_extra = _additional(new)
        if old_extra is None or new_extra == {}:
            return
        if new_extra is None:
            self._add(
                path, ChangeKind.ADDITIONAL_PROPERTIES_RESTRICTED, "additional properties now forbidden"
            )
            return
        before = len(self.found)
        self.compare(old_extra, new_extra, f"{path}.*")
        if len(self.found) > before:
            self._add(
                path, ChangeKind.ADDITIONAL_PROPERTIES_RESTRICTED, "additional properties now constrained"
            )


def _resolve(node: Schema, root: Schema) -> Schema:
    """Follow local $refs ("#/$defs/Name"); siblings of a $ref only annotate it here."""
    hops = 0
    while "$ref" in node:
        ref: str = node["$ref"]
        if not ref.startswith("#/") or hops > 64:
            raise ValueError(f"cannot follow $ref {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node, hops = target, hops + 1
    return node


def _variants(node: Schema) -> list[Schema]:
    return list(node.get("anyOf") or node.get("oneOf") or [node])


def _types(node: Schema) -> frozenset[str] | None:
    """The JSON types a schema allows, None for any; an integer is also a number."""
    declared = node.get("type")
    if declared is None:
        return None
    types = frozenset([declared] if isinstance(declared, str) else declared)
    return types | {"integer"} if "number" in types else types


def _allowed_values(node: Schema) -> list[Any] | None:
    if "const" in node:
        return [node["const"]]
    if "enum" in node:
        return list(node["enum"])
    return None


def _additional(node: Schema) -> Schema | None:
    """additionalProperties as a schema ({} allows anything), or None when they are forbidden."""
    extra = node.get("additionalProperties", True)
    if extra is True:
        return {}
    return None if extra is False else dict(extra)
