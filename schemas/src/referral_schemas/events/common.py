"""Building blocks shared by several payloads."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from referral_schemas.enums import ClinicalArea, DeprivationSource, District, PlusGroup, Sex
from referral_schemas.envelope import Contract
from referral_schemas.primitives import (
    AddressLine,
    Date,
    Email,
    EthnicCategory,
    LsoaCode,
    Name,
    NhsNumber,
    Phone,
    Postcode,
    ReasonCode,
    Text,
)

SNOMED_CT = "http://snomed.info/sct"


class Coding(Contract):
    """A coded concept, SNOMED CT unless stated otherwise (e.g. 38341003 hypertensive disorder)."""

    system: str = Field(SNOMED_CT, min_length=1, max_length=200, description="Code system URI")
    code: str = Field(min_length=1, max_length=64, description="Code within the system")
    display: str | None = Field(None, max_length=1000, description="Human-readable term")


class Reason(Contract):
    """One machine-readable reason, the field it concerns, and a sentence for people."""

    code: ReasonCode = Field(description='Stable code, e.g. "nhs_number.checksum"')
    field: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description='Path of the field concerned, e.g. "data.patient.nhs_number"',
    )
    message: Text = Field(description="Explanation for people; never echoes patient data")


class PatientContact(Contract):
    """Who the patient is and how to reach them: only for the provider who must contact them."""

    nhs_number: NhsNumber = Field(description="NHS number, 10 digits, modulus 11 checked by intake")
    given_name: Name = Field(description="Given name")
    family_name: Name = Field(description="Family name")
    date_of_birth: Date = Field(description="Date of birth")
    phone: Phone | None = Field(None, description="Phone number")
    email: Email | None = Field(None, description="E-mail address")
    address_lines: list[AddressLine] = Field(
        min_length=1, max_length=6, description="Postal address lines, without the postcode"
    )
    postcode: Postcode = Field(description='Postcode, e.g. "LE1 5WW"')


class Demographics(Contract):
    """Pseudonymous description of a patient: nothing that identifies them on its own."""

    age_years: int = Field(ge=0, le=130, description="Age in whole years when the referral was made")
    sex: Sex = Field(description="Administrative sex")
    ethnicity: EthnicCategory | None = Field(None, description="NHS ethnic category code, e.g. H (Indian)")


class Residence(Contract):
    """Where the patient lives, as far as locality and deprivation need it."""

    postcode: Postcode = Field(description="Postcode of the patient's address")
    lsoa: LsoaCode | None = Field(None, description="LSOA (2011 or 2021) if the referrer gave it")
    district: District = Field(description="Local authority district of the postcode")


class SafetyAsSubmitted(Contract):
    """Clinical safety facts some programmes need before a provider may see the patient.

    As the referrer recorded them: an implausible reading is intake's to reject with a reason.
    """

    resting_bp_systolic: int | None = Field(None, description="Resting systolic blood pressure, mmHg")
    resting_bp_diastolic: int | None = Field(None, description="Resting diastolic blood pressure, mmHg")
    recent_cardiac_event_date: Date | None = Field(
        None, description="Date of the most recent cardiac event (e.g. myocardial infarction)"
    )
    unstable_angina: bool | None = Field(None, description="Unstable angina present")
    uncontrolled_arrhythmia: bool | None = Field(None, description="Uncontrolled arrhythmia present")
    pregnant: bool | None = Field(None, description="Currently pregnant")
    postnatal: bool | None = Field(None, description="Within 12 months after giving birth")
    discharge_date: Date | None = Field(None, description="Hospital discharge date (Discharge to Assess)")
    surgery_date: Date | None = Field(None, description="Planned surgery or cancer treatment (Fit4Surgery)")


class ClinicalSafety(SafetyAsSubmitted):
    """Clinical safety facts after intake's checks: readings are physiologically plausible."""

    resting_bp_systolic: int | None = Field(
        None, ge=50, le=300, description="Resting systolic blood pressure, mmHg"
    )
    resting_bp_diastolic: int | None = Field(
        None, ge=30, le=200, description="Resting diastolic blood pressure, mmHg"
    )


class PriorityFlags(Contract):
    """PLUS groups the referrer records (Core20PLUS5)."""

    learning_disability_autism: bool = Field(False, description="Learning disability or autism")
    severe_mental_illness: bool = Field(False, description="Severe mental illness")
    carer: bool = Field(False, description="Unpaid carer")


class Priority(Contract):
    """Whether a referral is prioritised, and why."""

    core20: bool = Field(description="Lives in the most deprived 20% nationally (IMD decile 1-2)")
    imd_decile: int | None = Field(
        None, ge=1, le=10, description="IMD decile of the area (1 most deprived); null if unknown"
    )
    deprivation_source: DeprivationSource = Field(description="Where the decile came from")
    plus_groups: list[PlusGroup] = Field(
        default_factory=list, max_length=len(PlusGroup), description="PLUS population groups"
    )
    clinical_areas: list[ClinicalArea] = Field(
        default_factory=list, max_length=len(ClinicalArea), description="Core20PLUS5 clinical areas"
    )
    prioritised: bool = Field(description="True when any of the above shortens the contact deadline")

    @model_validator(mode="after")
    def _core20_follows_the_decile(self) -> Self:
        if (self.imd_decile is None) != (self.deprivation_source is DeprivationSource.UNKNOWN):
            raise ValueError("imd_decile is null exactly when deprivation_source is unknown")
        if self.core20 != (self.imd_decile is not None and self.imd_decile <= 2):
            raise ValueError("core20 is true exactly when imd_decile is 1 or 2")
        return self
