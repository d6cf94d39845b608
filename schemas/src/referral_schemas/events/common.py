"""Building blocks shared by several payloads."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from referral_schemas.enums import ClinicalArea, DeprivationSource, PlusGroup, Sex
from referral_schemas.envelope import Contract

SNOMED = "http://snomed.info/sct"


class Coding(Contract):
    system: str = Field(SNOMED, max_length=200, description="Code system URI (SNOMED CT by default)")
    code: str = Field(min_length=1, max_length=40, description="Code within the system")
    display: str | None = Field(None, max_length=500, description="Human-readable term")


class Reason(Contract):
    """One machine-readable reason with the field it concerns and a sentence for people."""

    code: str = Field(min_length=1, max_length=80, description='Stable code, e.g. "nhs_number.checksum"')
    field: str | None = Field(None, max_length=200, description="JSON path of the offending field")
    message: str = Field(min_length=1, max_length=1000, description="Human explanation")


class Address(Contract):
    lines: list[str] = Field(default_factory=list, max_length=6, description="Address lines")
    postcode: str = Field(max_length=16, description="UK postcode as given")


class PatientContact(Contract):
    """Identity a provider needs to contact the patient. Travels only towards the assigned provider."""

    nhs_number: str = Field(max_length=20, description="NHS number, 10 digits")
    given_name: str = Field(max_length=200, description="Given name")
    family_name: str = Field(max_length=200, description="Family name")
    date_of_birth: dt.date = Field(description="Date of birth")
    phone: str | None = Field(None, max_length=40, description="Phone number")
    email: str | None = Field(None, max_length=320, description="E-mail address")
    address: Address = Field(description="Postal address")


class SafetyFields(Contract):
    """Clinical safety facts some programmes require before a provider may see the patient."""

    resting_bp_systolic: int | None = Field(None, ge=40, le=300, description="mmHg")
    resting_bp_diastolic: int | None = Field(None, ge=20, le=200, description="mmHg")
    recent_cardiac_event_date: dt.date | None = Field(None, description="Most recent cardiac event")
    unstable_angina: bool | None = Field(None, description="Unstable angina present")
    uncontrolled_arrhythmia: bool | None = Field(None, description="Uncontrolled arrhythmia present")
    pregnant: bool | None = Field(None, description="Currently pregnant")
    postnatal: bool | None = Field(None, description="Within 12 months after birth")
    discharge_date: dt.date | None = Field(None, description="Hospital discharge date (D2A)")
    surgery_date: dt.date | None = Field(None, description="Planned surgery or treatment (Fit4Surgery)")


class PriorityFlags(Contract):
    learning_disability_autism: bool = Field(False, description="Learning disability or autism")
    severe_mental_illness: bool = Field(False, description="Severe mental illness")
    carer: bool = Field(False, description="Unpaid carer")


class Priority(Contract):
    core20: bool = Field(description="Area in the most deprived 20% nationally (IMD decile 1-2)")
    imd_decile: int | None = Field(None, ge=1, le=10, description="IMD decile of the patient's area")
    deprivation_source: DeprivationSource = Field(description="Where the decile came from")
    plus_groups: list[PlusGroup] = Field(default_factory=list, description="PLUS population groups")
    clinical_areas: list[ClinicalArea] = Field(default_factory=list, description="Core20PLUS5 areas")
    prioritised: bool = Field(description="True when any of the above shortens the contact deadline")


class Demographics(Contract):
    """Pseudonymised description of a patient: no identifiers."""

    patient_key: str = Field(min_length=16, max_length=128, description="Keyed hash of the NHS number")
    age_years: int = Field(ge=0, le=130, description="Age at referral")
    sex: Sex = Field(description="Sex")
    ethnicity: str | None = Field(None, max_length=2, description="NHS ethnic category code (A-Z)")
    postcode: str = Field(max_length=16, description="Postcode (drives district and deprivation)")
    lsoa: str | None = Field(None, pattern=r"^E010\d{5}$", description="LSOA code if known")
    district: str | None = Field(None, max_length=80, description="Local authority district")


AssignmentId = uuid.UUID
