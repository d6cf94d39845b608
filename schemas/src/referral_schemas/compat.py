"""Backward compatibility of a JSON Schema change, as consumers of a `.v1` topic see it.

A change is breaking when a document valid under the old schema may be refused by the new one
or read differently: a property removed or newly required, a type or enum narrowed, a bound
tightened, a pattern or format changed, extra properties newly forbidden. Adding an optional
property, widening an enum, loosening a bound and editing descriptions are fine.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "const")


def _resolve(node: Schema, root: Schema) -> Schema:
    seen = 0
    while "$ref" in node and seen < 50:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node, seen = target, seen + 1
    return node


def _types(node: Schema) -> set[str]:
    t = node.get("type")
    if t is None:
        return set()
    return {t} if isinstance(t, str) else set(t)


def _variants(node: Schema) -> list[Schema] | None:
    for key in ("anyOf", "oneOf"):
        if key in node:
            return list(node[key])
    return None


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    out: list[str] = []
    _compare(old, new, old, new, "$", out)
    return out


def _compare(o: Schema, n: Schema, oroot: Schema, nroot: Schema, path: str, out: list[str]) -> None:
    o, n = _resolve(o, oroot), _resolve(n, nroot)
    ov, nv = _variants(o), _variants(n)
    if ov is not None or nv is not None:
        olist, nlist = ov or [o], nv or [n]
        for i, variant in enumerate(olist):
            vtypes = _types(_resolve(variant, oroot))
            match = next((c for c in nlist if _types(_resolve(c, nroot)) == vtypes or not vtypes), None)
            if match is None:
                out.append(f"{path}: variant {i} ({', '.join(sorted(vtypes)) or 'any'}) no longer accepted")
            else:
                _compare(variant, match, oroot, nroot, path, out)
        return

    otypes, ntypes = _types(o), _types(n)
    if ntypes and (not otypes or not otypes <= ntypes):
        if not (otypes == {"integer"} and "number" in ntypes):
            out.append(f"{path}: type {sorted(otypes) or 'any'} became {sorted(ntypes)}")

    if "enum" in n:
        removed = [v for v in o.get("enum", []) if v not in n["enum"]] if "enum" in o else ["(any)"]
        if removed:
            out.append(f"{path}: enum no longer allows {removed}")

    for k in _LOWER:
        if k in n and (k not in o or n[k] > o[k]):
            out.append(f"{path}: {k} tightened from {o.get(k)} to {n[k]}")
    for k in _UPPER:
        if k in n and (k not in o or n[k] < o[k]):
            out.append(f"{path}: {k} tightened from {o.get(k)} to {n[k]}")
    for k in _EXACT:
        if k in n and o.get(k) != n[k]:
            out.append(f"{path}: {k} changed from {o.get(k)!r} to {n[k]!r}")

    oprops, nprops = o.get("properties", {}), n.get("properties", {})
    for name in oprops:
        if name not in nprops:
            out.append(f"{path}.{name}: property removed")
        else:
            _compare(oprops[name], nprops[name], oroot, nroot, f"{path}.{name}", out)
    newly_required = set(n.get("required", [])) - set(o.get("required", []))
    for name in sorted(newly_required):
        out.append(f"{path}.{name}: became required")
    if o.get("additionalProperties", True) is not False and n.get("additionalProperties") is False:
        out.append(f"{path}: additional properties are now forbidden")
    if "items" in o and "items" in n:
        _compare(o["items"], n["items"], oroot, nroot, f"{path}[]", out)
