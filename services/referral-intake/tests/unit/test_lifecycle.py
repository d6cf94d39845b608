"""The referrer-facing status: forward only, reassignment back to triaged, final states stay."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from referral_intake.domain.lifecycle import (
    ACTIVE,
    FINAL,
    duplicate_key,
    next_status,
    status_after_activity,
    status_after_triage,
)
from referral_schemas.enums import Programme, ProviderResponseType, ReferralStatus, TriageDecision
from referral_schemas.events.common import Coding

S = ReferralStatus


@pytest.mark.parametrize(
    ("current", "proposed", "expected"),
    [
        (S.ACCEPTED, S.TRIAGED, S.TRIAGED),
        (S.TRIAGED, S.ASSIGNED, S.ASSIGNED),
        (S.ASSIGNED, S.STARTED, S.STARTED),  # a skipped step is fine: events cross topics
        (S.STARTED, S.ACCEPTED_BY_PROVIDER, None),  # late: never backwards
        (S.ASSIGNED, S.ASSIGNED, None),
        (S.ACCEPTED, S.CANCELLED, S.CANCELLED),
        (S.STARTED, S.CANCELLED, S.CANCELLED),
        (S.CANCELLED, S.TRIAGED, None),
        (S.COMPLETED, S.CLOSED, None),
        (S.SIGNPOSTED, S.ASSIGNED, None),
    ],
)
def test_status_moves_forward_only(current, proposed, expected):
    assert next_status(current, proposed) == expected


@pytest.mark.parametrize(
    ("current", "expected"),
    [(S.ASSIGNED, S.TRIAGED), (S.ACCEPTED_BY_PROVIDER, S.TRIAGED), (S.STARTED, None), (S.TRIAGED, None)],
)
def test_a_reassignment_returns_an_assigned_referral_to_triaged(current, expected):
    assert next_status(current, S.TRIAGED, reassignment=True) == expected


@given(st.sampled_from(sorted(FINAL)), st.sampled_from(list(S)), st.booleans())
def test_a_final_status_never_changes(current, proposed, reassignment):
    assert next_status(current, proposed, reassignment=reassignment) is None


def test_active_and_final_statuses_do_not_overlap_and_received_is_active():
    assert not ACTIVE & FINAL
    assert S.RECEIVED in ACTIVE


def test_triage_decisions_and_provider_steps_map_to_referrer_statuses():
    assert status_after_triage(TriageDecision.ASSIGN) is S.TRIAGED
    assert status_after_triage(TriageDecision.SIGNPOST) is S.SIGNPOSTED
    assert status_after_triage(TriageDecision.RETURN_TO_REFERRER) is S.RETURNED_TO_REFERRER
    assert status_after_activity(ProviderResponseType.ENROLLED) is S.STARTED
    assert status_after_activity(ProviderResponseType.DROPPED_OUT) is S.CLOSED
    assert status_after_activity(ProviderResponseType.SESSION_ATTENDED) is None


def test_duplicate_key_prefers_the_requested_programme_then_the_first_coded_reason():
    htn = Coding(code="38341003")
    assert duplicate_key(Programme.ESCAPE_PAIN, [htn]) == "programme:escape_pain"
    assert duplicate_key(None, [htn]) == "reason:http://snomed.info/sct|38341003"
    assert duplicate_key(None, []) == "unspecified"
