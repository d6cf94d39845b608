"""The one way events come off the wire (`parse_event`) and go onto it (`dump_event`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from referral_schemas.envelope import Envelope
from referral_schemas.registry import EVENTS

# Error details go to dead-letter headers and logs, so they name fields and rules but never
# echo the input, which may be patient data.
_MAX_ERRORS = 8


class ContractErrorCode(StrEnum):
    MALFORMED_JSON = "malformed_json"
    SCHEMA_VIOLATION = "schema_violation"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
    WRONG_EVENT_TYPE = "wrong_event_type"


class ContractError(ValueError):
    """Bytes that are not a valid event: `code` is machine-readable, `detail` says precisely why."""

    def __init__(self, code: ContractErrorCode, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


# The same JSON parser as the models', so that bytes are malformed for both or for neither.
_ANY_JSON: TypeAdapter[Any] = TypeAdapter(Any)
# One pass over the bytes in the common case: the event type picks the model.
_ANY_EVENT: TypeAdapter[Envelope[Any]] = TypeAdapter(
    Annotated[
        Union[tuple(spec.envelope for spec in EVENTS.values())],  # type: ignore[arg-type]  # noqa: UP007
        Field(discriminator="event_type"),
    ]
)


def parse_event(raw: bytes, expected_type: str | None = None) -> Envelope[Any]:
    """The event in `raw`, as its typed envelope (e.g. ReferralAcceptedV1).

    Raises ContractError, and nothing else, for any bytes that are not a valid event; with
    `expected_type`, also for a valid event of another type. An `expected_type` the registry does
    not know is a programming error (ValueError).
    """
    if expected_type is not None and expected_type not in EVENTS:
        raise ValueError(f"unknown expected_type {expected_type!r}")
    try:
        event = _ANY_EVENT.validate_json(raw)
    except ValidationError:
        event = _parse_step_by_step(raw, expected_type)
    if expected_type is not None and event.event_type != expected_type:
        raise ContractError(
            ContractErrorCode.WRONG_EVENT_TYPE, f"expected {expected_type!r}, got {event.event_type!r}"
        )
    return event


def _parse_step_by_step(raw: bytes, expected_type: str | None) -> Envelope[Any]:
    """Parse `raw` checking one thing at a time, so that a failure names its first cause."""
    try:
        head = _ANY_JSON.validate_json(raw)
    except ValidationError as exc:
        raise ContractError(ContractErrorCode.MALFORMED_JSON, exc.errors()[0]["msg"]) from None
    if not isinstance(head, dict):
        raise ContractError(
            ContractErrorCode.SCHEMA_VIOLATION, f"an event is a JSON object, got {_json_type(head)}"
        )
    event_type = head.get("event_type")
    if not isinstance(event_type, str):
        problem = "missing" if event_type is None else f"must be a string, got {_json_type(event_type)}"
        raise ContractError(ContractErrorCode.SCHEMA_VIOLATION, f"event_type: {problem}")
    spec = EVENTS.get(event_type)
    if spec is None:
        raise ContractError(
            ContractErrorCode.UNKNOWN_EVENT_TYPE, f"no contract for event_type {event_type!r}"
        )
    if expected_type is not None and event_type != expected_type:
        raise ContractError(
            ContractErrorCode.WRONG_EVENT_TYPE, f"expected {expected_type!r}, got {event_type!r}"
        )
    version = head.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version != spec.version:
        raise ContractError(
            ContractErrorCode.UNSUPPORTED_SCHEMA_VERSION,
            f"{event_type} schema_version {version} is not read here (supported: {spec.version})",
        )
    try:
        return spec.envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise ContractError(ContractErrorCode.SCHEMA_VIOLATION, _describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    parts = [f"{_path(err['loc'])}: {err['msg']} [{err['type']}]" for err in exc.errors()[:_MAX_ERRORS]]
    more = exc.error_count() - _MAX_ERRORS
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path or "(event)"


def _json_type(value: object) -> str:
    match value:
        case dict():
            return "object"
        case list():
            return "array"
        case str():
            return "string"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case _:
            return "null"


def dump_event(event: Envelope[Any]) -> bytes:
    """The event as it goes on the wire: compact UTF-8 JSON."""
    return event.model_dump_json().encode()
