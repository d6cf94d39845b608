"""The provider-side lifecycle: allowed steps, refused ones with both ends named, finals final."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from provider_notify.domain.lifecycle import FINAL, Moved, Refused, Stage, apply
from referral_schemas.enums import ProviderResponseType as R

HAPPY = [
    R.ACCEPTED,
    R.CONTACTED,
    R.ASSESSED,
    R.MEASURES_RECORDED,
    R.ENROLLED,
    R.SESSION_ATTENDED,
    R.SESSION_MISSED,
    R.SESSION_ATTENDED,
    R.MEASURES_RECORDED,
    R.COMPLETED,
    R.CLOSED,
]


def test_the_usual_path_from_acceptance_to_closure_is_allowed():
    stage = Stage.PENDING
    for response in HAPPY:
        result = apply(stage, response)
        assert isinstance(result, Moved), (stage, response, result)
        stage = result.stage
    assert stage is Stage.CLOSED


@pytest.mark.parametrize(
    ("stage", "response", "code", "words"),
    [
        (Stage.ACCEPTED, R.COMPLETED, "transition.not_allowed", "cannot record completed while accepted"),
        (Stage.PENDING, R.ENROLLED, "transition.not_allowed", "it follows assessed"),
        (Stage.CONTACTED, R.SESSION_ATTENDED, "transition.not_allowed", "while contacted"),
        (Stage.PENDING, R.MEASURES_RECORDED, "transition.not_allowed", "measures_recorded"),
        (Stage.CLOSED, R.SESSION_ATTENDED, "transition.after_final", "the assignment is closed"),
        (Stage.DECLINED, R.ACCEPTED, "transition.after_final", "declined"),
        (Stage.EXPIRED, R.ACCEPTED, "transition.after_final", "expired"),
        (Stage.CANCELLED, R.CONTACTED, "transition.after_final", "cancelled"),
    ],
)
def test_illegal_steps_are_refused_with_a_clear_message(stage, response, code, words):
    result = apply(stage, response)
    assert isinstance(result, Refused)
    assert result.code == code
    assert words in result.message


def test_unable_to_contact_can_be_repeated_then_contact_made_or_closed():
    assert apply(Stage.UNABLE_TO_CONTACT, R.UNABLE_TO_CONTACT) == Moved(Stage.UNABLE_TO_CONTACT)
    assert apply(Stage.UNABLE_TO_CONTACT, R.CONTACTED) == Moved(Stage.CONTACTED)
    assert apply(Stage.UNABLE_TO_CONTACT, R.CLOSED) == Moved(Stage.CLOSED)


@given(st.sampled_from(sorted(FINAL)), st.sampled_from(list(R)))
def test_nothing_is_recorded_after_a_final_stage(stage, response):
    assert isinstance(apply(stage, response), Refused)
