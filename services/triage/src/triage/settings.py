"""triage's settings, from TRIAGE_* environment variables (plus the kit's)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from servicekit.service import ServiceSettings


class TriageSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    http_port: int = Field(8082, description="HTTP port (provider directory, health, metrics)")
    rules_file: Path | None = Field(None, description="Triage rules YAML; the packaged rules when unset")
    directory_file: Path | None = Field(
        None, description="Provider directory YAML (HSDS shape); the packaged LLR directory when unset"
    )
    max_attempts: int = Field(5, ge=1, le=20, description="Placements tried before returning a referral")
