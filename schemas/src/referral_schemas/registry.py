"""Every v1 event: its envelope type, and one way in (parse_event) and out (dump_event)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from referral_schemas.envelope import Envelope
from referral_schemas.events.assignment import (
    AssignmentCreated,
    AssignmentDeclined,
    AssignmentDelivered,
    AssignmentDeliveryFailed,
    AssignmentExpired,
)
from referral_schemas.events.outcome import OutcomeKpi, OutcomeRecorded
from referral_schemas.events.provider import ProviderActivity, ProviderResponse
from referral_schemas.events.referral import (
    ReferralAccepted,
    ReferralRejected,
    ReferralStatusChanged,
    ReferralSubmitted,
    ReferralTriaged,
)


class ReferralSubmittedV1(Envelope[ReferralSubmitted]):
    event_type: Literal["referral.submitted"] = "referral.submitted"
    schema_version: Literal[1] = 1


class ReferralAcceptedV1(Envelope[ReferralAccepted]):
    event_type: Literal["referral.accepted"] = "referral.accepted"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID


class ReferralRejectedV1(Envelope[ReferralRejected]):
    event_type: Literal["referral.rejected"] = "referral.rejected"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID


class ReferralStatusV1(Envelope[ReferralStatusChanged]):
    event_type: Literal["referral.status"] = "referral.status"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID


class ReferralTriagedV1(Envelope[ReferralTriaged]):
    event_type: Literal["referral.triaged"] = "referral.triaged"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID


class AssignmentCreatedV1(Envelope[AssignmentCreated]):
    event_type: Literal["assignment.created"] = "assignment.created"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID


class AssignmentDeliveredV1(Envelope[AssignmentDelivered]):
    event_type: Literal["assignment.delivered"] = "assignment.delivered"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID


class AssignmentDeliveryFailedV1(Envelope[AssignmentDeliveryFailed]):
    event_type: Literal["assignment.delivery_failed"] = "assignment.delivery_failed"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID


class AssignmentDeclinedV1(Envelope[AssignmentDeclined]):
    event_type: Literal["assignment.declined"] = "assignment.declined"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID


class AssignmentExpiredV1(Envelope[AssignmentExpired]):
    event_type: Literal["assignment.expired"] = "assignment.expired"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID


class ProviderResponseV1(Envelope[ProviderResponse]):
    event_type: Literal["provider.response"] = "provider.response"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID


class ProviderActivityV1(Envelope[ProviderActivity]):
    event_type: Literal["provider.activity"] = "provider.activity"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID


class OutcomeRecordedV1(Envelope[OutcomeRecorded]):
    event_type: Literal["outcome.recorded"] = "outcome.recorded"
    schema_version: Literal[1] = 1
    referral_id: None = None  # the commissioner stream never carries the referral id


class OutcomeKpiV1(Envelope[OutcomeKpi]):
    event_type: Literal["outcome.kpi"] = "outcome.kpi"
    schema_version: Literal[1] = 1
    referral_id: None = None


ENVELOPES: dict[str, type[Envelope[Any]]] = {
    cls.model_fields["event_type"].default: cls
    for cls in (
        ReferralSubmittedV1,
        ReferralAcceptedV1,
        ReferralRejectedV1,
        ReferralStatusV1,
        ReferralTriagedV1,
        AssignmentCreatedV1,
        AssignmentDeliveredV1,
        AssignmentDeliveryFailedV1,
        AssignmentDeclinedV1,
        AssignmentExpiredV1,
        ProviderResponseV1,
        ProviderActivityV1,
        OutcomeRecordedV1,
        OutcomeKpiV1,
    )
}
SUPPORTED_VERSIONS = {1}

# One pass over the bytes in the common case: the event type picks the model.
_ANY_EVENT: TypeAdapter[Envelope[Any]] = TypeAdapter(
    Annotated[Union[tuple(ENVELOPES.values())], Field(discriminator="event_type")]  # type: ignore[arg-type]  # noqa: UP007
)


class ContractError(ValueError):
    """Bytes that are not a valid event. `code` is stable and machine-readable."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def _describe(exc: ValidationError, limit: int = 8) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:limit]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_event(raw: bytes, expected_type: str | None = None) -> Envelope[Any]:
    """Validate bytes against the contracts; raises ContractError and nothing else."""
    try:
        event = _ANY_EVENT.validate_json(raw)
    except ValidationError:
        pass  # find out precisely what is wrong below
    else:
        if expected_type is None or event.event_type == expected_type:
            return event
        raise ContractError("wrong_event_type", f"expected {expected_type!r}, got {event.event_type!r}")
    try:
        head = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractError("malformed_json", f"not JSON: {exc}") from None
    if not isinstance(head, dict):
        raise ContractError("schema_violation", f"an event is a JSON object, got {type(head).__name__}")
    event_type = head.get("event_type")
    if not isinstance(event_type, str):
        raise ContractError("schema_violation", "event_type: missing or not a string")
    envelope = ENVELOPES.get(event_type)
    if envelope is None:
        raise ContractError("unknown_event_type", f"no contract for event_type {event_type!r}")
    if expected_type is not None and event_type != expected_type:
        raise ContractError("wrong_event_type", f"expected {expected_type!r}, got {event_type!r}")
    version = head.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version not in SUPPORTED_VERSIONS:
        raise ContractError(
            "unsupported_schema_version",
            f"{event_type} schema_version {version} is not read here (supported: 1)",
        )
    try:
        return envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise ContractError("schema_violation", _describe(exc)) from None


def dump_event(event: BaseModel) -> bytes:
    """Compact JSON bytes of an event, as they go on the wire."""
    return event.model_dump_json().encode()
