"""Property tests: any valid payload survives the wire unchanged."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from referral_schemas import dump_event, new_envelope, parse_event
from referral_schemas.enums import (
    ActivityIndex,
    D2AOutcome,
    KpiDimension,
    KpiName,
    Programme,
    ProviderResponseType,
    Suppression,
    Timepoint,
)
from referral_schemas.events.outcome import OutcomeKpi
from referral_schemas.events.provider import Measures, ProviderActivity
from referral_schemas.examples import example
from referral_schemas.registry import OutcomeKpiV1, ProviderActivityV1, ReferralSubmittedV1

measures = st.builds(
    Measures,
    timepoint=st.sampled_from(Timepoint),
    version=st.integers(1, 100),
    mvpa_minutes_per_week=st.none() | st.integers(0, 10080),
    activity_index=st.none() | st.sampled_from(ActivityIndex),
    wellbeing_swemwbs=st.none() | st.integers(7, 35),
    falls_count=st.none() | st.integers(0, 365),
    fear_of_falling_fes_i=st.none() | st.integers(7, 28),
    d2a_outcome=st.none() | st.sampled_from(D2AOutcome),
    at_home_91_days=st.none() | st.booleans(),
)

activities = st.builds(
    ProviderActivity,
    assignment_id=st.uuids(),
    provider_id=st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,30}\Z"),
    programme=st.sampled_from(Programme),
    patient_key=st.from_regex(r"\A[A-Za-z0-9_-]{16,64}\Z"),
    activity=st.sampled_from(ProviderResponseType),
    occurred_on=st.dates(),
    sessions_offered=st.none() | st.integers(1, 200),
    reason_code=st.none() | st.from_regex(r"\A[a-z0-9][a-z0-9_.-]{0,40}\Z"),
    measures=st.none() | measures,
)


# Any wall time in any zone; years kept clear of 1 and 9999, which a UTC offset could leave.
plausible_times = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.timezones()
)


@given(activities, st.uuids(), plausible_times)
def test_any_provider_activity_round_trips(data, referral_id, occurred_at):
    event = new_envelope(
        ProviderActivityV1, data, producer="provider-notify", referral_id=referral_id, occurred_at=occurred_at
    )
    back = parse_event(dump_event(event))
    assert back == event
    # Compared in UTC: Python never equates an ambiguous (DST fold) wall time across zones.
    assert back.occurred_at == occurred_at.astimezone(dt.UTC)


@st.composite
def kpi_cells(draw):
    suppression = draw(st.sampled_from(Suppression))
    dimension = draw(st.sampled_from(KpiDimension))
    cell = {
        "kpi": draw(st.sampled_from(KpiName)),
        "period": f"{draw(st.integers(2020, 2099))}-{draw(st.integers(1, 12)):02d}",
        "dimension": dimension,
        "dimension_value": "all"
        if dimension is KpiDimension.ALL
        else draw(st.from_regex(r"\A[a-z0-9_+-]{1,20}\Z").filter(lambda v: v != "all")),
        "suppressed": suppression is not Suppression.NONE,
        "suppression": suppression,
    }
    if suppression is Suppression.NONE:
        denominator = draw(st.integers(0, 10**6))
        cell["denominator"] = denominator
        cell["numerator"] = draw(st.none() | st.integers(0, denominator))
        cell["value"] = draw(st.floats(allow_nan=False, allow_infinity=False))
    return OutcomeKpi(**cell)


@given(kpi_cells())
def test_any_kpi_cell_round_trips(cell):
    event = new_envelope(OutcomeKpiV1, cell, producer="outcomes", referral_id=None)
    assert parse_event(dump_event(event)) == event


@given(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=64),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=128),
)
def test_submitted_events_round_trip_for_any_printable_source_ids(system, ref):
    base = example("referral.submitted")
    data = base.data.model_copy(update={"source_system": system, "source_referral_id": ref})
    event = ReferralSubmittedV1.model_validate({**base.model_dump(), "data": data.model_dump()})
    assert parse_event(dump_event(event)) == event
