"""`up`, `down`, `status` and `logs` for the whole local stack."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

from servicekit.messaging.admin import TopicLayout, ensure_topics
from servicekit.provision import provision
from servicekit.settings import InfraSettings, StackSettings
from servicekit.stack.kafka import LocalKafka, kafka_ready, wait_ready
from servicekit.stack.postgres import LocalPostgres
from servicekit.stack.proc import tail


def log(message: str) -> None:
    print(f"[stack] {message}", file=sys.stderr, flush=True)


def external_infra() -> bool:
    """Both endpoints given: use them and start nothing of our own."""
    return bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("DATABASE_URL"))


def platform_topics(prefix: str = "") -> list[TopicLayout]:
    from referral_schemas.topics import all_topic_layouts

    return [
        TopicLayout(prefix + name, partitions, config) for name, partitions, config in all_topic_layouts()
    ]


@dataclass
class Component:
    name: str
    endpoint: str
    healthy: bool
    detail: str


def up() -> list[Component]:
    stack = StackSettings()
    infra = InfraSettings()
    if external_infra():
        log("KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL are set: using them, starting nothing")
        wait_ready(infra.kafka_bootstrap_servers, stack.ready_timeout_s)
    else:
        stack.dir.mkdir(parents=True, exist_ok=True)
        LocalPostgres(stack, log).up()
        LocalKafka(stack, log).up()
    roles = provision(infra.database_url.get_secret_value())
    log(f"database provisioned: roles and schemas {', '.join(roles)}")
    created = asyncio.run(ensure_topics(infra.kafka_bootstrap_servers, platform_topics(infra.topic_prefix)))
    log(f"topics: {len(created)} created" + (f" ({', '.join(created)})" if created else ""))
    return status()


def down() -> None:
    if external_infra():
        log("external Kafka and PostgreSQL are not ours to stop")
        return
    stack = StackSettings()
    LocalKafka(stack, log).down()
    LocalPostgres(stack, log).down()


def status() -> list[Component]:
    stack = StackSettings()
    infra = InfraSettings()
    components: list[Component] = []
    bootstrap = infra.kafka_bootstrap_servers
    k_ok = kafka_ready(bootstrap)
    components.append(Component("kafka", bootstrap, k_ok, "ready" if k_ok else "not reachable"))
    pg_ok, pg_detail = _postgres_status(infra.database_url.get_secret_value())
    host = infra.database_url.get_secret_value().rsplit("@", 1)[-1]
    components.append(Component("postgres", host, pg_ok, pg_detail))
    if not external_infra():
        pid = LocalKafka(stack, log).pid()
        components[0].detail += f" (local, pid {pid})" if pid else " (local, not running)"
    return components


def _postgres_status(url: str) -> tuple[bool, str]:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return True, f"ready (PostgreSQL {row[0] if row else '?'})"
    except psycopg.OperationalError as exc:
        return False, f"not reachable: {str(exc).strip().splitlines()[0]}"


def logs(component: str | None, lines: int) -> str:
    stack = StackSettings()
    out: list[str] = []
    if component in (None, "kafka"):
        kafka = LocalKafka(stack, log)
        out.append(f"==> {kafka.logfile} <==\n{tail(kafka.logfile, lines)}")
    if component in (None, "postgres"):
        pg = LocalPostgres(stack, log)
        out.append(f"==> {pg.logfile} <==\n{tail(pg.logfile, lines)}")
    return "\n".join(out)
