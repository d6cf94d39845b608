"""Create the shared database, and one login role and one schema per service.

Idempotent: run by `make up` against the local stack and by `referrals db provision` against
any server named by DATABASE_URL (whose user needs CREATEROLE and CREATEDB).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from servicekit.roles import SERVICE_ROLES, ServiceRole


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise ValueError("DATABASE_URL must name a database, e.g. .../referrals")
    return name


def ensure_database(admin_url: str) -> None:
    name = database_name(admin_url)
    with psycopg.connect(_with_database(admin_url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_role(conn: psycopg.Connection, role: ServiceRole, database: str) -> None:
    ident = sql.Identifier(role.role)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role.role,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(
        sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
            ident, sql.Literal(role.password())
        )
    )
    conn.execute(
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(sql.Identifier(role.schema), ident)
    )
    # The owner alone may use the schema; nobody else was ever granted anything on it.
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(role.schema)))
    conn.execute(
        sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(database), ident)
    )
    conn.execute(
        sql.SQL("ALTER ROLE {} IN DATABASE {} SET search_path = {}").format(
            ident, sql.Identifier(database), sql.Identifier(role.schema)
        )
    )


def provision(admin_url: str) -> list[str]:
    """Make the database, roles and schemas exist; returns the roles provisioned."""
    ensure_database(admin_url)
    database = database_name(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        # Nobody but the admin creates objects in public or connects by default.
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))
        for role in SERVICE_ROLES.values():
            ensure_role(conn, role, database)
    return [r.role for r in SERVICE_ROLES.values()]
