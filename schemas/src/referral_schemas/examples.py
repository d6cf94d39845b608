"""One realistic example of every event, as it appears on the wire (Leicester, Leicestershire and Rutland).

They follow one referral: Dr Patel at a Leicester city practice (ODS C82001) refers a woman with
hypertension and type 2 diabetes, living in a Core20 area, to Exercise Referral. Nobody real is
described: the NHS number is from the 999 test range (valid by modulus 11) and the phone number
from Ofcom's range for drama.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from referral_schemas.envelope import Envelope
from referral_schemas.ids import referral_id_for
from referral_schemas.registry import EVENTS

# Event ids are derived, so the generated JSON Schemas (which embed these examples) are stable.
_EXAMPLES = uuid.UUID("0b5e2f7c-4a61-5d38-8f0e-9c2d7a1b3e64")


def _event_id(name: str) -> str:
    return str(uuid.uuid5(_EXAMPLES, name))


_SOURCE_SYSTEM = "emis-c82001"
_SOURCE_REFERRAL_ID = "REF-2026-000123"
# The rejection answers another practice's submission.
_REJECTED_SOURCE = ("systmone-c82010", "SR-88812")
_PATIENT_KEY = "pk_4f9a1c7e2b8d6a3f5e0c9b1a7d2e8f4c"
_ASSIGNMENT_ID = "3b6f1c2e-5a7d-4e8f-9a0b-1c2d3e4f5a6b"
_HYPERTENSION = {
    "system": "http://snomed.info/sct",
    "code": "38341003",
    "display": "Hypertensive disorder, systemic arterial",
}
_TYPE_2_DIABETES = {
    "system": "http://snomed.info/sct",
    "code": "44054006",
    "display": "Diabetes mellitus type 2",
}
_REASON_TEXT = "Stage 1 hypertension and newly diagnosed type 2 diabetes; keen to be more active."
_SAFETY = {"resting_bp_systolic": 148, "resting_bp_diastolic": 92}
_CONTACT = {
    "nhs_number": "9990000018",
    "given_name": "Asha",
    "family_name": "Mistry",
    "date_of_birth": "1961-04-17",
    "phone": "0116 496 0123",
    "email": "asha.mistry@example.org",
    "address_lines": ["Flat 3", "27 Welford Road", "Leicester"],
    "postcode": "LE1 5WW",
}
_DEMOGRAPHICS = {"age_years": 64, "sex": "female", "ethnicity": "H"}
_BASELINE = {
    "timepoint": "baseline",
    "version": 1,
    "mvpa_minutes_per_week": 30,
    "activity_index": "inactive",
    "wellbeing_swemwbs": 19,
}

_SUBMITTED = _event_id("referral.submitted")
_REFERRAL_ID = str(referral_id_for(_SOURCE_SYSTEM, _SOURCE_REFERRAL_ID))


def _after(cause: str) -> dict[str, Any]:
    """Envelope fields of an event in the example referral's journey, caused by `cause`."""
    return {"referral_id": _REFERRAL_ID, "correlation_id": _SUBMITTED, "causation_id": _event_id(cause)}


_REJECTED_SUBMISSION = _event_id("referral.submitted:rejected")
_REJECTED_JOURNEY = {
    "referral_id": str(referral_id_for(*_REJECTED_SOURCE)),
    "correlation_id": _REJECTED_SUBMISSION,
    "causation_id": _REJECTED_SUBMISSION,
}

# Each event's envelope but for event_id, event_type and schema_version.
_EXAMPLES_BY_TYPE: dict[str, dict[str, Any]] = {
    "referral.submitted": {
        "producer": "emis-web",
        "occurred_at": "2026-03-02T09:12:31Z",
        "referral_id": None,
        "correlation_id": _SUBMITTED,
        "causation_id": None,
        "data": {
            "source_system": _SOURCE_SYSTEM,
            "source_referral_id": _SOURCE_REFERRAL_ID,
            "source_type": "gp",
            "action": "new",
            "referrer": {
                "ods_code": "C82001",
                "clinician_name": "Dr Rajesh Patel",
                "role": "GP",
                "email": "r.patel.c82001@nhs.net",
            },
            "patient": {
                "nhs_number": "9990000018",
                "given_name": "Asha",
                "family_name": "Mistry",
                "date_of_birth": "1961-04-17",
                "sex": "female",
                "ethnicity": "H",
                "postcode": "LE1 5WW",
                "lsoa": "E01013646",
                "phone": "0116 496 0123",
                "email": "asha.mistry@example.org",
                "address_lines": ["Flat 3", "27 Welford Road", "Leicester"],
            },
            "consent": {
                "share_with_provider": True,
                "recorded_at": "2026-03-02T09:05:00Z",
                "recorded_by": "Dr Rajesh Patel",
            },
            "reasons": [_HYPERTENSION, _TYPE_2_DIABETES],
            "reason_text": _REASON_TEXT,
            "requested_programme": "exercise_referral",
            "safety": _SAFETY,
            "priority_flags": {"carer": True},
            "notes": "Cares for her husband; prefers morning sessions. Speaks Gujarati and English.",
        },
    },
    "referral.accepted": {
        "producer": "referral-intake",
        "occurred_at": "2026-03-02T09:12:32Z",
        **_after("referral.submitted"),
        "data": {
            "source_system": _SOURCE_SYSTEM,
            "source_referral_id": _SOURCE_REFERRAL_ID,
            "source_type": "gp",
            "revision": 1,
            "referrer_ods_code": "C82001",
            "referred_at": "2026-03-02T09:12:31Z",
            "patient_key": _PATIENT_KEY,
            "demographics": _DEMOGRAPHICS,
            "residence": {"postcode": "LE1 5WW", "lsoa": "E01013646", "district": "leicester"},
            "reasons": [_HYPERTENSION, _TYPE_2_DIABETES],
            "reason_text": _REASON_TEXT,
            "requested_programme": "exercise_referral",
            "safety": _SAFETY,
            "priority_flags": {"carer": True},
            "contact": _CONTACT,
        },
    },
    "referral.rejected": {
        "producer": "referral-intake",
        "occurred_at": "2026-03-02T10:41:07Z",
        **_REJECTED_JOURNEY,
        "data": {
            "source_system": _REJECTED_SOURCE[0],
            "source_referral_id": _REJECTED_SOURCE[1],
            "reasons": [
                {
                    "code": "nhs_number.checksum",
                    "field": "data.patient.nhs_number",
                    "message": "The NHS number fails the modulus 11 check.",
                },
                {
                    "code": "postcode.outside_area",
                    "field": "data.patient.postcode",
                    "message": "The postcode is outside Leicester, Leicestershire and Rutland.",
                },
            ],
            "summary": "Not accepted: the NHS number is not valid and the patient lives outside LLR.",
        },
    },
    "referral.status": {
        "producer": "referral-intake",
        "occurred_at": "2026-03-02T09:12:36Z",
        **_after("assignment.created"),
        "data": {
            "source_system": _SOURCE_SYSTEM,
            "source_referral_id": _SOURCE_REFERRAL_ID,
            "status": "assigned",
            "detail": "Assigned to Leicester City Council leisure (Exercise Referral).",
        },
    },
    "referral.triaged": {
        "producer": "triage",
        "occurred_at": "2026-03-02T09:12:34Z",
        **_after("referral.accepted"),
        "data": {
            "decision": "assign",
            "programme": "exercise_referral",
            "risk": "medium",
            "priority": {
                "core20": True,
                "imd_decile": 2,
                "deprivation_source": "lsoa",
                "plus_groups": ["ethnic_minority", "carer"],
                "clinical_areas": ["hypertension"],
                "prioritised": True,
            },
            "reasons": [
                {
                    "code": "programme.exercise_referral",
                    "field": None,
                    "message": "Hypertension and type 2 diabetes: Exercise Referral, as requested.",
                },
                {
                    "code": "risk.medium",
                    "field": "data.safety.resting_bp_systolic",
                    "message": "Resting blood pressure 148/92 mmHg with type 2 diabetes.",
                },
            ],
            "rule_version": "2026.03.1",
            "patient_key": _PATIENT_KEY,
            "referred_at": "2026-03-02T09:12:31Z",
            "condition_group": "cardiovascular",
            "demographics": _DEMOGRAPHICS,
            "district": "leicester",
        },
    },
    "assignment.created": {
        "producer": "triage",
        "occurred_at": "2026-03-02T09:12:34Z",
        **_after("referral.triaged"),
        "data": {
            "assignment_id": _ASSIGNMENT_ID,
            "attempt": 1,
            "provider_id": "leicester-city-leisure",
            "service_id": "lcl-exercise-referral",
            "programme": "exercise_referral",
            "risk": "medium",
            "prioritised": True,
            "contact_deadline": "2026-03-04T17:00:00Z",
            "patient_key": _PATIENT_KEY,
            "contact": _CONTACT,
            "referrer_ods_code": "C82001",
            "reasons": [_HYPERTENSION, _TYPE_2_DIABETES],
            "safety": _SAFETY,
        },
    },
    "assignment.delivered": {
        "producer": "provider-notify",
        "occurred_at": "2026-03-02T09:12:35Z",
        **_after("assignment.created"),
        "data": {
            "assignment_id": _ASSIGNMENT_ID,
            "provider_id": "leicester-city-leisure",
            "channel": "webhook",
            "delivered_at": "2026-03-02T09:12:35Z",
            "attempts": 1,
        },
    },
    "assignment.delivery_failed": {
        "producer": "provider-notify",
        "occurred_at": "2026-03-02T11:40:12Z",
        **_after("assignment.created"),
        "data": {
            "assignment_id": _ASSIGNMENT_ID,
            "provider_id": "active-rutland",
            "channel": "webhook",
            "attempts": 9,
            "last_error": "HTTP 503 Service Unavailable from the provider's webhook endpoint",
        },
    },
    "assignment.declined": {
        "producer": "provider-notify",
        "occurred_at": "2026-03-02T14:03:50Z",
        **_after("provider.response"),
        "data": {
            "assignment_id": _ASSIGNMENT_ID,
            "provider_id": "active-blaby",
            "reason_code": "no_capacity",
            "reason": "Morning exercise referral classes are full until April.",
        },
    },
    "assignment.expired": {
        "producer": "provider-notify",
        "occurred_at": "2026-03-04T17:00:04Z",
        **_after("assignment.created"),
        "data": {
            "assignment_id": _ASSIGNMENT_ID,
            "provider_id": "active-charnwood",
            "contact_deadline": "2026-03-04T17:00:00Z",
            "expired_at": "2026-03-04T17:00:04Z",
        },
    },
    "assignment.reminded": {
        "producer": "provider-notify",
        "occurred_at": "2026-03-03T17:00:00Z",
        **_after("assignment.created"),
        "data": {
            "assignment_id": _ASSIGNMENT_ID,
            "provider_id": "active-charnwood",
            "contact_deadline": "2026-03-04T17:00:00Z",
            "reminded_at": "2026-03-03T17:00:00Z",
            "detail": "You have not accepted or declined this assignment yet. Answer by "
            "Wednesday 4 March 2026, 17:00 (GMT), or it expires and the referral is offered to "
            "another provider.",
        },
    },
    "assignment.withdrawn": {
        "producer": "provider-notify",
        "occurred_at": "2026-03-03T11:20:05Z",
        # The practice cancelled the referral the day after the provider first phoned the patient.
        **_after("referral.status:cancelled"),
        "data": {
            "assignment_id": _ASSIGNMENT_ID,
            "provider_id": "leicester-city-leisure",
            "reason": "referral_cancelled",
            "withdrawn_at": "2026-03-03T11:20:05Z",
            "stage_reached": "contacted",
            "detail": "The referrer cancelled this referral after you had recorded it as contacted: stop "
            "work on it and do not contact the patient about it again. Nothing more can be recorded "
            "against this assignment.",
        },
    },
    "provider.response": {
        "producer": "provider-systems",
        "occurred_at": "2026-03-10T10:31:02Z",
        **_after("assignment.created"),
        "data": {
            "response_id": "lcl-er-7781",
            "assignment_id": _ASSIGNMENT_ID,
            "provider_id": "leicester-city-leisure",
            "response": "measures_recorded",
            "measures": _BASELINE,
            "recorded_at": "2026-03-10T10:30:00Z",
        },
    },
    "provider.activity": {
        "producer": "provider-notify",
        "occurred_at": "2026-03-10T10:31:03Z",
        **_after("provider.response"),
        "data": {
            "assignment_id": _ASSIGNMENT_ID,
            "provider_id": "leicester-city-leisure",
            "programme": "exercise_referral",
            "patient_key": _PATIENT_KEY,
            "activity": "measures_recorded",
            "occurred_on": "2026-03-10",
            "measures": _BASELINE,
        },
    },
    "outcome.recorded": {
        "producer": "outcomes",
        "occurred_at": "2026-06-05T16:20:00Z",
        "referral_id": None,
        "correlation_id": _event_id("outcome.recorded"),
        "causation_id": None,
        "data": {
            "episode_id": "ep_9c1d7e3a5b2f4c8d0e6a",
            "milestone": "completed",
            "period": "2026-06",
            "programme": "exercise_referral",
            "provider_id": "leicester-city-leisure",
            "district": "leicester",
            "imd_quintile": 1,
            "deprivation_source": "lsoa",
            "core20": True,
            "plus_groups": ["ethnic_minority", "carer"],
            "prioritised": True,
            "age_band": "50-64",
            "sex": "female",
            "ethnic_group": "asian",
            "condition_group": "cardiovascular",
            "measures": {
                "timepoint": "week_12",
                "version": 1,
                "mvpa_minutes_per_week": 150,
                "activity_index": "moderately_active",
                "wellbeing_swemwbs": 24,
            },
        },
    },
    "outcome.kpi": {
        "producer": "outcomes",
        "occurred_at": "2026-07-01T02:00:00Z",
        "referral_id": None,
        "correlation_id": _event_id("outcome.kpi"),
        "causation_id": None,
        "data": {
            "kpi": "uptake",
            "period": "2026-06",
            "dimension": "district",
            "dimension_value": "melton",
            "numerator": 41,
            "denominator": 63,
            "value": 0.6508,
            "suppressed": False,
            "suppression": "none",
        },
    },
}


def example_json(event_type: str) -> dict[str, Any]:
    """The example event as a JSON object (a fresh copy: callers may change it)."""
    return {
        "event_id": _event_id(event_type),
        "event_type": event_type,
        "schema_version": EVENTS[event_type].version,
        **copy.deepcopy(_EXAMPLES_BY_TYPE[event_type]),
    }


def example(event_type: str) -> Envelope[Any]:
    """The example event, validated into its envelope."""
    return EVENTS[event_type].envelope.model_validate_json(json.dumps(example_json(event_type)))
