"""Clinical safety facts from FHIR Observations: the resting blood pressure programmes need.

UK Core records blood pressure as an Observation (the LOINC 85354-9 panel, or SNOMED CT
75367002) with systolic and diastolic components; senders put it in the Bundle or contain it in
the ServiceRequest, usually naming it in supportingInfo. The most recent reading is used. Other
safety facts (cardiac history, pregnancy, dates of discharge or surgery) have no agreed BaRS
element yet and stay unset, so intake asks the referrer for them when a programme needs them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fhir.resources.R4B.observation import Observation

from referral_intake.fhir.problems import Problems
from referral_intake.fhir.references import Located, ResourceIndex

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
_PANEL = {(LOINC, "85354-9"), (SNOMED, "75367002")}
_SYSTOLIC = {(LOINC, "8480-6"), (SNOMED, "271649006")}
_DIASTOLIC = {(LOINC, "8462-4"), (SNOMED, "271650006")}
_EPOCH = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


def _codes(concept: Any) -> set[tuple[str | None, str | None]]:
    return {(c.system, c.code) for c in (concept.coding or [])} if concept is not None else set()


def _reading(obs: Observation, located: Located, problems: Problems) -> tuple[int, int] | None:
    values: dict[str, int] = {}
    for i, component in enumerate(obs.component or []):
        codes = _codes(component.code)
        which = "systolic" if codes & _SYSTOLIC else "diastolic" if codes & _DIASTOLIC else None
        if which is None:
            continue
        quantity = component.valueQuantity
        if quantity is None or quantity.value is None:
            problems.add(f"{located.path}.component[{i}].valueQuantity", f"the {which} reading has no value")
            return None
        values[which] = round(float(quantity.value))
    if set(values) != {"systolic", "diastolic"}:
        problems.add(f"{located.path}.component", "a blood pressure needs systolic and diastolic components")
        return None
    return values["systolic"], values["diastolic"]


def safety_from_fhir(index: ResourceIndex, problems: Problems) -> dict[str, Any]:
    """SafetyAsSubmitted fields found in the submission's Observations."""
    readings: list[tuple[dt.datetime, tuple[int, int]]] = []
    for obs, located in index.all_of(Observation):
        if obs.status in ("entered-in-error", "cancelled") or not (_codes(obs.code) & _PANEL):
            continue
        reading = _reading(obs, located, problems)
        if reading is None:
            continue
        when = obs.effectiveDateTime if isinstance(obs.effectiveDateTime, dt.datetime) else _EPOCH
        readings.append((when if when.tzinfo else when.replace(tzinfo=dt.UTC), reading))
    if not readings:
        return {}
    systolic, diastolic = max(readings, key=lambda r: r[0])[1]
    return {"resting_bp_systolic": systolic, "resting_bp_diastolic": diastolic}
