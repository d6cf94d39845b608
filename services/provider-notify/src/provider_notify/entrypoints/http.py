"""The providers' HTTP API: list and read their own assignments, record responses (per-provider
tokens).

Another provider's assignment answers 404, exactly like one that does not exist; another
provider's list answers 403 to a valid token (401 without one).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping

from referral_schemas import new_envelope
from referral_schemas.events.provider import ProviderResponse
from referral_schemas.registry import ProviderResponseV1
from servicekit.http import path_principal, read_body
from servicekit.resilience import retry_transient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from provider_notify.adapters.unit_of_work import NotifyUnitOfWork
from provider_notify.domain.listing import ListQuery, encode_cursor, parse_query
from provider_notify.service_layer.listing import list_assignments
from provider_notify.service_layer.responses import ResponseResult, handle_response

MAX_BODY = 64 * 1024
_STATUS = {"applied": 200, "repeat": 200}


def routes(api_keys: Mapping[str, str], uow_factory: Callable[[], NotifyUnitOfWork]) -> list[BaseRoute]:
    def caller(request: Request) -> str | Response:
        return path_principal(request, api_keys, "provider_id", "provider")

    async def own_assignment(provider_id: str, raw_id: str) -> tuple[uuid.UUID, dict[str, object]] | None:
        try:
            assignment_id = uuid.UUID(raw_id)
        except ValueError:
            return None
        async with uow_factory() as uow:
            row = await uow.connection.fetchrow(
                "SELECT a.referral_id, a.payload, a.stage, a.delivery_state, r.reminded_at,"
                " w.payload AS withdrawal"
                " FROM assignments a LEFT JOIN reminders r ON r.assignment_id = a.assignment_id"
                " LEFT JOIN withdrawals w ON w.assignment_id = a.assignment_id"
                " WHERE a.assignment_id = $1 AND a.provider_id = $2",
                assignment_id,
                provider_id,
            )
        if row is None:
            return None
        doc = {
            "stage": row["stage"],
            "delivery_state": row["delivery_state"],
            # Reminders are not pushed (no event contract for one), so a provider finds them here.
            "reminded_at": row["reminded_at"].isoformat() if row["reminded_at"] else None,
            "assignment": json.loads(row["payload"]),
            # Cancelled or expired: the assignment.withdrawn event, as sent on the provider's channel.
            "withdrawal": json.loads(row["withdrawal"]) if row["withdrawal"] else None,
        }
        return row["referral_id"], doc

    async def view(request: Request) -> Response:
        provider_id = caller(request)
        if isinstance(provider_id, Response):
            return provider_id
        found = await own_assignment(provider_id, request.path_params["assignment_id"])
        if found is None:
            return JSONResponse({"error": "no such assignment"}, status_code=404)
        return JSONResponse(found[1])

    async def listing(request: Request) -> Response:
        who = caller(request)
        if isinstance(who, Response):
            return who
        query = parse_query(request.query_params.multi_items())
        if not isinstance(query, ListQuery):
            named = ", ".join(dict.fromkeys(p.parameter for p in query))
            return JSONResponse(
                {
                    "error": f"invalid query parameter: {named}",
                    "problems": [{"parameter": p.parameter, "problem": p.problem} for p in query],
                },
                status_code=400,
            )
        async with uow_factory() as uow:
            items, after = await list_assignments(uow.connection, who, query)
        return JSONResponse(
            {"assignments": items, "next": encode_cursor(after) if after is not None else None}
        )

    async def respond(request: Request) -> Response:
        provider_id = caller(request)
        if isinstance(provider_id, Response):
            return provider_id
        response = await read_body(request, ProviderResponse, MAX_BODY)
        if isinstance(response, Response):
            return response
        if response.provider_id != provider_id:
            return JSONResponse({"error": "provider_id is not the caller's"}, status_code=403)
        found = await own_assignment(provider_id, str(response.assignment_id))
        if found is None:
            return JSONResponse({"error": "no such assignment"}, status_code=404)
        event = new_envelope(
            ProviderResponseV1, response, producer=f"provider-api.{provider_id}", referral_id=found[0]
        )
        result: ResponseResult | None = None
        async for attempt in retry_transient(5.0):
            with attempt:
                async with uow_factory() as uow:
                    result = await handle_response(event, uow)
                    await uow.commit()
        assert result is not None
        status = _STATUS.get(result.outcome, 404 if result.code == "assignment.unknown" else 409)
        return JSONResponse(
            {
                "outcome": result.outcome,
                "stage": result.stage,
                "code": result.code,
                "message": result.message,
            },
            status_code=status,
        )

    return [
        Route("/providers/{provider_id}/assignments", listing, methods=["GET"]),
        Route("/providers/{provider_id}/assignments/{assignment_id}", view, methods=["GET"]),
        Route("/providers/{provider_id}/responses", respond, methods=["POST"]),
    ]
