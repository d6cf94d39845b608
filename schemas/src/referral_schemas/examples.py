"""One realistic example of every event (Leicester, Leicestershire and Rutland).

The NHS number is from the 999 test range and valid by modulus 11; nobody real is described.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from referral_schemas.envelope import Envelope, referral_id_for
from referral_schemas.registry import ENVELOPES

_REFERRAL = referral_id_for("emis-c82001", "REF-2026-000123")
_ASSIGNMENT = "3b6f1c2e-5a7d-4e8f-9a0b-1c2d3e4f5a6b"
_PATIENT_KEY = "pk_4f9a1c7e2b8d6a3f5e0c9b1a7d2e8f4c"
_CONTACT = {
    "nhs_number": "9990000018",
    "given_name": "Asha",
    "family_name": "Mistry",
    "date_of_birth": "1961-04-17",
    "phone": "0116 496 0123",
    "email": None,
    "address": {"lines": ["12 Belgrave Gate", "Leicester"], "postcode": "LE1 3GP"},
}
_MEASURES = {
    "timepoint": "baseline",
    "version": 1,
    "mvpa_minutes_per_week": 30,
    "activity_index": "inactive",
    "wellbeing_swemwbs": 19,
    "falls_count": None,
    "fear_of_falling_fes_i": None,
    "d2a_outcome": None,
    "at_home_91_days": None,
}

PAYLOADS: dict[str, dict[str, Any]] = {
    "referral.submitted": {
        "source_system": "emis-c82001",
        "source_referral_id": "REF-2026-000123",
        "source_type": "gp",
        "action": "new",
        "referrer": {"ods_code": "C82001", "clinician_name": "Dr R Patel", "role": "GP"},
        "patient": {
            "nhs_number": "9990000018",
            "given_name": "Asha",
            "family_name": "Mistry",
            "date_of_birth": "1961-04-17",
            "sex": "female",
            "ethnicity": "H",
            "address": {"lines": ["12 Belgrave Gate", "Leicester"], "postcode": "LE1 3GP"},
            "phone": "0116 496 0123",
        },
        "consent": {
            "share_with_provider": True,
            "recorded_at": "2026-11-20T09:12:00Z",
            "recorded_by": "Dr R Patel",
        },
        "reasons": [
            {
                "system": "http://snomed.info/sct",
                "code": "38341003",
                "display": "Hypertensive disorder",
            },
            {
                "system": "http://snomed.info/sct",
                "code": "44054006",
                "display": "Type 2 diabetes mellitus",
            },
        ],
        "reason_text": "Raised BP and new T2DM; keen to be more active.",
        "safety": {"resting_bp_systolic": 148, "resting_bp_diastolic": 92},
        "notes": "Prefers morning sessions; speaks Gujarati and English.",
    },
    "referral.accepted": {
        "source_system": "emis-c82001",
        "source_referral_id": "REF-2026-000123",
        "source_type": "gp",
        "referrer_ods_code": "C82001",
        "referred_on": "2026-11-20",
        "demographics": {
            "patient_key": _PATIENT_KEY,
            "age_years": 65,
            "sex": "female",
            "ethnicity": "H",
            "postcode": "LE1 3GP",
            "district": "Leicester",
        },
        "reasons": [
            {
                "system": "http://snomed.info/sct",
                "code": "38341003",
                "display": "Hypertensive disorder",
            }
        ],
        "safety": {"resting_bp_systolic": 148, "resting_bp_diastolic": 92},
        "contact": _CONTACT,
    },
    "referral.rejected": {
        "source_system": "systmone-c82010",
        "source_referral_id": "SR-88812",
        "reasons": [
            {
                "code": "nhs_number.checksum",
                "field": "data.patient.nhs_number",
                "message": "NHS number 9990000019 fails the modulus 11 check",
            },
        ],
        "summary": "The referral was not accepted: the NHS number is not valid.",
    },
    "referral.status": {
        "source_system": "emis-c82001",
        "source_referral_id": "REF-2026-000123",
        "status": "assigned",
        "detail": "Assigned to Active Leicester (Exercise Referral).",
    },
    "referral.triaged": {
        "decision": "assign",
        "programme": "exercise_referral",
        "risk": "medium",
        "priority": {
            "core20": True,
            "imd_decile": 1,
            "deprivation_source": "postcode_msoa",
            "plus_groups": ["ethnic_minority"],
            "clinical_areas": ["hypertension"],
            "prioritised": True,
        },
        "reasons": [
            {
                "code": "programme.exercise_referral",
                "field": None,
                "message": "Hypertension and type 2 diabetes: Exercise Referral",
            }
        ],
        "rule_version": "2026.11.1",
        "patient_key": _PATIENT_KEY,
    },
    "assignment.created": {
        "assignment_id": _ASSIGNMENT,
        "attempt": 1,
        "provider_id": "leicester-city-leisure",
        "service_id": "lcl-exercise-referral",
        "programme": "exercise_referral",
        "risk": "medium",
        "prioritised": True,
        "contact_deadline": "2026-11-24T17:00:00Z",
        "patient_key": _PATIENT_KEY,
        "contact": _CONTACT,
    },
    "assignment.delivered": {
        "assignment_id": _ASSIGNMENT,
        "provider_id": "leicester-city-leisure",
        "channel": "webhook",
        "delivered_at": "2026-11-20T09:15:02Z",
        "attempts": 1,
    },
    "assignment.delivery_failed": {
        "assignment_id": _ASSIGNMENT,
        "provider_id": "active-rutland",
        "channel": "webhook",
        "attempts": 9,
        "last_error": "HTTP 503 from https://hooks.example/active-rutland",
    },
    "assignment.declined": {
        "assignment_id": _ASSIGNMENT,
        "provider_id": "active-blaby",
        "reason_code": "no_capacity",
        "reason": "Cardiac rehab class full until January.",
    },
    "assignment.expired": {
        "assignment_id": _ASSIGNMENT,
        "provider_id": "active-charnwood",
        "contact_deadline": "2026-11-24T17:00:00Z",
        "expired_at": "2026-11-24T17:00:05Z",
    },
    "provider.response": {
        "response_id": "lcl-7781",
        "assignment_id": _ASSIGNMENT,
        "provider_id": "leicester-city-leisure",
        "response": "measures_recorded",
        "measures": _MEASURES,
        "recorded_at": "2026-11-27T10:30:00Z",
    },
    "provider.activity": {
        "assignment_id": _ASSIGNMENT,
        "provider_id": "leicester-city-leisure",
        "programme": "exercise_referral",
        "patient_key": _PATIENT_KEY,
        "activity": "measures_recorded",
        "occurred_on": "2026-11-27",
        "measures": _MEASURES,
    },
    "outcome.recorded": {
        "episode_id": "ep_9c1d7e3a5b2f4c8d",
        "milestone": "enrolled",
        "programme": "exercise_referral",
        "provider_id": "leicester-city-leisure",
        "district": "Leicester",
        "imd_quintile": 1,
        "deprivation_source": "postcode_msoa",
        "age_band": "65-74",
        "sex": "female",
        "ethnicity_group": "Asian or Asian British",
        "condition_group": "cardiovascular",
        "prioritised": True,
    },
    "outcome.kpi": {
        "kpi": "uptake",
        "period": "2026-11",
        "dimension": "district",
        "dimension_value": "Melton",
        "numerator": 41,
        "denominator": 63,
        "value": 0.6508,
        "suppression": "none",
    },
}

_NO_REFERRAL_ID = {"referral.submitted", "outcome.recorded", "outcome.kpi"}


def example_json(event_type: str) -> dict[str, Any]:
    """The example as it would appear on the wire."""
    return {
        "event_id": str(uuid.uuid5(_REFERRAL, event_type)),
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": "2026-11-20T09:14:00Z",
        "referral_id": None if event_type in _NO_REFERRAL_ID else str(_REFERRAL),
        "correlation_id": str(_REFERRAL),
        "causation_id": None,
        "producer": "referral-intake" if event_type.startswith("referral.") else "example",
        "data": copy.deepcopy(PAYLOADS[event_type]),
    }


def example(event_type: str) -> Envelope[Any]:
    return ENVELOPES[event_type].model_validate_json(json.dumps(example_json(event_type)))
