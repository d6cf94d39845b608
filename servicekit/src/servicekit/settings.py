"""Configuration read from the environment (pydantic-settings).

Every default points at the local stack that `make up` starts, so a developer needs no
configuration at all; production sets the same names in the environment.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]

# Below the kernel's ephemeral range (32768+), so an outgoing connection never holds them.
DEFAULT_KAFKA_PORT = 19092
DEFAULT_PG_PORT = 15432
DEFAULT_DATABASE = "referrals"
DEFAULT_ADMIN_USER = "referrals_admin"
DEFAULT_ADMIN_PASSWORD = "referrals-local-admin"  # noqa: S105 - local stack only, documented


class StackSettings(BaseSettings):
    """Where and how the local Kafka and PostgreSQL processes run."""

    model_config = SettingsConfigDict(env_prefix="STACK_", extra="ignore")

    dir: Path = Field(REPO_ROOT / ".stack", description="Data, logs and jars of the local stack")
    kafka_port: int = Field(DEFAULT_KAFKA_PORT, description="Kafka client listener port")
    kafka_controller_port: int = Field(19093, description="KRaft controller listener port")
    kafka_heap: str = Field("512m", description="Broker JVM heap (-Xms and -Xmx)")
    pg_port: int = Field(DEFAULT_PG_PORT, description="PostgreSQL port on 127.0.0.1")
    ready_timeout_s: float = Field(90.0, description="How long `up` waits for readiness")

    def local_kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    def local_database_url(self) -> str:
        return (
            f"postgresql://{DEFAULT_ADMIN_USER}:{DEFAULT_ADMIN_PASSWORD}"
            f"@127.0.0.1:{self.pg_port}/{DEFAULT_DATABASE}"
        )


class InfraSettings(BaseSettings):
    """The two endpoints everything talks to. Unset, they name the local stack's ports."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = Field(
        default_factory=lambda: StackSettings().local_kafka_bootstrap(),
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"),
        description="Kafka bootstrap servers",
    )
    database_url: SecretStr = Field(
        default_factory=lambda: SecretStr(StackSettings().local_database_url()),
        validation_alias=AliasChoices("DATABASE_URL"),
        description="Administrative connection: provisions roles and schemas; services derive "
        "their own login from it (same host and database, their own role).",
    )
    topic_prefix: str = Field(
        "",
        pattern=r"^[A-Za-z0-9._-]*$",
        validation_alias=AliasChoices("TOPIC_PREFIX"),
        description="Put before every topic name, so several environments (or a benchmark) can "
        'share one cluster, e.g. "staging." makes referral.accepted.v1 staging.referral.accepted.v1',
    )


def dsn_for_role(admin_url: str, role: str, password: str) -> str:
    """The admin DSN with its credentials replaced by a service role's."""
    parts = urlsplit(admin_url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(role)}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
