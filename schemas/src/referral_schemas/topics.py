"""The topic registry: every topic's name, key, layout, retention, producer and consumers.

Topic names carry the major version. Every consumed topic has a `<topic>.dlq` beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 60 * 60 * 1000
DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    event_types: tuple[str, ...]
    key: str
    partitions: int
    producer: str
    consumers: tuple[str, ...]
    retention_ms: int = 30 * DAY_MS
    cleanup_policy: str = "delete"
    description: str = ""
    extra_config: dict[str, str] = field(default_factory=dict)

    def config(self) -> dict[str, str]:
        cfg = {"cleanup.policy": self.cleanup_policy, **self.extra_config}
        if self.cleanup_policy == "delete":
            cfg["retention.ms"] = str(self.retention_ms)
        return cfg

    @property
    def dlq(self) -> str:
        return self.name + DLQ_SUFFIX


REFERRAL_KEY = "referral_id"

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "referral.submitted.v1",
        ("referral.submitted",),
        "source_system:source_referral_id",
        12,
        "referrer systems",
        ("referral-intake",),
        90 * DAY_MS,
        description="Referrals from GP systems, social prescribers and discharge teams",
    ),
    TopicSpec(
        "referral.accepted.v1",
        ("referral.accepted",),
        REFERRAL_KEY,
        12,
        "referral-intake",
        ("triage",),
        90 * DAY_MS,
    ),
    TopicSpec(
        "referral.rejected.v1",
        ("referral.rejected",),
        REFERRAL_KEY,
        6,
        "referral-intake",
        ("referrer systems",),
        90 * DAY_MS,
    ),
    TopicSpec(
        "referral.status.v1",
        ("referral.status",),
        REFERRAL_KEY,
        12,
        "referral-intake",
        ("referrer systems",),
        90 * DAY_MS,
        description="Every change in a referral's life, for the referrer",
    ),
    TopicSpec(
        "referral.triaged.v1",
        ("referral.triaged",),
        REFERRAL_KEY,
        12,
        "triage",
        ("referral-intake", "outcomes"),
        90 * DAY_MS,
    ),
    TopicSpec(
        "assignment.created.v1",
        ("assignment.created",),
        REFERRAL_KEY,
        12,
        "triage",
        ("provider-notify", "referral-intake", "outcomes"),
        90 * DAY_MS,
    ),
    TopicSpec(
        "provider.assignments.v1",
        ("assignment.created",),
        "provider_id",
        12,
        "provider-notify",
        ("provider systems",),
        30 * DAY_MS,
        description="Provider-facing copy of assignments, keyed by provider; ACLs per provider "
        "restrict each to its own records through its consumer's prefixed group and a filter",
    ),
    TopicSpec(
        "assignment.delivered.v1",
        ("assignment.delivered",),
        REFERRAL_KEY,
        6,
        "provider-notify",
        ("referral-intake", "outcomes"),
        90 * DAY_MS,
    ),
    TopicSpec(
        "assignment.delivery_failed.v1",
        ("assignment.delivery_failed",),
        REFERRAL_KEY,
        3,
        "provider-notify",
        ("operators",),
        90 * DAY_MS,
    ),
    TopicSpec(
        "assignment.declined.v1",
        ("assignment.declined",),
        REFERRAL_KEY,
        6,
        "provider-notify",
        ("triage", "referral-intake", "outcomes"),
        90 * DAY_MS,
    ),
    TopicSpec(
        "assignment.expired.v1",
        ("assignment.expired",),
        REFERRAL_KEY,
        6,
        "provider-notify",
        ("triage", "referral-intake", "outcomes"),
        90 * DAY_MS,
    ),
    TopicSpec(
        "provider.response.v1",
        ("provider.response",),
        REFERRAL_KEY,
        12,
        "provider systems",
        ("provider-notify",),
        90 * DAY_MS,
    ),
    TopicSpec(
        "provider.activity.v1",
        ("provider.activity",),
        REFERRAL_KEY,
        12,
        "provider-notify",
        ("outcomes", "referral-intake"),
        365 * DAY_MS,
    ),
    TopicSpec(
        "outcome.recorded.v1",
        ("outcome.recorded",),
        "episode_id",
        6,
        "outcomes",
        ("commissioners",),
        365 * DAY_MS,
    ),
    TopicSpec(
        "outcome.kpi.v1",
        ("outcome.kpi",),
        "kpi:period:dimension:dimension_value",
        3,
        "outcomes",
        ("commissioners",),
        cleanup_policy="compact",
        description="Latest value of every KPI cell (compacted)",
    ),
)

BY_NAME = {t.name: t for t in TOPICS}
# The topic an internal event is written to (the provider-facing copy is separate).
TOPIC_FOR_EVENT: dict[str, str] = {}
for _t in TOPICS:
    for _e in _t.event_types:
        TOPIC_FOR_EVENT.setdefault(_e, _t.name)


def topic_for(event_type: str) -> str:
    try:
        return TOPIC_FOR_EVENT[event_type]
    except KeyError:
        raise KeyError(f"no topic carries {event_type!r}") from None


def all_topic_layouts() -> list[tuple[str, int, dict[str, str]]]:
    """(name, partitions, config) of every topic and every DLQ, for the platform to create."""
    out: list[tuple[str, int, dict[str, str]]] = []
    for t in TOPICS:
        out.append((t.name, t.partitions, t.config()))
        out.append((t.dlq, 1, {"cleanup.policy": "delete", "retention.ms": str(365 * DAY_MS)}))
    return out


def markdown_table() -> str:
    rows = [
        "| topic | key | partitions | retention | producer | consumers |",
        "|---|---|---|---|---|---|",
    ]
    for t in TOPICS:
        retention = "compacted" if t.cleanup_policy == "compact" else f"{t.retention_ms // DAY_MS} days"
        rows.append(
            f"| `{t.name}` | {t.key} | {t.partitions} | {retention} | {t.producer} "
            f"| {', '.join(t.consumers)} |"
        )
    return "\n".join(rows)
