"""The patient's consent to share with a provider, from a FHIR Consent resource.

BaRS has no consent element of its own. We read an R4 Consent resource sent with the referral
(a Bundle entry, or contained in a bare ServiceRequest) whose `patient` is the referral's
subject: the patient agreed when one such Consent is `active` with `provision.type` "permit"
and none is active with "deny". Without one, share_with_provider is False, which intake rejects
as consent.missing: a referral never reaches a provider on an assumed consent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.practitioner import Practitioner
from referral_schemas.events.referral import Consent

from referral_intake.fhir.names import display_name
from referral_intake.fhir.problems import Problems, build_contract
from referral_intake.fhir.references import Located, ResourceIndex


def consent_from_fhir(
    subject: Located | None, request: Located, index: ResourceIndex, problems: Problems
) -> Consent | None:
    permits: list[tuple[FhirConsent, Located]] = []
    denied = False
    for consent, located in index.all_of(FhirConsent):
        if consent.status != "active" or not _about(consent, located, subject, index):
            continue
        kind = consent.provision.type if consent.provision is not None else None
        if kind == "permit":
            permits.append((consent, located))
        elif kind == "deny":
            denied = True
    if denied or not permits:
        return build_contract(Consent, {"share_with_provider": False}, {}, request.path, problems)

    consent, located = permits[0]
    fields: dict[str, Any] = {"share_with_provider": True}
    # A date without a time is no instant; recorded_at stays empty rather than guess a time.
    if isinstance(consent.dateTime, dt.datetime) and consent.dateTime.tzinfo is not None:
        fields["recorded_at"] = consent.dateTime
    for performer in consent.performer or []:
        found = index.resolve(performer, located) if performer.reference else None
        name = _practitioner_name(found.resource) if found is not None else None
        if name or performer.display:
            fields["recorded_by"] = name or performer.display
            break
    origins = {"recorded_at": f"{located.path}.dateTime", "recorded_by": f"{located.path}.performer"}
    return build_contract(Consent, fields, origins, located.path, problems)


def _about(consent: FhirConsent, located: Located, subject: Located | None, index: ResourceIndex) -> bool:
    if consent.patient is None or subject is None:
        return False
    found = index.resolve(consent.patient, located)
    return found is not None and found.resource is subject.resource


def _practitioner_name(resource: object) -> str | None:
    return display_name(resource.name or []) if isinstance(resource, Practitioner) else None
