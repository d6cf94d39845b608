"""Resources found in a submission, where they are, and how references reach them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

R = TypeVar("R", bound=Resource)


@dataclass(frozen=True, slots=True)
class Located:
    """A resource and its path in the submission, so problems in it can be placed exactly."""

    resource: Resource
    path: str
    full_url: str | None = None


class ResourceIndex:
    """The resources a reference may name: a Bundle's entries, and contained resources.

    Resolves the forms BaRS and UK Core senders use: a Bundle entry's fullUrl (usually
    "urn:uuid:..."), "Type/id" or an absolute URL ending in it, and "#id" for contained resources.
    """

    def __init__(self, located: list[Located]) -> None:
        self.located = located

    @classmethod
    def of_bundle(cls, bundle: Bundle) -> ResourceIndex:
        found: list[Located] = []
        for i, entry in enumerate(bundle.entry or []):
            if entry.resource is not None:
                found.append(Located(entry.resource, f"Bundle.entry[{i}].resource", entry.fullUrl))
        return cls(found)

    def with_contained(self, holder: Located) -> ResourceIndex:
        """This index and the resources contained in `holder`, reachable as "#id" from it."""
        contained = getattr(holder.resource, "contained", None) or []
        more = [
            Located(resource, f"{holder.path}.contained[{i}]")
            for i, resource in enumerate(contained)
            if isinstance(resource, Resource)
        ]
        return ResourceIndex([*self.located, *more])

    def all_of(self, kind: type[R]) -> Iterator[tuple[R, Located]]:
        for item in self.located:
            if isinstance(item.resource, kind):
                yield item.resource, item

    def resolve(self, reference: Reference, within: Located) -> Located | None:
        """The resource `reference` (written in `within`) names, if the submission holds it."""
        target = reference.reference
        if not target:
            return None
        if target.startswith("#"):
            return _contained(within, target[1:]) or self._sibling(target[1:])
        for item in self.located:
            if item.full_url is not None and item.full_url == target:
                return item
        wanted = _type_and_id(target)
        if wanted is None:
            return None
        for item in self.located:
            if (item.resource.get_resource_type(), item.resource.id) == wanted:
                return item
        return None

    def _sibling(self, local_id: str) -> Located | None:
        # Contained resources refer to each other with "#id" too, meaning their container's.
        for item in self.located:
            if ".contained[" in item.path and item.resource.id == local_id:
                return item
        return None


def _contained(within: Located, local_id: str) -> Located | None:
    contained = getattr(within.resource, "contained", None) or []
    for i, resource in enumerate(contained):
        if isinstance(resource, Resource) and resource.id == local_id:
            return Located(resource, f"{within.path}.contained[{i}]")
    return None


def _type_and_id(reference: str) -> tuple[str, str] | None:
    parts = reference.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) < 2 or not parts[-2] or not parts[-1]:
        return None
    return parts[-2], parts[-1]
