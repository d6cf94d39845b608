"""ServiceRequest.requester (and the message sender) to the referrer of a submission."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.messageheader import MessageHeader
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.reference import Reference
from referral_schemas.events.referral import Referrer

from referral_intake.fhir.codes import ODS_CODE_SYSTEM
from referral_intake.fhir.names import display_name
from referral_intake.fhir.problems import Problems, build_contract
from referral_intake.fhir.references import Located, ResourceIndex


def referrer_from_fhir(
    requester: Reference | None,
    request: Located,
    header: Located | None,
    index: ResourceIndex,
    problems: Problems,
) -> Referrer | None:
    """The referring organisation (ODS code) and, when given, the clinician.

    The ODS code is looked for, in order: the requester when it is an Organization, the
    organization of a requesting PractitionerRole, an ODS identifier on the requester
    reference, then the MessageHeader.sender (a Practitioner belongs to no one organisation;
    a BaRS message names the organisation it is sent for as its sender).
    """
    base = f"{request.path}.requester"
    if requester is None:
        problems.add(base, "is required: intake needs the referring organisation's ODS code")
        return None
    fields: dict[str, Any] = {}
    origins: dict[str, str] = {}
    ods: tuple[str, str] | None = None

    target = index.resolve(requester, request) if requester.reference else None
    if requester.reference and target is None:
        problems.add(f"{base}.reference", "names no resource in the submission")
        return None
    practitioner: Practitioner | None = None
    telecom: list[ContactPoint] = []
    if target is not None:
        resource = target.resource
        if isinstance(resource, Organization):
            ods = _ods_of(resource.identifier, f"{target.path}.identifier")
        elif isinstance(resource, PractitionerRole):
            telecom = list(resource.telecom or [])
            role = _role_of(resource)
            if role:
                fields["role"] = role
                origins["role"] = f"{target.path}.code"
            ods = _organisation_ods(resource.organization, target, index)
            if resource.practitioner is not None:
                found = index.resolve(resource.practitioner, target)
                if found is not None and isinstance(found.resource, Practitioner):
                    practitioner = found.resource
                    origins["clinician_name"] = f"{found.path}.name"
        elif isinstance(resource, Practitioner):
            practitioner = resource
            origins["clinician_name"] = f"{target.path}.name"
        else:
            problems.add(
                f"{base}.reference",
                f"names a {resource.get_resource_type()}; expected Practitioner, PractitionerRole "
                "or Organization",
            )
            return None
    if ods is None and requester.identifier is not None:
        ods = _single_ods(requester.identifier, f"{base}.identifier")
    if ods is None and header is not None and isinstance(header.resource, MessageHeader):
        sender = header.resource.sender
        if sender is not None:
            ods = _organisation_ods(sender, header, index, f"{header.path}.sender")
    if ods is None:
        problems.add(base, f"names no organisation with an ODS code (system {ODS_CODE_SYSTEM})")
        return None
    fields["ods_code"], origins["ods_code"] = ods

    if practitioner is not None:
        name = display_name(practitioner.name or [])
        if name:
            fields["clinician_name"] = name
        telecom = telecom or list(practitioner.telecom or [])
    for point in telecom:
        if point.system == "phone" and point.value:
            fields.setdefault("phone", point.value)
        elif point.system == "email" and point.value:
            fields.setdefault("email", point.value)
    return build_contract(Referrer, fields, origins, base, problems)


def _ods_of(identifiers: list[Identifier] | None, path: str) -> tuple[str, str] | None:
    for i, identifier in enumerate(identifiers or []):
        if identifier.system == ODS_CODE_SYSTEM and identifier.value:
            return identifier.value, f"{path}[{i}].value"
    return None


def _single_ods(identifier: Identifier, path: str) -> tuple[str, str] | None:
    if identifier.system == ODS_CODE_SYSTEM and identifier.value:
        return identifier.value, f"{path}.value"
    return None


def _organisation_ods(
    reference: Reference | None, within: Located, index: ResourceIndex, path: str | None = None
) -> tuple[str, str] | None:
    if reference is None:
        return None
    found = index.resolve(reference, within) if reference.reference else None
    if found is not None and isinstance(found.resource, Organization):
        return _ods_of(found.resource.identifier, f"{found.path}.identifier")
    if reference.identifier is not None:
        return _single_ods(reference.identifier, f"{path or within.path}.identifier")
    return None


def _role_of(role: PractitionerRole) -> str | None:
    for concept in role.code or []:
        if concept.text:
            return concept.text
        for coding in concept.coding or []:
            if coding.display:
                return coding.display
    return None
