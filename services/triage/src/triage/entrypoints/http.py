"""The provider directory, read-only, in Open Referral UK (HSDS) shape: /services, /organizations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from triage.directory.model import Directory, Service


def _service(directory: Directory, s: Service) -> dict[str, Any]:
    locations = {loc.id: loc for loc in directory.locations}
    return {
        "id": s.id,
        "organization": {"id": s.organization_id, "name": directory.organization(s.organization_id).name},
        "name": s.name,
        "status": "active",
        "eligibility": [
            {"eligibility": "age", "minimum_age": s.eligibility.min_age, "maximum_age": s.eligibility.max_age}
        ],
        "service_areas": [
            {"service_area": d.value, "extent_type": "local_authority_district"} for d in s.service_areas
        ],
        "service_at_locations": [
            {"location": {"id": lid, "name": locations[lid].name, "postcode": locations[lid].postcode}}
            for lid in s.locations
        ],
        "regular_schedules": [{"description": s.schedule}] if s.schedule else [],
        "attributes": [{"taxonomy": "programme", "term": p.value} for p in s.programmes]
        + [{"taxonomy": "risk_level", "term": r.value} for r in s.risk_levels],
        "capacities": [
            {"programme": p.value, "unit": "new patients per month", "maximum": c}
            for p, c in s.monthly_capacity.items()
        ],
    }


def routes(directory: Callable[[], Directory]) -> list[BaseRoute]:
    async def services(request: Request) -> Response:
        d = directory()
        wanted = request.query_params.get("programme")
        items = [
            _service(d, s) for s in d.services if wanted is None or wanted in (p.value for p in s.programmes)
        ]
        return JSONResponse({"version": d.version, "total_items": len(items), "contents": items})

    async def service(request: Request) -> Response:
        d = directory()
        found = next((s for s in d.services if s.id == request.path_params["service_id"]), None)
        if found is None:
            return JSONResponse({"error": "no such service"}, status_code=404)
        return JSONResponse(_service(d, found))

    async def organizations(_: Request) -> Response:
        d = directory()
        items = [
            {
                "id": o.id,
                "name": o.name,
                "description": o.description,
                "services": [{"id": s.id, "name": s.name} for s in d.services if s.organization_id == o.id],
            }
            for o in d.organizations
        ]
        return JSONResponse({"version": d.version, "total_items": len(items), "contents": items})

    return [
        Route("/services", services, methods=["GET"]),
        Route("/services/{service_id}", service, methods=["GET"]),
        Route("/organizations", organizations, methods=["GET"]),
    ]
