"""How each provider takes its assignments (validated at load)."""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path
from typing import Annotated, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from referral_schemas.enums import DeliveryChannel

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]


class ProviderChannel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider_id: Slug
    channel: DeliveryChannel
    url: str | None = Field(None, pattern=r"^https?://")
    secret_env: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9_]*$")

    @model_validator(mode="after")
    def _webhooks_have_an_endpoint_and_secret(self) -> Self:
        if self.channel is DeliveryChannel.WEBHOOK and (self.url is None or self.secret_env is None):
            raise ValueError("a webhook provider needs url and secret_env")
        return self

    def secret(self) -> bytes:
        value = os.environ.get(self.secret_env or "", "")
        if not value:
            raise LookupError(f"{self.secret_env} (webhook secret of {self.provider_id}) is not set")
        return value.encode()


class Channels(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    providers: list[ProviderChannel] = Field(default_factory=list)

    def of(self, provider_id: str) -> ProviderChannel:
        found = next((p for p in self.providers if p.provider_id == provider_id), None)
        return found or ProviderChannel(provider_id=provider_id, channel=DeliveryChannel.KAFKA)


def load_channels(path: Path | None) -> Channels:
    if path is None:
        text = (importlib.resources.files("provider_notify") / "providers.yaml").read_text()
    else:
        text = path.read_text(encoding="utf-8")
    return Channels.model_validate(yaml.safe_load(text) or {})
