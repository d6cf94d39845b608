"""Measures providers post over HTTP, with the same per-provider tokens as provider-notify.

`POST /providers/{provider_id}/measures` with the assignment, the date and the measures. The
provider's `measurement_id` makes a repeat harmless; a correction is the record sent again with
a higher version. Another provider's assignment answers 404, like one that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from pydantic import Field
from referral_schemas.enums import ProviderResponseType
from referral_schemas.envelope import Contract
from referral_schemas.events.provider import Measures
from referral_schemas.primitives import Date
from servicekit.http import path_principal, read_body
from servicekit.resilience import retry_transient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from outcomes.adapters.unit_of_work import OutcomesUnitOfWork
from outcomes.domain.episode import ActivityRecorded
from outcomes.service_layer.recording import Recorded, record_measures

MAX_BODY = 16 * 1024
# A provider's measurement ids are its own: scoped by provider before they become event ids.
_EVENT_IDS = uuid.UUID("6f1d0c51-6a4e-4d5e-9a43-0d7a3c1e2b90")
_STATUS = {"applied": 201, "repeat": 200, "parked": 202, "refused": 422}


class MeasuresPosted(Contract):
    """Measures a provider took for one of its assignments."""

    measurement_id: uuid.UUID = Field(description="The provider's id for this record; a repeat is ignored")
    assignment_id: uuid.UUID = Field(description="The assignment the patient came through")
    recorded_on: Date = Field(description="When the measures were taken")
    measures: Measures = Field(description="The measures, at one timepoint")


def routes(api_keys: Mapping[str, str], uow_factory: Callable[[], OutcomesUnitOfWork]) -> list[BaseRoute]:
    async def post(request: Request) -> Response:
        provider_id = path_principal(request, api_keys, "provider_id", "provider")
        if isinstance(provider_id, Response):
            return provider_id
        posted = await read_body(request, MeasuresPosted, MAX_BODY)
        if isinstance(posted, Response):
            return posted
        result: Recorded | None = None
        async for attempt in retry_transient(5.0):
            with attempt:
                async with uow_factory() as uow:
                    episode_id = await uow.episodes.episode_of_assignment(posted.assignment_id, provider_id)
                    if episode_id is None:
                        return JSONResponse({"error": "no such assignment"}, status_code=404)
                    result = await record_measures(
                        uow,
                        ActivityRecorded(
                            event_id=uuid.uuid5(_EVENT_IDS, f"{provider_id}/{posted.measurement_id}"),
                            episode_id=episode_id,
                            activity=ProviderResponseType.MEASURES_RECORDED,
                            occurred_on=posted.recorded_on,
                            measures=posted.measures,
                        ),
                    )
                    await uow.commit()
        assert result is not None
        body = {"outcome": result.outcome, "code": result.code, "message": result.message}
        return JSONResponse(body, status_code=_STATUS[result.outcome])

    return [Route("/providers/{provider_id}/measures", post, methods=["POST"])]
