"""Bytes to a validated R4B ServiceRequest or Bundle, or the problems that stop it."""

from __future__ import annotations

import json
import re
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from referral_intake.fhir.problems import FhirMappingError, FhirProblem, Problems, path_from_loc, shown

BODY = "$"
ACCEPTED_TYPES = ("ServiceRequest", "Bundle")
_MODELS: dict[str, type[ServiceRequest] | type[Bundle]] = {"ServiceRequest": ServiceRequest, "Bundle": Bundle}


class _DuplicateKeyError(ValueError):
    pass


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON parsers keep the last of repeated keys; FHIR forbids repeats, and silently taking one
    # of two birth dates is worse than saying so.
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKeyError(f"the key {shown(key)} appears twice in one JSON object")
        found[key] = value
    return found


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object with a resourceType FHIR intake accepts."""
    try:
        value = json.loads(body, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant)
    except _DuplicateKeyError as exc:
        raise FhirMappingError([FhirProblem(BODY, str(exc))]) from None
    except (ValueError, RecursionError) as exc:
        # UnicodeDecodeError and JSONDecodeError are ValueErrors; RecursionError is deep nesting.
        raise FhirMappingError([FhirProblem(BODY, f"is not JSON: {exc}")]) from None
    if not isinstance(value, dict):
        kind = "an array" if isinstance(value, list) else f"a JSON {type(value).__name__} value"
        raise FhirMappingError([FhirProblem(BODY, f"is {kind}; a FHIR resource is a JSON object")])
    resource_type = value.get("resourceType")
    if resource_type not in ACCEPTED_TYPES:
        found = shown(resource_type) if isinstance(resource_type, str) else "missing or not a string"
        raise FhirMappingError(
            [FhirProblem("resourceType", f"is {found}; expected ServiceRequest or Bundle")]
        )
    return value


def _resource_class(name: object) -> type[Resource] | None:
    if not isinstance(name, str) or name in ("Resource", "DomainResource"):
        return None
    try:
        model = get_fhir_model_class(name)
    except ValueError:
        return None
    return model if issubclass(model, Resource) else None


def _check_embedded_types(root: str, document: dict[str, Any], problems: Problems) -> None:
    """Every embedded resource names a concrete resource type, and no element is null.

    The library picks the model for `Bundle.entry.resource` and `contained` by resourceType and
    fails with a KeyError or TypeError, not a validation error, when the name is unknown or not a
    string; it also accepts a resource with no resourceType at all. Walked without recursion
    because the JSON may nest as deep as the parser allows.
    """
    stack: list[tuple[str, Any, bool]] = [(root, document, False)]
    while stack:
        path, node, holds_resource = stack.pop()
        if isinstance(node, list):
            stack.extend((f"{path}[{i}]", item, holds_resource) for i, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        if (holds_resource or "resourceType" in node) and node is not document:
            if "resourceType" not in node:
                problems.add(f"{path}.resourceType", "is required in an embedded resource")
            elif _resource_class(node["resourceType"]) is None:
                problems.add(
                    f"{path}.resourceType",
                    f"{shown(node['resourceType'])} is not a FHIR R4 resource type",
                )
                continue
        for key, value in node.items():
            if value is None:
                # The library takes null for a required element as if it were present.
                problems.add(f"{path}.{key}", "is null; FHIR JSON leaves out an element without a value")
            elif isinstance(value, dict | list):
                stack.append((f"{path}.{key}", value, _holds_resource(path, key)))


# Where R4B puts a whole resource (of any type) inside another.
_ENTRY = re.compile(r"\.(entry|parameter)\[[0-9]+\]$")


def _holds_resource(parent_path: str, key: str) -> bool:
    if key == "contained":
        return True
    if key == "resource":
        return _ENTRY.search(parent_path) is not None
    return key == "outcome" and parent_path.endswith(".response")


def _problem_text(error: ErrorDetails, document: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(error["loc"][-1]) if error["loc"] else ""
        suggestion = _same_name_other_case(name, error["loc"][:-1], document)
        hint = f"; did you mean {suggestion}?" if suggestion else ""
        return f"is not an element of FHIR R4 (element names are case-sensitive){hint}"
    if kind in ("list_type", "list_type_strict"):
        return "must be a JSON array: this element repeats in FHIR R4"
    if kind == "missing":
        return "is required"
    message = error["msg"]
    return message.removeprefix("Value error, ")


def _same_name_other_case(
    name: str, parent_loc: tuple[int | str, ...], document: dict[str, Any]
) -> str | None:
    parent: Any = document
    for part in parent_loc:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return None
    if not isinstance(parent, dict):
        return None
    model = _resource_class(parent.get("resourceType"))
    if model is None:
        return None
    for field in model.model_fields.values():
        alias = field.alias
        if alias is not None and alias != name and alias.lower() == name.lower():
            return alias
    return None


def read_resource(body: bytes) -> ServiceRequest | Bundle:
    """Parse and validate the body against the R4B model of its resourceType."""
    document = decode_json(body)
    root = str(document["resourceType"])
    problems = Problems()
    _check_embedded_types(root, document, problems)
    problems.raise_if_any()
    try:
        return _MODELS[root].model_validate(document)
    except ValidationError as exc:
        found = [
            FhirProblem(path_from_loc(root, error["loc"]), _problem_text(error, document))
            for error in exc.errors()
        ]
        raise FhirMappingError(found) from None
    except Exception as exc:
        # Checked input still reaching a library failure other than a validation error must
        # not escape as a server error: the sender gets a problem, the library bug a name.
        raise FhirMappingError(
            [FhirProblem(root, f"could not be read as FHIR R4 ({type(exc).__name__})")]
        ) from None
