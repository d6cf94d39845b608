"""Checks of the patient block: identity, age, where they live and how to reach them.

Each check records its problems and returns what it made of the field, or None, so that every
problem is found in one pass and nothing is built from a field that failed. Contact details are
held to the contract's primitives one field at a time rather than by constructing
`PatientContact` once, which would stop at the first missing piece and hide the others.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError
from referral_intake.domain.policy import OLDEST_PLAUSIBLE_AGE, AreaLookup, ValidationPolicy
from referral_intake.domain.problems import Problems
from referral_schemas.events.common import PatientContact, Residence
from referral_schemas.events.referral import SubmittedPatient
from referral_schemas.primitives import AddressLine, Email, EthnicCategory, LsoaCode, Name, Phone, Postcode

_NAME: TypeAdapter[str] = TypeAdapter(Name)
_PHONE: TypeAdapter[str] = TypeAdapter(Phone)
_EMAIL: TypeAdapter[str] = TypeAdapter(Email)
_ADDRESS_LINE: TypeAdapter[str] = TypeAdapter(AddressLine)
_POSTCODE: TypeAdapter[str] = TypeAdapter(Postcode)
_LSOA: TypeAdapter[str] = TypeAdapter(LsoaCode)
_ETHNICITY: TypeAdapter[str] = TypeAdapter(EthnicCategory)
_MAX_ADDRESS_LINES = 6  # PatientContact.address_lines
_MAX_LINE = 200  # AddressLine


def _conforms(adapter: TypeAdapter[str], value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def age_in_years(born: date, today: date) -> int:
    """Whole years from `born` to `today` (a 29 February birthday comes on 1 March)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_age(born: date, today: date, policy: ValidationPolicy, problems: Problems) -> int | None:
    """The patient's age, or None when the date of birth cannot be right."""
    if born > today:
        problems.add("date_of_birth.future", "patient.date_of_birth", "The date of birth is in the future.")
        return None
    age = age_in_years(born, today)
    if age > OLDEST_PLAUSIBLE_AGE:
        problems.add(
            "date_of_birth.implausible",
            "patient.date_of_birth",
            f"The date of birth gives an age over {OLDEST_PLAUSIBLE_AGE}, which cannot be right.",
        )
        return None
    if not policy.min_age <= age <= policy.max_age:
        problems.add(
            "age.out_of_range",
            "patient.date_of_birth",
            f"The service is for people aged {policy.min_age} to {policy.max_age}.",
        )
    return age


def check_residence(patient: SubmittedPatient, area: AreaLookup, problems: Problems) -> Residence | None:
    """Normalised postcode, its district and the LSOA if given, or None with the problems."""
    postcode = area.normalise_postcode(patient.postcode)
    # The lookup's answer is held to the contract too, so a lax lookup cannot make validate raise.
    if postcode is None or not _conforms(_POSTCODE, postcode):
        problems.add("postcode.format", "patient.postcode", "The postcode is not a valid UK postcode.")
        district = None
    else:
        district = area.district_for(postcode)
        if district is None:
            problems.add(
                "postcode.outside_area",
                "patient.postcode",
                "The postcode is outside Leicester, Leicestershire and Rutland, which this service covers.",
            )
    lsoa = (patient.lsoa or "").strip().upper() or None
    if lsoa is not None and not _conforms(_LSOA, lsoa):
        problems.add(
            "lsoa.format",
            "patient.lsoa",
            "The LSOA must be an English LSOA code (E01 and six digits), or left out.",
        )
        return None
    if postcode is None or district is None:
        return None
    return Residence(postcode=postcode, lsoa=lsoa, district=district)


def check_ethnicity(raw: str | None, problems: Problems) -> str | None:
    """The NHS ethnic category code in upper case; None when not given or not a code."""
    code = (raw or "").strip().upper() or None
    if code is not None and not _conforms(_ETHNICITY, code):
        problems.add(
            "ethnicity.unknown_code",
            "patient.ethnicity",
            "The ethnicity is not an NHS ethnic category code (a letter, or 99 for not known).",
        )
        return None
    return code


def check_contact(
    patient: SubmittedPatient,
    nhs_number: str | None,
    postcode: str | None,
    problems: Problems,
) -> PatientContact | None:
    """Names, address lines, phone and e-mail; the contact block when they and the given
    (already checked) NHS number and postcode are all usable."""
    fine = True
    names = {}
    for field in ("given_name", "family_name"):
        value = getattr(patient, field).strip()
        names[field] = value
        if not value:
            problems.add("name.missing", f"patient.{field}", "The patient's name is missing or blank.")
            fine = False
        elif not _conforms(_NAME, value):
            problems.add("name.too_long", f"patient.{field}", "The patient's name is over 200 characters.")
            fine = False
    lines = _address_lines(patient.address_lines, problems)
    phone = (patient.phone or "").strip() or None
    if phone is not None and not _conforms(_PHONE, phone):
        problems.add("phone.invalid", "patient.phone", "The phone number is over 40 characters.")
        fine = False
    email = (patient.email or "").strip() or None
    if email is not None and not _conforms(_EMAIL, email):
        problems.add("email.invalid", "patient.email", "The e-mail address is not in the form name@domain.")
        fine = False
    if not (fine and lines and nhs_number and postcode):
        return None
    return PatientContact(
        nhs_number=nhs_number,
        given_name=names["given_name"],
        family_name=names["family_name"],
        date_of_birth=patient.date_of_birth,
        phone=phone,
        email=email,
        address_lines=lines,
        postcode=postcode,
    )


def _address_lines(raw: list[str], problems: Problems) -> list[str] | None:
    lines = [(i, line.strip()) for i, line in enumerate(raw) if line.strip()]
    if not lines:
        problems.add("address.missing", "patient.address_lines", "At least one address line is needed.")
        return None
    fine = True
    for i, line in lines:
        if not _conforms(_ADDRESS_LINE, line):
            problems.add(
                "address.line_too_long",
                f"patient.address_lines[{i}]",
                f"An address line is over {_MAX_LINE} characters.",
            )
            fine = False
    texts = [line for _, line in lines]
    if len(texts) > _MAX_ADDRESS_LINES:
        # Systems that add town and county as lines of their own can pass six; the tail is
        # joined rather than dropped, so no part of the address is lost.
        tail = ", ".join(texts[_MAX_ADDRESS_LINES - 1 :])
        if len(tail) > _MAX_LINE:
            problems.add(
                "address.too_many_lines",
                "patient.address_lines",
                f"The address has more than {_MAX_ADDRESS_LINES} lines and cannot be shortened to fit.",
            )
            return None
        texts = [*texts[: _MAX_ADDRESS_LINES - 1], tail]
    return texts if fine else None
