"""outcomes' settings, from OUTCOMES_* environment variables (plus the kit's)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from servicekit.service import ServiceSettings

# For the local stack and tests only; a deployment sets OUTCOMES_EPISODE_KEY_SECRET.
LOCAL_EPISODE_KEY_SECRET = "local-outcomes-episode-secret"  # noqa: S105


class OutcomesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OUTCOMES_", extra="ignore")

    http_port: int = Field(8084, description="HTTP port (KPIs, dashboard, measures, health, metrics)")
    episode_key_secret: SecretStr = Field(
        SecretStr(LOCAL_EPISODE_KEY_SECRET),
        description="Key of the hash turning referral ids into episode ids; never shared",
    )
    api_keys: dict[str, str] = Field(
        default_factory=dict,
        description="Providers' HTTP access for posting measures: JSON object of provider_id to the "
        "SHA-256 hex digest of its bearer token (the same as provider-notify's)",
    )
    kpi_publish_interval_s: float = Field(
        30.0, gt=0, description="How often changed months' KPI cells go out on outcome.kpi.v1"
    )
    episode_cache_size: int = Field(
        10_000,
        ge=0,
        description="Episodes each process keeps parsed from its own last read or write, so that a "
        "batch need not read them back (about 5 KB each; 0 keeps none)",
    )
