"""Valid FHIR submissions become the ReferralSubmitted a GP system would publish natively."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from referral_intake.fhir import FhirMappingError, referral_from_fhir, submission_from_fhir
from referral_schemas.enums import CancelStatus, Programme, ReferralAction, Sex, SourceType
from referral_schemas.events.common import Coding

FIXTURES = Path(__file__).parent.parent / "fixtures" / "fhir"
SENDER_IDS = "https://gp-system.example.org/Id/referral"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def encoded(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def bundle() -> dict[str, Any]:
    return fixture("bars-message-bundle-valid.json")


def entry(document: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return next(e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == resource_type)


def map_bundle(document: dict[str, Any], **kwargs: Any) -> Any:
    return submission_from_fhir(
        encoded(document), source_system="emis-c82001", identifier_system=SENDER_IDS, **kwargs
    )


def test_message_bundle_maps_to_the_submission_a_gp_system_publishes() -> None:
    referral = referral_from_fhir(
        encoded(bundle()), source_system="emis-c82001", identifier_system=SENDER_IDS
    )
    submitted = referral.submission

    assert referral.authored_at == dt.datetime(2026, 3, 2, 9, 10, tzinfo=dt.UTC)
    assert submitted.source_system == "emis-c82001"
    assert submitted.source_referral_id == "REF-2026-000123"
    assert submitted.source_type is SourceType.GP
    assert submitted.action is ReferralAction.NEW
    assert submitted.cancel_status is None
    assert submitted.referrer.ods_code == "C82001"
    assert submitted.referrer.clinician_name == "Dr Rajesh Patel"
    assert submitted.referrer.email == "r.patel.c82001@nhs.net"
    patient = submitted.patient
    assert patient.nhs_number == "9990000018"
    assert (patient.given_name, patient.family_name) == ("Asha Ben", "Mistry")
    assert patient.date_of_birth == dt.date(1961, 4, 17)
    assert patient.sex is Sex.FEMALE
    assert patient.ethnicity == "H"
    assert patient.postcode == "LE1 5WW"
    assert patient.address_lines == ["Flat 3", "27 Welford Road", "Leicester"]
    assert (patient.phone, patient.email) == ("0116 496 0123", "asha.mistry@example.org")
    assert submitted.consent.share_with_provider is True
    assert submitted.consent.recorded_at == dt.datetime(2026, 3, 2, 9, 5, tzinfo=dt.UTC)
    assert submitted.consent.recorded_by == "Dr Rajesh Patel"
    assert submitted.reasons == [
        Coding(system="http://snomed.info/sct", code="38341003", display="Hypertensive disorder"),
        Coding(system="http://snomed.info/sct", code="44054006", display="Type 2 diabetes mellitus"),
    ]
    assert (
        submitted.reason_text == "Raised blood pressure, wants to get more active; Type 2 diabetes mellitus"
    )
    assert submitted.requested_programme is Programme.EXERCISE_REFERRAL
    assert (
        submitted.notes
        == "Prefers morning sessions.\n\nSpeaks Gujarati and English.\n\nReferrer's priority: urgent"
    )


def test_corrected_bars_service_request_maps_with_its_contained_resources() -> None:
    referral = referral_from_fhir(
        (FIXTURES / "servicerequest-valid.json").read_bytes(), source_system="ers-bars"
    )
    submitted = referral.submission

    assert referral.authored_at == dt.datetime(2021, 11, 26, 15, 0, tzinfo=dt.UTC)
    assert submitted.source_referral_id == "71d2b38e-b81c-4894-a522-6a65265b1d58"
    assert submitted.action is ReferralAction.NEW
    assert submitted.referrer.ods_code == "C82001"
    assert submitted.referrer.clinician_name is None
    assert submitted.patient.nhs_number == "9990000018"
    assert submitted.patient.postcode == "LE1 5WW"
    assert submitted.consent.share_with_provider is True
    assert submitted.requested_programme is None
    assert submitted.notes is not None
    assert submitted.notes.startswith("Patient instruction: ADVICE GIVEN")


@pytest.mark.parametrize("status", ["revoked", "entered-in-error"])
def test_revoked_or_entered_in_error_request_cancels_the_referral(status: str) -> None:
    document = bundle()
    request = entry(document, "ServiceRequest")
    request["status"] = status
    request["extension"] = [
        {
            "url": "http://hl7.org/fhir/StructureDefinition/request-statusReason",
            "valueCodeableConcept": {"text": "Patient moved out of area"},
        }
    ]

    submitted = map_bundle(document)

    assert submitted.action is ReferralAction.CANCEL
    assert submitted.cancel_status is CancelStatus(status)
    assert submitted.cancel_reason == "Patient moved out of area"


def test_bars_update_reason_in_the_message_header_makes_an_update() -> None:
    document = bundle()
    entry(document, "MessageHeader")["reason"]["coding"][0]["code"] = "update"

    assert map_bundle(document).action is ReferralAction.UPDATE


def test_bare_service_request_that_replaces_another_is_an_update() -> None:
    document = fixture("servicerequest-valid.json")
    document["replaces"] = [{"reference": "ServiceRequest/previous-version"}]

    submitted = submission_from_fhir(encoded(document), source_system="ers-bars")

    assert submitted.action is ReferralAction.UPDATE


def test_a_draft_request_is_refused_as_not_ready_for_action() -> None:
    document = bundle()
    entry(document, "ServiceRequest")["status"] = "draft"

    with pytest.raises(FhirMappingError) as caught:
        submission_from_fhir(encoded(document), source_system="ers-bars")
    assert [p.path for p in caught.value.problems] == ["Bundle.entry[1].resource.status"]
    assert "expected active" in caught.value.problems[0].problem


def test_resource_id_is_the_source_id_when_no_identifier_is_in_the_senders_system() -> None:
    submitted = submission_from_fhir(
        encoded(bundle()), source_system="emis-c82001", identifier_system="https://other.example/Id"
    )

    assert submitted.source_referral_id == "a1f3e5c7-2b4d-4e6f-8a0b-1c2d3e4f5a61"


def test_source_type_is_the_callers() -> None:
    submitted = map_bundle(bundle(), source_type=SourceType.HOSPITAL_DISCHARGE)

    assert submitted.source_type is SourceType.HOSPITAL_DISCHARGE


def test_unknown_service_code_leaves_programme_empty_and_keeps_its_text() -> None:
    document = bundle()
    entry(document, "ServiceRequest")["code"] = {
        "coding": [{"system": "http://snomed.info/sct", "code": "1234567", "display": "Swimming lessons"}]
    }

    submitted = map_bundle(document)

    assert submitted.requested_programme is None
    assert submitted.reason_text is not None
    assert submitted.reason_text.endswith("Requested service: Swimming lessons")


def test_pulmonary_rehabilitation_code_requests_cardiopulmonary_rehab() -> None:
    document = bundle()
    entry(document, "ServiceRequest")["code"] = {
        "coding": [{"system": "http://snomed.info/sct", "code": "15081005"}]
    }

    assert map_bundle(document).requested_programme is Programme.CARDIOPULMONARY_REHAB


def test_without_a_consent_resource_the_patient_has_not_agreed_to_share() -> None:
    document = bundle()
    document["entry"] = [e for e in document["entry"] if e["resource"]["resourceType"] != "Consent"]
    entry(document, "ServiceRequest").pop("supportingInfo")

    consent = map_bundle(document).consent

    assert consent.share_with_provider is False
    assert consent.recorded_at is None


def test_a_deny_consent_means_no_sharing() -> None:
    document = bundle()
    entry(document, "Consent")["provision"]["type"] = "deny"

    assert map_bundle(document).consent.share_with_provider is False


def test_consent_about_another_patient_does_not_count() -> None:
    document = bundle()
    entry(document, "Consent")["patient"] = {"reference": "Patient/someone-else"}

    assert map_bundle(document).consent.share_with_provider is False


def test_requester_organisation_gives_the_ods_code_without_a_message_sender() -> None:
    document = bundle()
    entry(document, "ServiceRequest")["requester"] = {
        "reference": "Organization/5e1c9a77-3b2d-4f0e-8c6a-9d8e7f6a5b41"
    }
    entry(document, "MessageHeader").pop("sender")

    referrer = map_bundle(document).referrer

    assert referrer.ods_code == "C82001"
    assert referrer.clinician_name is None


def test_practitioner_role_gives_clinician_role_and_organisation() -> None:
    document = bundle()
    document["entry"].append(
        {
            "fullUrl": "urn:uuid:role-1",
            "resource": {
                "resourceType": "PractitionerRole",
                "id": "role-1",
                "practitioner": {"reference": "urn:uuid:7d948662-bade-450e-b6c5-9bb6ee39cb56"},
                "organization": {
                    "identifier": {
                        "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                        "value": "C82002",
                    }
                },
                "code": [{"text": "Practice nurse"}],
                "telecom": [{"system": "phone", "value": "0116 496 0999"}],
            },
        }
    )
    entry(document, "ServiceRequest")["requester"] = {"reference": "urn:uuid:role-1"}

    referrer = map_bundle(document).referrer

    assert (referrer.ods_code, referrer.role) == ("C82002", "Practice nurse")
    assert (referrer.clinician_name, referrer.phone) == ("Dr Rajesh Patel", "0116 496 0999")


def test_mapping_refuses_a_request_intent_that_is_not_a_referral() -> None:
    document = bundle()
    entry(document, "ServiceRequest")["intent"] = "filler-order"

    with pytest.raises(FhirMappingError) as raised:
        map_bundle(document)

    assert [p.path for p in raised.value.problems] == ["Bundle.entry[1].resource.intent"]


@pytest.mark.parametrize("status", ["on-hold", "completed", "unknown"])
def test_mapping_refuses_a_status_that_neither_submits_nor_cancels(status: str) -> None:
    document = bundle()
    entry(document, "ServiceRequest")["status"] = status

    with pytest.raises(FhirMappingError) as raised:
        map_bundle(document)

    assert [p.path for p in raised.value.problems] == ["Bundle.entry[1].resource.status"]


def test_the_latest_blood_pressure_observation_becomes_the_resting_reading() -> None:

    doc = json.loads(
        (Path(__file__).parent.parent / "fixtures/fhir/bars-message-bundle-valid.json").read_text()
    )
    older = copy.deepcopy(next(e for e in doc["entry"] if e["resource"]["resourceType"] == "Observation"))
    older["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-000000000001"
    older["resource"]["effectiveDateTime"] = "2025-01-01T09:00:00+00:00"
    older["resource"]["component"][0]["valueQuantity"]["value"] = 171
    doc["entry"].append(older)

    submission = submission_from_fhir(json.dumps(doc).encode(), source_system="fhir.c82001")
    assert (submission.safety.resting_bp_systolic, submission.safety.resting_bp_diastolic) == (148, 92)


def test_a_blood_pressure_without_its_diastolic_component_is_refused_with_its_path() -> None:

    import pytest

    doc = json.loads(
        (Path(__file__).parent.parent / "fixtures/fhir/bars-message-bundle-valid.json").read_text()
    )
    index = next(i for i, e in enumerate(doc["entry"]) if e["resource"]["resourceType"] == "Observation")
    doc["entry"][index]["resource"]["component"].pop()
    with pytest.raises(FhirMappingError) as caught:
        submission_from_fhir(json.dumps(doc).encode(), source_system="fhir.c82001")
    assert [p.path for p in caught.value.problems] == [f"Bundle.entry[{index}].resource.component"]
