"""provider-notify acts on a referral.status event only when it cancels the referral."""

from __future__ import annotations

import pytest
from provider_notify.service_layer.deadlines import acts_on_status
from referral_schemas.enums import ReferralStatus
from referral_schemas.examples import example


@pytest.mark.parametrize("status", list(ReferralStatus))
def test_only_a_cancellation_is_acted_on(status):
    template = example("referral.status")
    event = template.model_copy(update={"data": template.data.model_copy(update={"status": status})})
    assert acts_on_status(event) is (status is ReferralStatus.CANCELLED)
