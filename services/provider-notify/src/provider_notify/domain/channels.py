"""How each provider takes its assignments (validated at load)."""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path
from typing import Annotated, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator
from referral_schemas.enums import DeliveryChannel

_REMEMBER_UNLISTED = 10_000  # a directory's providers; ids past that are built each time

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
    # Looked up for every assignment and every delivery: by id, and a provider not listed gets
    # its Kafka channel built once, not per call.
    _by_id: dict[str, ProviderChannel] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _each_provider_once(self) -> Self:
        seen: set[str] = set()
        for p in self.providers:
            if p.provider_id in seen:
                raise ValueError(f"provider {p.provider_id!r} is listed more than once")
            seen.add(p.provider_id)
        return self

    def model_post_init(self, context: object, /) -> None:
        self._by_id.update((p.provider_id, p) for p in self.providers)

    def of(self, provider_id: str) -> ProviderChannel:
        found = self._by_id.get(provider_id)
        if found is None:
            found = ProviderChannel(provider_id=provider_id, channel=DeliveryChannel.KAFKA)
            if len(self._by_id) < _REMEMBER_UNLISTED:
                self._by_id[provider_id] = found
        return found


def load_channels(path: Path | None) -> Channels:
    if path is None:
        text = (importlib.resources.files("provider_notify") / "providers.yaml").read_text()
    else:
        text = path.read_text(encoding="utf-8")
    return Channels.model_validate(yaml.safe_load(text) or {})
