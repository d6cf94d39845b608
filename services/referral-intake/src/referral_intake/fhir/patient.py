"""UK Core Patient to the patient of a referral submission."""

from __future__ import annotations

import datetime as dt

from fhir.resources.R4B.address import Address
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.patient import Patient
from referral_schemas.enums import Sex
from referral_schemas.events.referral import SubmittedPatient

from referral_intake.fhir.codes import ETHNIC_CATEGORY_EXTENSION, NHS_NUMBER_SYSTEM
from referral_intake.fhir.problems import Problems, build_contract
from referral_intake.fhir.references import Located


def patient_from_fhir(located: Located, problems: Problems) -> SubmittedPatient | None:
    """The referral's patient, or None with the reasons added to `problems`."""
    patient = located.resource
    base = located.path
    if not isinstance(patient, Patient):
        problems.add(base, f"is a {patient.get_resource_type()}; the subject must be a Patient")
        return None
    origins: dict[str, str] = {}
    before = len(problems.found)

    nhs_number = None
    for i, identifier in enumerate(patient.identifier or []):
        if identifier.system == NHS_NUMBER_SYSTEM and identifier.value:
            nhs_number = identifier.value
            origins["nhs_number"] = f"{base}.identifier[{i}].value"
            break
    if nhs_number is None:
        problems.add(f"{base}.identifier", f"has no NHS number (system {NHS_NUMBER_SYSTEM})")

    given_name = family_name = None
    chosen = _chosen_name(patient.name or [])
    if chosen is None:
        problems.add(f"{base}.name", "is required: the patient's given and family names")
    else:
        i, name = chosen
        given = " ".join(part for part in name.given or [] if part)
        if given:
            given_name = given
            origins["given_name"] = f"{base}.name[{i}].given"
        else:
            problems.add(f"{base}.name[{i}].given", "is required")
        if name.family:
            family_name = name.family
            origins["family_name"] = f"{base}.name[{i}].family"
        else:
            problems.add(f"{base}.name[{i}].family", "is required")

    birth_date = patient.birthDate
    origins["date_of_birth"] = f"{base}.birthDate"
    if birth_date is None:
        problems.add(f"{base}.birthDate", "is required")
    elif not isinstance(birth_date, dt.date):
        # FHIR allows "1961" or "1961-04"; eligibility needs the age in whole years.
        problems.add(f"{base}.birthDate", "must be a full date (YYYY-MM-DD), not a year or month")
        birth_date = None

    sex = None
    origins["sex"] = f"{base}.gender"
    if patient.gender is None:
        problems.add(f"{base}.gender", "is required")
    else:
        try:
            sex = Sex(patient.gender)
        except ValueError:
            # The library does not check code bindings; administrative-gender is required.
            problems.add(f"{base}.gender", "must be one of male, female, other, unknown")

    postcode = None
    lines: list[str] = []
    address = _chosen_address(patient.address or [])
    if address is None:
        problems.add(f"{base}.address", "has no address with a postalCode")
    else:
        i, chosen_address = address
        postcode = chosen_address.postalCode
        origins["postcode"] = f"{base}.address[{i}].postalCode"
        origins["address_lines"] = f"{base}.address[{i}].line"
        lines = [line for line in chosen_address.line or [] if line]
        lines += [part for part in (chosen_address.city, chosen_address.district) if part]

    phone = email = None
    for i, point in enumerate(patient.telecom or []):
        if point.system == "phone" and point.value and phone is None:
            phone = point.value
            origins["phone"] = f"{base}.telecom[{i}].value"
        elif point.system == "email" and point.value and email is None:
            email = point.value
            origins["email"] = f"{base}.telecom[{i}].value"

    ethnicity = None
    for i, extension in enumerate(patient.extension or []):
        if extension.url == ETHNIC_CATEGORY_EXTENSION and extension.valueCodeableConcept is not None:
            codes = [c.code for c in extension.valueCodeableConcept.coding or [] if c.code]
            if codes:
                ethnicity = codes[0]
                origins["ethnicity"] = f"{base}.extension[{i}].valueCodeableConcept"
            break

    if len(problems.found) > before:
        return None
    fields = {
        "nhs_number": nhs_number,
        "given_name": given_name,
        "family_name": family_name,
        "date_of_birth": birth_date,
        "sex": sex,
        "ethnicity": ethnicity,
        "postcode": postcode,
        "phone": phone,
        "email": email,
        "address_lines": lines,
    }
    return build_contract(SubmittedPatient, fields, origins, base, problems)


def _chosen_name(names: list[HumanName]) -> tuple[int, HumanName] | None:
    """The official name if there is one, else the first that is not marked old."""
    current = [(i, name) for i, name in enumerate(names) if name.use not in ("old", "anonymous")]
    for i, name in current:
        if name.use == "official":
            return i, name
    return current[0] if current else None


def _chosen_address(addresses: list[Address]) -> tuple[int, Address] | None:
    """The home address with a postcode if there is one, else the first with a postcode."""
    usable = [(i, a) for i, a in enumerate(addresses) if a.postalCode and a.use not in ("old", "billing")]
    for i, address in usable:
        if address.use == "home":
            return i, address
    return usable[0] if usable else None
