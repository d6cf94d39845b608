"""Which channel each provider takes its assignments on (providers.yaml, validated at load)."""

from __future__ import annotations

import pytest
from provider_notify.domain.channels import Channels
from pydantic import ValidationError
from referral_schemas.enums import DeliveryChannel

HOOK = {
    "provider_id": "hook-a",
    "channel": "webhook",
    "url": "https://a.example/in",
    "secret_env": "A_SECRET",
}


def test_a_listed_provider_takes_the_channel_it_is_listed_with():
    channels = Channels.model_validate({"providers": [HOOK]})
    assert channels.of("hook-a").channel is DeliveryChannel.WEBHOOK
    assert channels.of("hook-a").url == "https://a.example/in"


def test_a_provider_not_listed_reads_its_kafka_feed():
    channels = Channels.model_validate({"providers": [HOOK]})
    assert channels.of("active-blaby").channel is DeliveryChannel.KAFKA
    assert channels.of("active-blaby").url is None


def test_a_provider_listed_twice_is_refused_at_load():
    with pytest.raises(ValidationError, match="'hook-a' is listed more than once"):
        Channels.model_validate({"providers": [HOOK, HOOK | {"url": "https://b.example/in"}]})


def test_a_webhook_provider_without_its_endpoint_is_refused_at_load():
    with pytest.raises(ValidationError, match="needs url and secret_env"):
        Channels.model_validate({"providers": [{"provider_id": "hook-b", "channel": "webhook"}]})
