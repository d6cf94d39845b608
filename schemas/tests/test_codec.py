import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from referral_schemas import EVENTS, ContractError, ContractErrorCode, dump_event, parse_event
from referral_schemas.examples import example, example_json


@pytest.mark.parametrize("event_type", sorted(EVENTS))
def test_every_example_round_trips_through_the_wire(event_type):
    event = example(event_type)
    raw = dump_event(event)
    assert parse_event(raw) == event
    assert type(parse_event(raw, expected_type=event_type)) is EVENTS[event_type].envelope


def test_dump_event_is_compact_utf8_json():
    raw = dump_event(example("referral.submitted"))
    assert b"\n" not in raw and b'", "' not in raw and b'": ' not in raw
    assert json.loads(raw.decode("utf-8"))["event_type"] == "referral.submitted"


def test_dump_event_writes_times_in_utc_and_ids_as_strings():
    doc = json.loads(dump_event(example("assignment.created")))
    assert doc["occurred_at"].endswith("Z")
    assert doc["data"]["contact_deadline"] == "2026-03-04T17:00:00Z"
    assert doc["event_id"] == example_json("assignment.created")["event_id"]


def _code(raw: bytes, expected_type: str | None = None) -> ContractError:
    with pytest.raises(ContractError) as info:
        parse_event(raw, expected_type)
    assert isinstance(info.value.code, ContractErrorCode)
    return info.value


@pytest.mark.parametrize(
    "raw",
    [b"", b"{nope", b'{"event_type": "referral.status",', b"\xff\xfe\x00", '{"a": 1}'.encode("utf-16")],
)
def test_bytes_that_are_not_json_are_malformed_json(raw):
    error = _code(raw)
    assert error.code == "malformed_json" and error.detail.startswith("Invalid JSON: ")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"[1, 2]", "JSON object, got array"),
        (b'"referral.status"', "JSON object, got string"),
        (b"null", "JSON object, got null"),
        (b"{}", "event_type: missing"),
        (b'{"event_type": 7}', "event_type: must be a string, got number"),
    ],
)
def test_json_that_is_no_event_is_a_schema_violation(raw, fragment):
    error = _code(raw)
    assert error.code == "schema_violation" and fragment in error.detail


def test_an_event_type_without_a_contract_is_unknown(wire):
    error = _code(wire("referral.status", {"event_type": "referral.teleported"}))
    assert error.code == "unknown_event_type" and "referral.teleported" in error.detail


@pytest.mark.parametrize("version", [0, 2, 99])
def test_a_schema_version_not_read_here_is_unsupported(wire, version):
    error = _code(wire("referral.accepted", {"schema_version": version}))
    assert error.code == "unsupported_schema_version"
    assert f"schema_version {version}" in error.detail and "supported: 1" in error.detail


@pytest.mark.parametrize("version", ["1", 1.5, True, None])
def test_a_schema_version_that_is_no_integer_is_a_schema_violation(wire, version):
    error = _code(wire("referral.accepted", {"schema_version": version}))
    assert error.code == "schema_violation" and "schema_version" in error.detail


def test_an_event_of_another_type_is_refused_when_one_type_is_expected(wire):
    error = _code(wire("referral.status"), expected_type="referral.accepted")
    assert error.code == "wrong_event_type"
    assert error.detail == "expected 'referral.accepted', got 'referral.status'"


def test_the_wrong_type_is_reported_before_the_payload_is_checked(wire):
    broken = wire("referral.status", drop=("data.status",))
    assert _code(broken, expected_type="referral.accepted").code == "wrong_event_type"


def test_an_unknown_expected_type_is_a_programming_error(wire):
    with pytest.raises(ValueError, match="unknown expected_type") as info:
        parse_event(wire("referral.status"), expected_type="referral.statuses")
    assert not isinstance(info.value, ContractError)


@pytest.mark.parametrize(
    ("event_type", "changes", "fragment"),
    [
        ("referral.accepted", {"event_id": "not-a-uuid"}, "event_id: Input should be a valid UUID"),
        ("referral.accepted", {"referral_id": None}, "referral_id: UUID input should be"),
        ("referral.accepted", {"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ("referral.accepted", {"data.surprise": 1}, "data.surprise: Extra inputs are not permitted"),
        (
            "assignment.declined",
            {"data.reason_code": None},
            "data.reason_code: Input should be a valid string",
        ),
        (
            "referral.submitted",
            {"data.patient.date_of_birth": 19610417},
            "data.patient.date_of_birth: must be an ISO 8601 date",
        ),
        ("referral.submitted", {"data.source_type": "pharmacy"}, "data.source_type: Input should be 'gp'"),
        (
            "referral.accepted",
            {"data.reasons.1.code": 44054006},
            "data.reasons[1].code: Input should be a valid string",
        ),
        ("assignment.created", {"data.attempt": "1"}, "data.attempt: Input should be a valid integer"),
        (
            "provider.activity",
            {"data.occurred_on": "10/03/2026"},
            "data.occurred_on: must be an ISO 8601 date",
        ),
        (
            "provider.response",
            {"data.recorded_at": "2026-03-10T10:30:00"},
            "data.recorded_at: Input should have",
        ),
    ],
)
def test_schema_violations_name_the_field_by_its_path(wire, event_type, changes, fragment):
    error = _code(wire(event_type, changes))
    assert error.code == "schema_violation"
    assert fragment in error.detail, error.detail


def test_a_missing_field_is_named(wire):
    error = _code(wire("assignment.declined", drop=("data.reason_code",)))
    assert error.code == "schema_violation"
    assert "data.reason_code: Field required [missing]" in error.detail


def test_a_violation_detail_never_echoes_the_input(wire):
    secret = "Mistry-9990000018"
    error = _code(wire("referral.accepted", {"data.contact.nhs_number": secret}))
    assert "data.contact.nhs_number" in error.detail and secret not in error.detail


def test_many_violations_are_summarised(wire):
    error = _code(wire("referral.status", {"data": {f"junk{i}": i for i in range(20)}}))
    assert error.detail.count(";") == 8 and error.detail.endswith("more")


@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_contract_errors(raw):
    try:
        parse_event(raw)
    except ContractError as error:
        assert error.code in set(ContractErrorCode)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["0001-01-01T00:00:00+05:00", "2026-02-30", "1772442751", "9999999999", ""]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(node, prefix=()):
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, (*prefix, key))


@given(st.sampled_from(sorted(EVENTS)), st.data(), json_values)
def test_any_value_anywhere_in_an_event_raises_only_contract_errors(event_type, data, value):
    doc = example_json(event_type)
    *parents, last = data.draw(st.sampled_from([p for p in _paths(doc) if p]))
    node = doc
    for key in parents:
        node = node[key]
    node[last] = value
    try:
        parse_event(json.dumps(doc).encode())
    except ContractError as error:
        assert error.code in set(ContractErrorCode)
