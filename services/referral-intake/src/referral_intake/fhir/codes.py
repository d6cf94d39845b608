"""Identifier systems, extension URLs and code tables the FHIR mapping reads."""

from __future__ import annotations

from referral_schemas.enums import Programme

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED_CT = "http://snomed.info/sct"

# UK Core ethnic category: a CodeableConcept whose code is the NHS data dictionary letter.
ETHNIC_CATEGORY_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"

# BaRS says in MessageHeader.reason whether a message is new or updates what the receiver has.
BARS_MESSAGE_REASON_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"

# R4 ServiceRequest has no statusReason (R5 adds it); FHIR's core extension carries it for R4.
STATUS_REASON_EXTENSION = "http://hl7.org/fhir/StructureDefinition/request-statusReason"

# ServiceRequest.intent values that ask for the service to be delivered; the others (directive,
# reflex-order, filler-order, instance-order, option) are not a referral from a referrer.
REFERRAL_INTENTS = frozenset({"proposal", "plan", "order", "original-order"})

# A draft is "not yet ready for action" in FHIR: a referrer must send it once it is active.
ACTIVE_STATUSES = frozenset({"active"})
CANCEL_STATUSES = frozenset({"revoked", "entered-in-error"})

# ServiceRequest.code (SNOMED CT) naming one of our programmes. Only concepts whose meaning has
# been checked are listed; a code missing here is not an error: requested_programme stays empty,
# its text goes to reason_text and triage chooses. Extend with clinical-terminology review.
PROGRAMME_BY_SNOMED: dict[str, Programme] = {
    "310882002": Programme.EXERCISE_REFERRAL,  # Exercise on prescription (regime/therapy)
    "15081005": Programme.CARDIOPULMONARY_REHAB,  # Pulmonary rehabilitation (regime/therapy)
}

# Priorities worth a person's attention at intake; "routine" says nothing beyond the default.
NOTEWORTHY_PRIORITIES = frozenset({"urgent", "asap", "stat"})
