"""Per-service SQL migrations applied with yoyo-migrations, as the service's own role.

The kit's migrations (inbox, outbox) come first, then the service's own `migrations/` folder.
Yoyo records what it applied in the service's schema and holds a lock while applying, so
several instances starting together apply each migration once.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from yoyo import get_backend, read_migrations

from servicekit.roles import role_for
from servicekit.settings import InfraSettings, dsn_for_role

KIT_MIGRATIONS = Path(str(importlib.resources.files("servicekit.db") / "migrations"))


def yoyo_url(dsn: str, schema: str) -> str:
    scheme, rest = dsn.split("://", 1)
    if scheme not in ("postgres", "postgresql"):
        raise ValueError(f"unsupported database URL scheme {scheme!r}")
    sep = "&" if "?" in rest else "?"
    return f"postgresql+psycopg://{rest}{sep}schema={schema}"


def apply_migrations(dsn: str, schema: str, sources: list[Path]) -> list[str]:
    """Apply pending migrations from `sources` in order; returns the ids applied."""
    backend = get_backend(yoyo_url(dsn, schema))
    try:
        migrations = read_migrations(*(str(s) for s in sources))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        return [m.id for m in pending]
    finally:
        backend.connection.close()


def service_migrations_dir(service: str) -> Path:
    module = service.replace("-", "_")
    return Path(str(importlib.resources.files(module) / "migrations"))


def migrate_service(service: str, database_url: str | None = None) -> list[str]:
    role = role_for(service)
    admin = database_url or InfraSettings().database_url.get_secret_value()
    sources = [KIT_MIGRATIONS]
    own = service_migrations_dir(service)
    if own.is_dir():
        sources.append(own)
    return apply_migrations(dsn_for_role(admin, role.role, role.password()), role.schema, sources)
