"""provider-notify's settings, from NOTIFY_* environment variables (plus the kit's)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from servicekit.service import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    http_port: int = Field(8083, description="HTTP port (health, metrics)")
    providers_file: Path | None = Field(
        None, description="Providers' delivery channels (YAML); packaged when unset"
    )
    webhook_timeout_s: float = Field(10.0, gt=0, description="Wait for a provider's answer")
    retry_base_s: float = Field(1.0, gt=0, description="First retry delay (doubles, jittered)")
    retry_cap_s: float = Field(300.0, gt=0, description="Longest delay between attempts")
    give_up_after_s: float = Field(24 * 3600.0, gt=0, description="Park a delivery failing this long")
    deliver_batch: int = Field(200, ge=1, description="Due deliveries leased per pass")
    lease_s: float = Field(60.0, gt=0, description="A leased delivery is retried by others after this")
    remind_before_working_days: int = Field(
        1,
        ge=0,
        le=20,
        description="Remind a provider that has not answered this many working days before the "
        "contact deadline (England bank holidays skipped); 0 turns reminders off",
    )
    contact_deadline_override_s: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict,
        description="For tests and demos only, never in service: JSON object of provider_id to "
        "seconds. That provider's assignments expire if not accepted within this many seconds of "
        "arriving here, instead of at triage's working-day contact deadline (never later than "
        "it). Empty, the default, holds every assignment to triage's deadline",
    )
    api_keys: dict[str, str] = Field(
        default_factory=dict,
        description="Providers' HTTP access: JSON object of provider_id to the SHA-256 hex digest "
        "of its bearer token",
    )
