"""FHIR R4 (ServiceRequest, BaRS message Bundle) to the ReferralSubmitted command."""

from referral_intake.fhir.mapping import FhirReferral, referral_from_fhir, submission_from_fhir
from referral_intake.fhir.problems import FhirMappingError, FhirProblem

__all__ = ["FhirMappingError", "FhirProblem", "FhirReferral", "referral_from_fhir", "submission_from_fhir"]
