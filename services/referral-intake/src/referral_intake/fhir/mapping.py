"""A FHIR R4 ServiceRequest, or a BaRS message Bundle, to the ReferralSubmitted command.

Mapping rules, element by element (ServiceRequest unless stated):

- identifier -> source_referral_id: the identifier in the sender's own system
  (`identifier_system`, known per sender by the caller), else the resource id, else the first
  identifier with a value.
- status: active submits the referral (a draft is not ready for action and is refused); revoked
  and entered-in-error cancel it
  (cancel_status says which, cancel_reason comes from the core request-statusReason
  extension); on-hold, completed and unknown are refused.
- new or update: in a BaRS message, MessageHeader.reason (message-reason-bars) "update" makes an
  update and "new" (or no BaRS reason) a new referral. A bare ServiceRequest carries no header:
  one that `replaces` an earlier request is an update, otherwise new. Either way the referral
  updated is the one with the same source_referral_id, so senders keep identifiers stable.
- intent: proposal, plan, order or original-order; anything else is refused.
- category: not mapped (every submission here is a referral whatever the category says).
- priority -> a line in notes when urgent, asap or stat; triage sets the real priority.
- code -> requested_programme through `codes.PROGRAMME_BY_SNOMED`; an unlisted code leaves it
  empty and its text goes into reason_text.
- reasonCode -> reasons (each coding with its system, code and display) and reason_text (texts).
- subject -> patient (see `patient`), requester -> referrer (see `referrer`), consent from a
  Consent resource (see `consent`).
- note and patientInstruction -> notes. supportingInfo, reasonReference: not mapped.
- authoredOn -> `FhirReferral.authored_at`, for the envelope's occurred_at: the contract
  payload has no field for it.
- source_type is the caller's (it knows which kind of system it authenticated); default gp.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.messageheader import MessageHeader
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest
from referral_schemas.enums import CancelStatus, Programme, ReferralAction, SourceType
from referral_schemas.events.common import Coding
from referral_schemas.events.referral import ReferralSubmitted

from referral_intake.fhir.codes import (
    ACTIVE_STATUSES,
    BARS_MESSAGE_REASON_SYSTEM,
    CANCEL_STATUSES,
    NHS_NUMBER_SYSTEM,
    NOTEWORTHY_PRIORITIES,
    PROGRAMME_BY_SNOMED,
    REFERRAL_INTENTS,
    SNOMED_CT,
    STATUS_REASON_EXTENSION,
)
from referral_intake.fhir.consent import consent_from_fhir
from referral_intake.fhir.patient import patient_from_fhir
from referral_intake.fhir.problems import Problems, build_contract, shown
from referral_intake.fhir.reading import read_resource
from referral_intake.fhir.references import Located, ResourceIndex
from referral_intake.fhir.referrer import referrer_from_fhir
from referral_intake.fhir.safety import safety_from_fhir


@dataclass(frozen=True, slots=True)
class FhirReferral:
    """A mapped submission and when the referrer authored it (UTC), if the request says."""

    submission: ReferralSubmitted
    authored_at: dt.datetime | None


def submission_from_fhir(
    body: bytes,
    *,
    source_system: str,
    source_type: SourceType = SourceType.GP,
    identifier_system: str | None = None,
) -> ReferralSubmitted:
    """The submission a FHIR body makes; raises FhirMappingError naming every problem."""
    return referral_from_fhir(
        body, source_system=source_system, source_type=source_type, identifier_system=identifier_system
    ).submission


def referral_from_fhir(
    body: bytes,
    *,
    source_system: str,
    source_type: SourceType = SourceType.GP,
    identifier_system: str | None = None,
) -> FhirReferral:
    """As `submission_from_fhir`, with ServiceRequest.authoredOn as well."""
    resource = read_resource(body)
    problems = Problems()
    header: Located | None = None
    if isinstance(resource, Bundle):
        index = ResourceIndex.of_bundle(resource)
        request, header = _message_parts(resource, index, problems)
    else:
        request, index = Located(resource, "ServiceRequest"), ResourceIndex([])
    problems.raise_if_any()
    assert request is not None
    assert isinstance(request.resource, ServiceRequest)
    index = index.with_contained(request)
    sr = request.resource
    base = request.path

    fields: dict[str, Any] = {"source_system": source_system, "source_type": source_type}
    origins: dict[str, str] = {}
    _source_id(sr, base, identifier_system, fields, origins, problems)
    _action(sr, base, header, fields, problems)
    if sr.intent not in REFERRAL_INTENTS:
        allowed = ", ".join(sorted(REFERRAL_INTENTS))
        problems.add(f"{base}.intent", f"{shown(sr.intent)} is not a referral; expected one of {allowed}")

    subject = _subject(sr, request, index, problems)
    fields["patient"] = patient_from_fhir(subject, problems) if subject is not None else None
    fields["referrer"] = referrer_from_fhir(sr.requester, request, header, index, problems)
    fields["consent"] = consent_from_fhir(subject, request, index, problems)
    fields["safety"] = safety_from_fhir(index, problems)
    _reasons(sr, base, fields, origins, problems)
    _notes(sr, base, fields, origins)
    problems.raise_if_any()

    submission = build_contract(ReferralSubmitted, fields, origins, base, problems)
    problems.raise_if_any()
    assert submission is not None
    authored = sr.authoredOn
    authored_at = authored.astimezone(dt.UTC) if isinstance(authored, dt.datetime) else None
    return FhirReferral(submission, authored_at)


def _message_parts(
    bundle: Bundle, located: ResourceIndex, problems: Problems
) -> tuple[Located | None, Located | None]:
    """The ServiceRequest a Bundle carries and, for a message, its MessageHeader."""
    header = None
    if bundle.type == "message":
        first = located.located[0] if located.located else None
        if first is None or first.path != "Bundle.entry[0].resource":
            first = None
        if first is None or not isinstance(first.resource, MessageHeader):
            problems.add("Bundle.entry[0].resource", "must be the MessageHeader of a message Bundle")
        else:
            header = first
    if header is not None:
        assert isinstance(header.resource, MessageHeader)
        for focus in header.resource.focus or []:
            found = located.resolve(focus, header)
            if found is not None and isinstance(found.resource, ServiceRequest):
                return found, header
    requests = [item for _, item in located.all_of(ServiceRequest)]
    if len(requests) == 1:
        return requests[0], header
    if not requests:
        problems.add("Bundle.entry", "holds no ServiceRequest")
    else:
        problems.add(
            "Bundle.entry", f"holds {len(requests)} ServiceRequests and no MessageHeader.focus names one"
        )
    return None, header


def _source_id(
    sr: ServiceRequest,
    base: str,
    identifier_system: str | None,
    fields: dict[str, Any],
    origins: dict[str, str],
    problems: Problems,
) -> None:
    identifiers = list(enumerate(sr.identifier or []))
    chosen: tuple[str, str] | None = None
    if identifier_system is not None:
        chosen = next(
            (
                (ident.value, f"{base}.identifier[{i}].value")
                for i, ident in identifiers
                if ident.system == identifier_system and ident.value
            ),
            None,
        )
    if chosen is None and sr.id:
        chosen = sr.id, f"{base}.id"
    if chosen is None:
        chosen = next(
            ((ident.value, f"{base}.identifier[{i}].value") for i, ident in identifiers if ident.value),
            None,
        )
    if chosen is None:
        problems.add(f"{base}.identifier", "is required (or an id): the referral needs its sender's id")
        return
    fields["source_referral_id"], origins["source_referral_id"] = chosen


def _action(
    sr: ServiceRequest, base: str, header: Located | None, fields: dict[str, Any], problems: Problems
) -> None:
    status = sr.status
    if status in CANCEL_STATUSES:
        fields["action"] = ReferralAction.CANCEL
        fields["cancel_status"] = CancelStatus(status)
        fields["cancel_reason"] = _status_reason(sr)
        return
    if status not in ACTIVE_STATUSES:
        problems.add(
            f"{base}.status",
            f"{shown(status)} cannot be submitted; expected active, or revoked or entered-in-error to cancel",
        )
        return
    if header is None:
        fields["action"] = ReferralAction.UPDATE if sr.replaces else ReferralAction.NEW
        return
    assert isinstance(header.resource, MessageHeader)
    reason = header.resource.reason
    codes = [
        (j, coding.code)
        for j, coding in enumerate(reason.coding or [] if reason is not None else [])
        if coding.system == BARS_MESSAGE_REASON_SYSTEM
    ]
    if not codes:
        fields["action"] = ReferralAction.NEW
        return
    j, code = codes[0]
    if code == "new":
        fields["action"] = ReferralAction.NEW
    elif code == "update":
        fields["action"] = ReferralAction.UPDATE
    else:
        problems.add(f"{header.path}.reason.coding[{j}].code", f"{shown(code)} is neither new nor update")


def _status_reason(sr: ServiceRequest) -> str | None:
    for extension in sr.extension or []:
        if extension.url == STATUS_REASON_EXTENSION and extension.valueCodeableConcept is not None:
            concept = extension.valueCodeableConcept
            displays = [c.display for c in concept.coding or [] if c.display]
            return concept.text or (displays[0] if displays else None)
    return None


def _subject(
    sr: ServiceRequest, request: Located, index: ResourceIndex, problems: Problems
) -> Located | None:
    base = f"{request.path}.subject"
    subject = sr.subject
    if subject is None:
        problems.add(base, "is required")
        return None
    if subject.reference:
        found = index.resolve(subject, request)
        if found is None:
            problems.add(f"{base}.reference", "names no Patient in the submission")
        elif not isinstance(found.resource, Patient):
            kind = found.resource.get_resource_type()
            problems.add(f"{base}.reference", f"names a {kind}; the subject must be a Patient")
        else:
            return found
        return None
    if subject.identifier is not None and subject.identifier.system == NHS_NUMBER_SYSTEM:
        problems.add(
            base,
            "gives only an NHS number; the referral needs the Patient resource too (name, birthDate, "
            "gender, address), in the Bundle or contained",
        )
    else:
        problems.add(base, "must reference the Patient resource")
    return None


def _reasons(
    sr: ServiceRequest, base: str, fields: dict[str, Any], origins: dict[str, str], problems: Problems
) -> None:
    reasons: list[Coding] = []
    texts: list[str] = []
    for i, concept in enumerate(sr.reasonCode or []):
        displays: list[str] = []
        for j, coding in enumerate(concept.coding or []):
            path = f"{base}.reasonCode[{i}].coding[{j}]"
            if coding.display:
                displays.append(coding.display)
            if not coding.code:
                continue
            if not coding.system:
                problems.add(f"{path}.system", "is required with a code, to say which code system it is from")
                continue
            found = build_contract(
                Coding,
                {"system": coding.system, "code": coding.code, "display": coding.display},
                {name: f"{path}.{name}" for name in ("system", "code", "display")},
                path,
                problems,
            )
            if found is not None:
                reasons.append(found)
        text = concept.text or (displays[0] if displays else None)
        if text:
            texts.append(text)
    origins["reasons"] = f"{base}.reasonCode"
    fields["reasons"] = reasons

    programme: Programme | None = None
    if sr.code is not None:
        for coding in sr.code.coding or []:
            if coding.system == SNOMED_CT and coding.code in PROGRAMME_BY_SNOMED:
                programme = PROGRAMME_BY_SNOMED[coding.code]
                break
        if programme is None:
            displays = [c.display for c in sr.code.coding or [] if c.display]
            requested = sr.code.text or (displays[0] if displays else None)
            if requested:
                texts.append(f"Requested service: {requested}")
    fields["requested_programme"] = programme
    if texts:
        fields["reason_text"] = "; ".join(texts)
        origins["reason_text"] = f"{base}.reasonCode"


def _notes(sr: ServiceRequest, base: str, fields: dict[str, Any], origins: dict[str, str]) -> None:
    parts = [note.text for note in sr.note or [] if note.text]
    if sr.priority in NOTEWORTHY_PRIORITIES:
        parts.append(f"Referrer's priority: {sr.priority}")
    if sr.patientInstruction:
        parts.append(f"Patient instruction: {sr.patientInstruction}")
    if parts:
        fields["notes"] = "\n\n".join(parts)
        origins["notes"] = f"{base}.note"
