"""The database role and schema each service owns.

One schema and one login role per service: a role can use its own schema only. The mapping is
platform data, shared by provisioning, migrations and the services themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceRole:
    service: str
    role: str

    @property
    def schema(self) -> str:
        return self.role

    @property
    def password_env(self) -> str:
        return f"{self.role.upper()}_DB_PASSWORD"

    def password(self) -> str:
        # Local-stack default; production injects the secret through the environment.
        return os.environ.get(self.password_env, f"{self.role}-local-password")


SERVICE_ROLES: dict[str, ServiceRole] = {
    r.service: r
    for r in (
        ServiceRole("referral-intake", "intake"),
        ServiceRole("triage", "triage"),
        ServiceRole("provider-notify", "notify"),
        ServiceRole("outcomes", "outcomes"),
    )
}


def role_for(service: str) -> ServiceRole:
    try:
        return SERVICE_ROLES[service]
    except KeyError:
        known = ", ".join(sorted(SERVICE_ROLES))
        raise ValueError(f"unknown service {service!r}; known services: {known}") from None
