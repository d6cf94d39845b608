"""No input makes the FHIR mapping fail with anything but FhirMappingError."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referral_intake.fhir import FhirMappingError, submission_from_fhir
from referral_schemas.events.referral import ReferralSubmitted

FIXTURES = Path(__file__).parent.parent / "fixtures" / "fhir"
VALID = [
    json.loads((FIXTURES / name).read_text())
    for name in ("bars-message-bundle-valid.json", "servicerequest-valid.json")
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
# Keys FHIR uses, so that generated objects get past the first checks into the library.
fhir_keys = st.sampled_from(
    [
        "resourceType",
        "entry",
        "resource",
        "contained",
        "subject",
        "reference",
        "status",
        "intent",
        "identifier",
        "birthDate",
        "name",
        "given",
        "coding",
        "code",
        "system",
        "fullUrl",
        "extension",
    ]
)
fhir_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(
        ["Bundle", "ServiceRequest", "Patient", "active", "order", "#p", "1961-04-17", "urn:uuid:x"]
    ),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(fhir_keys, children, max_size=5),
    max_leaves=25,
)


def outcome(body: bytes) -> ReferralSubmitted | FhirMappingError:
    # Any other exception fails the calling test. No deadlines below: a loaded machine must not
    # fail them on time, since what they check is which exception escapes.
    try:
        return submission_from_fhir(body, source_system="fuzz")
    except FhirMappingError as error:
        assert error.problems
        return error


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_a_submission_or_a_mapping_error(body: bytes) -> None:
    assert isinstance(outcome(body), FhirMappingError)


@settings(deadline=None)
@given(json_values)
def test_arbitrary_json_gives_a_mapping_error(value: Any) -> None:
    assert isinstance(outcome(json.dumps(value).encode()), FhirMappingError)


@settings(deadline=None)
@given(st.sampled_from(["Bundle", "ServiceRequest"]), st.dictionaries(fhir_keys, fhir_like, max_size=6))
def test_fhir_shaped_json_gives_a_submission_or_a_mapping_error(root: str, body: dict[str, Any]) -> None:
    body["resourceType"] = root

    assert isinstance(outcome(json.dumps(body).encode()), ReferralSubmitted | FhirMappingError)


def _spots(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _spots(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _spots(value, (*path, i))
    return found


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID), st.data(), fhir_like | json_values)
def test_valid_submission_with_any_part_replaced_gives_a_submission_or_a_mapping_error(
    document: dict[str, Any], data: st.DataObject, replacement: Any
) -> None:
    mutated = copy.deepcopy(document)
    spot = data.draw(st.sampled_from(_spots(mutated)[1:]))
    parent = mutated
    for step in spot[:-1]:
        parent = parent[step]
    parent[spot[-1]] = replacement

    assert isinstance(outcome(json.dumps(mutated).encode()), ReferralSubmitted | FhirMappingError)
