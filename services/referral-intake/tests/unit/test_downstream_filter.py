"""Intake acts on a later service's event only if it may move the referrer's status on; the
rest (a delivery, a session attended) are passed over before the batch's transaction."""

from __future__ import annotations

import pytest
from referral_intake.service_layer.status_updates import changes_what_referrers_see
from referral_schemas.enums import ProviderResponseType
from referral_schemas.examples import example


@pytest.mark.parametrize(
    ("event_type", "acted_on"),
    [
        ("referral.triaged", True),
        ("assignment.created", True),
        ("assignment.declined", True),
        ("assignment.expired", True),
        ("assignment.delivered", False),
    ],
)
def test_each_kind_of_downstream_event(event_type, acted_on):
    assert changes_what_referrers_see(example(event_type)) is acted_on


@pytest.mark.parametrize(
    ("activity", "acted_on"),
    [
        (ProviderResponseType.ACCEPTED, True),
        (ProviderResponseType.ENROLLED, True),
        (ProviderResponseType.COMPLETED, True),
        (ProviderResponseType.SESSION_ATTENDED, False),
        (ProviderResponseType.MEASURES_RECORDED, False),
    ],
)
def test_a_provider_step_is_acted_on_only_if_the_referrer_sees_it(activity, acted_on):
    template = example("provider.activity")
    event = template.model_copy(update={"data": template.data.model_copy(update={"activity": activity})})
    assert changes_what_referrers_see(event) is acted_on


def test_an_event_naming_no_referral_is_passed_over():
    assert (
        changes_what_referrers_see(example("referral.triaged").model_copy(update={"referral_id": None}))
        is False
    )
