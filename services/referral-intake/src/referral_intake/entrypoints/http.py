"""HTTP API: FHIR submissions (ServiceRequest, BaRS message Bundle) and the referral view.

Routes only decode, call the same handler the Kafka consumer uses, and encode the answer as a
FHIR OperationOutcome (submissions) or JSON (the referral view).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from referral_intake.adapters.referrals import timeline
from referral_intake.adapters.unit_of_work import IntakeUnitOfWork
from referral_intake.entrypoints.auth import OPERATOR, may_see, principal_of
from referral_intake.fhir.mapping import referral_from_fhir
from referral_intake.fhir.problems import FhirMappingError
from referral_intake.service_layer.submissions import Answer, IntakeContext, handle_submission
from referral_intake.settings import IntakeSettings
from referral_schemas import new_envelope, referral_id_for
from referral_schemas.enums import ReferralStatus
from referral_schemas.registry import ReferralSubmittedV1
from servicekit.resilience import retry_transient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

FHIR_JSON = "application/fhir+json"


def _outcome(
    status_code: int, issues: Sequence[dict[str, Any]], headers: dict[str, str] | None = None
) -> Response:
    body = {"resourceType": "OperationOutcome", "issue": list(issues)}
    return Response(json.dumps(body), status_code=status_code, media_type=FHIR_JSON, headers=headers)


def _issue(severity: str, code: str, diagnostics: str, expression: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return issue


def _answer_response(answer: Answer) -> Response:
    headers = {"Location": f"/referrals/{answer.referral_id}", "X-Referral-Id": str(answer.referral_id)}
    if answer.reasons:
        issues = [_issue("error", "business-rule", f"{r.code}: {r.message}", r.field) for r in answer.reasons]
        return _outcome(422, issues, headers)
    text = f"referral {answer.referral_id} is {answer.status.value}: {answer.summary}"
    code = 201 if answer.changed and answer.status is ReferralStatus.ACCEPTED else 200
    return _outcome(code, [_issue("information", "informational", text)], headers)


def routes(
    settings: IntakeSettings,
    uow_factory: Callable[[], IntakeUnitOfWork],
    ctx: IntakeContext,
) -> list[BaseRoute]:
    async def submit(request: Request) -> Response:
        principal = principal_of(request, settings.api_keys)
        if principal is None:
            return _outcome(401, [_issue("error", "login", "a valid bearer token is required")])
        body = await _bounded_body(request, settings.max_http_body_bytes)
        if body is None:
            limit = settings.max_http_body_bytes
            return _outcome(413, [_issue("error", "too-costly", f"the body exceeds {limit} bytes")])
        try:
            mapped = referral_from_fhir(body, source_system=f"fhir:{principal}")
        except FhirMappingError as exc:
            issues = [_issue("error", "structure", p.problem, p.path) for p in exc.problems]
            return _outcome(400, issues)
        submission = mapped.submission
        if principal != OPERATOR and submission.referrer.ods_code != principal:
            return _outcome(
                403,
                [
                    _issue(
                        "error",
                        "forbidden",
                        "the requester's ODS code is not the caller's",
                        "ServiceRequest.requester",
                    )
                ],
            )
        event = new_envelope(
            ReferralSubmittedV1,
            submission,
            producer=f"fhir-api.{principal.lower()}",
            referral_id=None,
            occurred_at=mapped.authored_at,
        )
        referral_id = referral_id_for(submission.source_system, submission.source_referral_id)

        async def work(uow: IntakeUnitOfWork) -> Answer:
            await uow.referrals.lock(referral_id)
            return await handle_submission(event, uow, ctx)

        answer = await _apply(uow_factory, work)
        return _answer_response(answer)

    async def view(request: Request) -> Response:
        principal = principal_of(request, settings.api_keys)
        if principal is None:
            return JSONResponse({"error": "a valid bearer token is required"}, status_code=401)
        try:
            referral_id = uuid.UUID(request.path_params["referral_id"])
        except ValueError:
            return JSONResponse({"error": "not a referral id (a UUID)"}, status_code=400)
        uow = uow_factory()
        async with uow:
            referral, history = await timeline(uow.connection, referral_id)
        # Another referrer's referral is reported as absent, not forbidden: its existence is
        # itself information.
        if referral is None or not may_see(principal, referral.referrer_ods_code):
            return JSONResponse({"error": "no such referral"}, status_code=404)
        return JSONResponse(
            {
                "referral_id": str(referral.referral_id),
                "source_system": referral.source_system,
                "source_referral_id": referral.source_referral_id,
                "source_type": referral.source_type.value,
                "referrer_ods_code": referral.referrer_ods_code,
                "status": referral.status.value,
                "revision": referral.revision,
                "referred_at": referral.referred_at.isoformat(),
                "received_at": referral.received_at.isoformat() if referral.received_at else None,
                "likely_duplicate_of": str(referral.likely_duplicate_of)
                if referral.likely_duplicate_of
                else None,
                "timeline": [
                    {
                        "status": h["status"],
                        "at": h["at"].isoformat(),
                        "actor": h["actor"],
                        "event_type": h["event_type"],
                        "event_id": str(h["event_id"]),
                        "detail": h["detail"],
                        "reasons": json.loads(h["reasons"]),
                    }
                    for h in history
                ],
            }
        )

    return [
        Route("/fhir/ServiceRequest", submit, methods=["POST"]),
        Route("/fhir/$process-message", submit, methods=["POST"]),
        Route("/referrals/{referral_id}", view, methods=["GET"]),
    ]


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `limit` (without reading it all)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _apply(
    uow_factory: Callable[[], IntakeUnitOfWork],
    work: Callable[[IntakeUnitOfWork], Awaitable[Answer]],
) -> Answer:
    async for attempt in retry_transient(5.0):
        with attempt:
            async with uow_factory() as uow:
                answer = await work(uow)
                await uow.commit()
    return answer
