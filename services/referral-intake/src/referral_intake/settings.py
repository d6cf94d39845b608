"""referral-intake's settings, from INTAKE_* environment variables (plus the kit's)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from servicekit.service import ServiceSettings

# Only for a local stack: a deployment sets its own key, and `bootstrap()` logs a warning when
# this one is in use, because anyone who knows it can link pseudonymous keys to NHS numbers.
LOCAL_PSEUDONYM_KEY = "local-development-pseudonym-key"


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    http_port: int = Field(8081, description="HTTP port (FHIR API, referral view, health, metrics)")
    pseudonym_key: SecretStr = Field(
        SecretStr(LOCAL_PSEUDONYM_KEY),
        description="Key of the keyed hash that turns an NHS number into the patient_key",
    )
    accept_test_nhs_numbers: bool = Field(
        False, description="Accept NHS numbers in the 999 000 0000-999 999 9999 test range"
    )
    max_free_text: int = Field(2000, ge=1, le=100_000, description="Characters allowed per free-text field")
    max_http_body_bytes: int = Field(256 * 1024, ge=1024, description="Larger FHIR bodies get 413")
    api_keys: dict[str, str] = Field(
        default_factory=lambda: {
            # sha256("local-operator-token"); "operator" sees every referral.
            "operator": "0e0f32b32f222d209c23da5994f02cd3caf03a883ad8c0f491339d3f058bf34a",
        },
        description=(
            "Who may use the HTTP API: a JSON object of principal (a referrer's ODS code, or "
            '"operator") to the SHA-256 hex digest of its bearer token'
        ),
    )
