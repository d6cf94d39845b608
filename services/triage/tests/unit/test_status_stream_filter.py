"""Triage acts on a referral.status event only when it cancels a referral or shows the provider
took it on; the rest of the stream is passed over before the batch's transaction."""

from __future__ import annotations

import pytest
from referral_schemas.enums import ReferralStatus
from referral_schemas.examples import example
from triage.service_layer.placing import acts_on_status

ACTED_ON = {ReferralStatus.CANCELLED, ReferralStatus.STARTED, ReferralStatus.COMPLETED, ReferralStatus.CLOSED}


def status_event(status: ReferralStatus):
    template = example("referral.status")
    return template.model_copy(update={"data": template.data.model_copy(update={"status": status})})


@pytest.mark.parametrize("status", list(ReferralStatus))
def test_only_cancellations_and_the_provider_taking_the_referral_on_are_acted_on(status):
    assert acts_on_status(status_event(status)) is (status in ACTED_ON)


def test_a_status_naming_no_referral_is_passed_over():
    event = status_event(ReferralStatus.CANCELLED).model_copy(update={"referral_id": None})
    assert acts_on_status(event) is False
