from servicekit.db.migrate import yoyo_url
from servicekit.roles import SERVICE_ROLES, role_for
from servicekit.settings import InfraSettings, StackSettings, dsn_for_role


def test_service_role_dsn_keeps_host_port_and_database_but_swaps_credentials():
    dsn = dsn_for_role("postgresql://admin:secret@db.example:6543/referrals", "triage", "p@ss/word")
    assert dsn == "postgresql://triage:p%40ss%2Fword@db.example:6543/referrals"


def test_yoyo_url_uses_psycopg3_and_names_the_schema():
    assert yoyo_url("postgresql://u:p@h:1/db", "intake") == "postgresql+psycopg://u:p@h:1/db?schema=intake"
    assert yoyo_url("postgres://u:p@h/db?sslmode=require", "notify").endswith(
        "db?sslmode=require&schema=notify"
    )


def test_every_service_has_its_own_role_and_schema():
    assert {r.role for r in SERVICE_ROLES.values()} == {"intake", "triage", "notify", "outcomes"}
    assert role_for("provider-notify").schema == "notify"


def test_unknown_service_is_refused_by_name():
    try:
        role_for("billing")
    except ValueError as exc:
        assert "billing" in str(exc)
    else:
        raise AssertionError("role_for accepted an unknown service")


def test_role_password_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRIAGE_DB_PASSWORD", "from-vault")
    assert role_for("triage").password() == "from-vault"


def test_endpoints_default_to_the_local_stack_ports(monkeypatch):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("STACK_KAFKA_PORT", "19092")
    monkeypatch.setenv("STACK_PG_PORT", "15432")
    infra = InfraSettings()
    assert infra.kafka_bootstrap_servers == "127.0.0.1:19092"
    assert ":15432/referrals" in infra.database_url.get_secret_value()
    assert StackSettings().pg_port == 15432


def test_explicit_endpoints_win_over_the_local_stack(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-0:9092,kafka-1:9092")
    monkeypatch.setenv("DATABASE_URL", "postgresql://a:b@pg:5432/referrals")
    infra = InfraSettings()
    assert infra.kafka_bootstrap_servers == "kafka-0:9092,kafka-1:9092"
    assert infra.database_url.get_secret_value() == "postgresql://a:b@pg:5432/referrals"
