"""A provider's response to an assignment, from its own system (Kafka) or over HTTP.

Checked against the assignment (it exists, it is this provider's) and the lifecycle; a repeat of
a response id changes nothing; every response is kept with its outcome. An applied step goes on
as provider.activity (pseudonymised, for outcomes and the referrer's status), and a decline as
assignment.declined, so that triage places the referral elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provider_notify.adapters.unit_of_work import NotifyUnitOfWork
from provider_notify.domain.lifecycle import Moved, Stage, apply
from referral_schemas import Envelope, parse_event
from referral_schemas.enums import ProviderResponseType
from referral_schemas.events.assignment import AssignmentDeclined
from referral_schemas.events.provider import ProviderActivity, ProviderResponse
from referral_schemas.registry import AssignmentDeclinedV1, ProviderActivityV1
from servicekit.db.uow import UnitOfWork
from servicekit.observability.tracing import continue_trace

PRODUCER = "provider-notify"


@dataclass(frozen=True)
class ResponseResult:
    outcome: str  # applied, repeat, refused
    code: str | None = None
    message: str | None = None
    stage: str | None = None


async def handle_response(cause: Envelope[Any], uow: NotifyUnitOfWork) -> ResponseResult:
    r: ProviderResponse = cause.data
    await uow.assignments.write_staged()  # an assignment that arrived earlier in this batch
    conn = uow.connection
    earlier = await conn.fetchrow(
        "SELECT outcome, code, message FROM responses WHERE provider_id = $1 AND response_id = $2",
        r.provider_id,
        r.response_id,
    )
    if earlier is not None:
        return ResponseResult("repeat", earlier["code"], earlier["message"])
    row = await conn.fetchrow(
        "SELECT provider_id, stage, payload, trace_headers FROM assignments"
        " WHERE assignment_id = $1 FOR UPDATE",
        r.assignment_id,
    )
    result: ResponseResult
    if row is None or row["provider_id"] != r.provider_id:
        # Another provider's assignment is reported exactly like a missing one.
        result = ResponseResult("refused", "assignment.unknown", "no such assignment for this provider")
    else:
        step = apply(Stage(row["stage"]), r.response)
        if isinstance(step, Moved):
            await conn.execute(
                "UPDATE assignments SET stage = $2 WHERE assignment_id = $1",
                r.assignment_id,
                step.stage.value,
            )
            with continue_trace(row["trace_headers"], f"provider {r.response.value}"):
                _announce(uow, cause, r, parse_event(row["payload"].encode()))
            result = ResponseResult("applied", stage=step.stage.value)
        else:
            result = ResponseResult("refused", step.code, step.message)
    await conn.execute(
        "INSERT INTO responses (provider_id, response_id, assignment_id, response, outcome, code, message)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        r.provider_id,
        r.response_id,
        r.assignment_id,
        r.response.value,
        result.outcome,
        result.code,
        result.message,
    )
    return result


def _announce(uow: UnitOfWork, cause: Envelope[Any], r: ProviderResponse, assignment: Envelope[Any]) -> None:
    referral_id = assignment.referral_id
    assert referral_id is not None
    a = assignment.data
    if r.response is ProviderResponseType.DECLINED:
        declined = AssignmentDeclined(
            assignment_id=r.assignment_id,
            provider_id=r.provider_id,
            reason_code=r.reason_code or "not_given",
            reason=r.reason,
        )
        uow.emit(AssignmentDeclinedV1, declined, producer=PRODUCER, referral_id=referral_id, caused_by=cause)
        return
    activity = ProviderActivity(
        assignment_id=r.assignment_id,
        provider_id=r.provider_id,
        programme=a.programme,
        patient_key=a.patient_key,
        activity=r.response,
        occurred_on=r.session_date or r.recorded_at.date(),
        sessions_offered=r.sessions_offered,
        reason_code=r.reason_code,
        measures=r.measures,
    )
    uow.emit(ProviderActivityV1, activity, producer=PRODUCER, referral_id=referral_id, caused_by=cause)
