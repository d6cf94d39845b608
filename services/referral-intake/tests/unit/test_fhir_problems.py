"""Whatever is wrong with a FHIR body is answered with FhirMappingError naming path and problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from referral_intake.fhir import FhirMappingError, FhirProblem, submission_from_fhir

FIXTURES = Path(__file__).parent.parent / "fixtures" / "fhir"
REQUEST = "Bundle.entry[1].resource"
PATIENT = "Bundle.entry[2].resource"


def bundle() -> dict[str, Any]:
    return json.loads((FIXTURES / "bars-message-bundle-valid.json").read_text())


def entry(document: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return next(e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == resource_type)


def problems_of(body: bytes | dict[str, Any]) -> list[FhirProblem]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(FhirMappingError) as raised:
        submission_from_fhir(raw, source_system="emis-c82001")
    return raised.value.problems


def paths_of(body: bytes | dict[str, Any]) -> list[str]:
    return [p.path for p in problems_of(body)]


def test_shared_bars_example_is_refused_for_exactly_its_two_deviations_from_r4() -> None:
    problems = problems_of((FIXTURES / "bars-servicerequest-example.json").read_bytes())

    assert problems == [
        FhirProblem("ServiceRequest.basedOn", "must be a JSON array: this element repeats in FHIR R4"),
        FhirProblem(
            "ServiceRequest.PatientInstruction",
            "is not an element of FHIR R4 (element names are case-sensitive); "
            "did you mean patientInstruction?",
        ),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"referral for Asha", "is not JSON"),
        (b"", "is not JSON"),
        (b"\xff\xfe\x00{", "is not JSON"),
        (b'{"resourceType": "Bundle", "resourceType": "Bundle"}', "'resourceType' appears twice"),
        (b'{"resourceType": "ServiceRequest", "x": NaN}', "is not JSON"),
        (b"[" * 100_000, "is not JSON"),
        (b'[{"resourceType": "ServiceRequest"}]', "is an array; a FHIR resource is a JSON object"),
        (b'"ServiceRequest"', "a FHIR resource is a JSON object"),
        (b"42", "a FHIR resource is a JSON object"),
    ],
)
def test_body_that_is_not_a_json_object_is_refused_as_a_whole(body: bytes, expected: str) -> None:
    (problem,) = problems_of(body)

    assert problem.path == "$"
    assert expected in problem.problem


@pytest.mark.parametrize("resource_type", ["Patient", "servicerequest", None, 7])
def test_resource_other_than_service_request_or_bundle_is_refused(resource_type: object) -> None:
    document = {"resourceType": resource_type} if resource_type is not None else {"id": "x"}

    (problem,) = problems_of(document)

    assert problem.path == "resourceType"
    assert "expected ServiceRequest or Bundle" in problem.problem


def test_bundle_without_a_service_request_is_refused() -> None:
    document = bundle()
    document["entry"] = [e for e in document["entry"] if e["resource"]["resourceType"] != "ServiceRequest"]

    assert problems_of(document) == [FhirProblem("Bundle.entry", "holds no ServiceRequest")]


def test_bundle_with_two_service_requests_and_no_focus_is_refused() -> None:
    document = bundle()
    entry(document, "MessageHeader").pop("focus")
    second = json.loads(json.dumps(document["entry"][1]))
    second["fullUrl"] = "urn:uuid:second"
    second["resource"]["id"] = "second"
    document["entry"].append(second)

    assert paths_of(document) == ["Bundle.entry"]


def test_message_bundle_must_begin_with_its_message_header() -> None:
    document = bundle()
    document["entry"].append(document["entry"].pop(0))

    assert paths_of(document) == ["Bundle.entry[0].resource"]


def test_subject_reference_to_nothing_in_the_bundle_is_refused() -> None:
    document = bundle()
    entry(document, "ServiceRequest")["subject"] = {"reference": "urn:uuid:not-in-this-bundle"}

    assert problems_of(document) == [
        FhirProblem(f"{REQUEST}.subject.reference", "names no Patient in the submission")
    ]


def test_subject_naming_a_practitioner_is_refused() -> None:
    document = bundle()
    entry(document, "ServiceRequest")["subject"] = {
        "reference": "Practitioner/7d948662-bade-450e-b6c5-9bb6ee39cb56"
    }

    (problem,) = problems_of(document)

    assert problem.path == f"{REQUEST}.subject.reference"
    assert "must be a Patient" in problem.problem


def test_subject_given_only_by_nhs_number_asks_for_the_patient_resource() -> None:
    document = bundle()
    entry(document, "ServiceRequest")["subject"] = {
        "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}
    }

    (problem,) = problems_of(document)

    assert problem.path == f"{REQUEST}.subject"
    assert "only an NHS number" in problem.problem


def test_missing_birth_date_is_refused_at_its_path() -> None:
    document = bundle()
    entry(document, "Patient").pop("birthDate")

    assert problems_of(document) == [FhirProblem(f"{PATIENT}.birthDate", "is required")]


@pytest.mark.parametrize("birth_date", ["17/04/1961", "1961-13-01", "", "yesterday"])
def test_birth_date_that_is_not_a_fhir_date_is_refused_at_its_path(birth_date: str) -> None:
    document = bundle()
    entry(document, "Patient")["birthDate"] = birth_date

    assert paths_of(document) == [f"{PATIENT}.birthDate"]


def test_birth_date_of_only_year_and_month_is_refused() -> None:
    document = bundle()
    entry(document, "Patient")["birthDate"] = "1961-04"

    (problem,) = problems_of(document)

    assert problem.path == f"{PATIENT}.birthDate"
    assert "full date" in problem.problem


def test_authored_on_that_is_not_a_date_time_is_refused_at_its_path() -> None:
    document = bundle()
    entry(document, "ServiceRequest")["authoredOn"] = "2026-03-02 morning"

    assert paths_of(document) == [f"{REQUEST}.authoredOn"]


def test_every_patient_problem_is_reported_together() -> None:
    document = bundle()
    patient = entry(document, "Patient")
    patient.pop("gender")
    patient["identifier"] = []
    patient["name"] = [{"use": "official", "family": "Mistry"}]
    patient["address"] = [{"use": "home", "line": ["27 Welford Road"]}]

    assert paths_of(document) == [
        f"{PATIENT}.identifier",
        f"{PATIENT}.name[0].given",
        f"{PATIENT}.gender",
        f"{PATIENT}.address",
    ]


def test_gender_outside_administrative_gender_is_refused() -> None:
    document = bundle()
    entry(document, "Patient")["gender"] = "F"

    assert paths_of(document) == [f"{PATIENT}.gender"]


@pytest.mark.parametrize("resource_type", ["Nope", 5, "Resource", None])
def test_embedded_resource_of_no_known_type_is_refused(resource_type: object) -> None:
    document = bundle()
    resource: dict[str, Any] = {"id": "x"}
    if resource_type is not None:
        resource["resourceType"] = resource_type
    document["entry"].append({"resource": resource})
    appended = len(document["entry"]) - 1

    assert paths_of(document) == [f"Bundle.entry[{appended}].resource.resourceType"]


def test_contained_resource_of_unknown_type_is_refused() -> None:
    document = json.loads((FIXTURES / "servicerequest-valid.json").read_text())
    document["contained"][1]["resourceType"] = "Organisation"

    assert paths_of(document) == ["ServiceRequest.contained[1].resourceType"]


def test_unknown_element_deep_in_an_entry_is_named_with_its_path() -> None:
    document = bundle()
    entry(document, "Patient")["address"][1]["postcode"] = "LE1 5WW"

    assert paths_of(document) == [f"{PATIENT}.address[1].postcode"]


def test_requester_without_any_ods_code_is_refused() -> None:
    document = bundle()
    entry(document, "MessageHeader").pop("sender")

    (problem,) = problems_of(document)

    assert problem.path == f"{REQUEST}.requester"
    assert "ODS code" in problem.problem


def test_contract_limit_is_reported_at_the_fhir_element_that_broke_it() -> None:
    document = bundle()
    entry(document, "Organization")["identifier"][0]["value"] = "C" * 21

    (problem,) = problems_of(document)

    assert problem.path == "Bundle.entry[4].resource.identifier[0].value"
    assert "Referrer.ods_code" in problem.problem


def test_reason_code_without_a_system_is_refused() -> None:
    document = bundle()
    del entry(document, "ServiceRequest")["reasonCode"][1]["coding"][0]["system"]

    assert paths_of(document) == [f"{REQUEST}.reasonCode[1].coding[0].system"]


def test_bars_message_reason_other_than_new_or_update_is_refused() -> None:
    document = bundle()
    entry(document, "MessageHeader")["reason"]["coding"][0]["code"] = "amend"

    assert paths_of(document) == ["Bundle.entry[0].resource.reason.coding[0].code"]


def test_null_for_a_required_element_is_refused_rather_than_taken_as_present() -> None:
    document = bundle()
    entry(document, "ServiceRequest")["subject"] = None

    assert paths_of(document) == [f"{REQUEST}.subject"]


def test_values_quoted_in_problems_are_cut_short() -> None:
    (problem,) = problems_of({"resourceType": "Patient" * 1000})

    assert len(problem.problem) < 100
