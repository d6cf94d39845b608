"""The topic registry: every topic's name, event, key, layout, retention, producer and consumers.

Topic names carry the event's major version. Every topic one of the platform's services consumes
has a dead-letter topic `<topic>.dlq` beside it. This module is data; the platform creates topics
from `all_topic_layouts()` and services find what to publish and subscribe to here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, NamedTuple

DAY_MS = 24 * 60 * 60 * 1000
DLQ_SUFFIX = ".dlq"
# One partition keeps dead letters in the order they failed, which is the order to replay them;
# a dead-letter topic is low-volume by nature.
DLQ_PARTITIONS = 1


class Party(StrEnum):
    """Who produces and consumes topics: the platform's services, then parties outside it."""

    REFERRAL_INTAKE = "referral-intake"
    TRIAGE = "triage"
    PROVIDER_NOTIFY = "provider-notify"
    OUTCOMES = "outcomes"
    REFERRER_SYSTEMS = "referrer-systems"
    PROVIDER_SYSTEMS = "provider-systems"
    COMMISSIONERS = "commissioners"
    OPERATORS = "operators"


SERVICES = frozenset({Party.REFERRAL_INTAKE, Party.TRIAGE, Party.PROVIDER_NOTIFY, Party.OUTCOMES})
"""The platform's own services (those that dead-letter what they cannot read)."""


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One Kafka topic."""

    name: str
    event_types: tuple[str, ...]
    """The events it carries. Most topics carry one, the event they are named for; a topic for
    one audience (a provider's own feed) may carry several, told apart by `event_type`."""
    key: str
    """What the record key is: envelope or payload field names, joined by ':' when several."""
    partitions: int
    producer: Party
    consumers: tuple[Party, ...]
    retention_days: int | None
    """None for a compacted topic, which keeps the latest record per key."""
    purpose: str

    def carries(self, event_type: str) -> bool:
        return event_type in self.event_types

    @property
    def cleanup_policy(self) -> Literal["delete", "compact"]:
        return "compact" if self.retention_days is None else "delete"

    @property
    def dlq(self) -> str | None:
        """Dead-letter topic, present when one of the platform's services consumes this topic."""
        return self.name + DLQ_SUFFIX if SERVICES.intersection(self.consumers) else None

    def config(self) -> dict[str, str]:
        """Kafka topic configuration."""
        if self.retention_days is None:
            return {"cleanup.policy": "compact"}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_days * DAY_MS)}


class TopicLayout(NamedTuple):
    """What the platform needs to create a topic."""

    name: str
    partitions: int
    config: dict[str, str]


# Partitions: 12 on the referral flow, whose per-referral order and consumer parallelism matter;
# 6 where volume is low. Retention: topics carrying identity (submitted, accepted, assignments)
# keep it 30 days, enough to recover a consumer or replay dead letters; the rest 90 days; the
# commissioner stream a year, so a subscriber can rebuild its reports.
TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        name="referral.submitted.v1",
        event_types=("referral.submitted",),
        key="source_system:source_referral_id",
        partitions=12,
        producer=Party.REFERRER_SYSTEMS,
        consumers=(Party.REFERRAL_INTAKE,),
        retention_days=30,
        purpose="Referrals (new, updated, cancelled) from GP systems, social prescribers and discharge teams",
    ),
    TopicSpec(
        name="referral.accepted.v1",
        event_types=("referral.accepted",),
        key="referral_id",
        partitions=12,
        producer=Party.REFERRAL_INTAKE,
        consumers=(Party.TRIAGE,),
        retention_days=30,
        purpose="Checked referrals for triage; the only topic besides assignments with contact details",
    ),
    TopicSpec(
        name="referral.rejected.v1",
        event_types=("referral.rejected",),
        key="referral_id",
        partitions=6,
        producer=Party.REFERRAL_INTAKE,
        consumers=(Party.REFERRER_SYSTEMS,),
        retention_days=90,
        purpose="Submissions refused, with every reason, for the referrer",
    ),
    TopicSpec(
        name="referral.status.v1",
        event_types=("referral.status",),
        key="referral_id",
        partitions=12,
        producer=Party.REFERRAL_INTAKE,
        # Triage and provider-notify read it for one status only, cancelled: a referrer's
        # cancellation must stop placing and stop work at the provider.
        consumers=(Party.REFERRER_SYSTEMS, Party.TRIAGE, Party.PROVIDER_NOTIFY),
        retention_days=90,
        purpose="Every change in a referral's life, for the referrer (and cancellations, for triage "
        "and provider-notify)",
    ),
    TopicSpec(
        name="referral.triaged.v1",
        event_types=("referral.triaged",),
        key="referral_id",
        partitions=12,
        producer=Party.TRIAGE,
        consumers=(Party.REFERRAL_INTAKE, Party.OUTCOMES),
        retention_days=90,
        purpose="Programme, risk and priority decided, or signposted, or returned",
    ),
    TopicSpec(
        name="assignment.created.v1",
        event_types=("assignment.created",),
        key="referral_id",
        partitions=12,
        producer=Party.TRIAGE,
        consumers=(Party.PROVIDER_NOTIFY, Party.REFERRAL_INTAKE),
        retention_days=30,
        purpose="A referral placed with a provider, with the contact details the provider needs",
    ),
    TopicSpec(
        name="provider.assignments.v1",
        # A provider reads one feed, in order: its assignments, a reminder of one not answered
        # as its deadline nears and, when one is taken back without its answer (cancelled, or
        # the deadline passed), the withdrawal.
        event_types=("assignment.created", "assignment.reminded", "assignment.withdrawn"),
        key="provider_id",
        partitions=12,
        producer=Party.PROVIDER_NOTIFY,
        consumers=(Party.PROVIDER_SYSTEMS,),
        retention_days=30,
        purpose="Providers' copy of their assignments, reminders and withdrawals of them, keyed by "
        "provider so per-provider ACLs can apply",
    ),
    TopicSpec(
        name="assignment.delivered.v1",
        event_types=("assignment.delivered",),
        key="referral_id",
        partitions=6,
        producer=Party.PROVIDER_NOTIFY,
        consumers=(Party.REFERRAL_INTAKE, Party.OUTCOMES),
        retention_days=90,
        purpose="Assignments the provider's system acknowledged",
    ),
    TopicSpec(
        name="assignment.delivery_failed.v1",
        event_types=("assignment.delivery_failed",),
        key="referral_id",
        partitions=6,
        producer=Party.PROVIDER_NOTIFY,
        consumers=(Party.OPERATORS,),
        retention_days=90,
        purpose="Assignments that could not be delivered after retries; operators step in",
    ),
    TopicSpec(
        name="assignment.declined.v1",
        event_types=("assignment.declined",),
        key="referral_id",
        partitions=6,
        producer=Party.PROVIDER_NOTIFY,
        consumers=(Party.TRIAGE, Party.REFERRAL_INTAKE, Party.OUTCOMES),
        retention_days=90,
        purpose="Assignments a provider declined; triage reassigns",
    ),
    TopicSpec(
        name="assignment.expired.v1",
        event_types=("assignment.expired",),
        key="referral_id",
        partitions=6,
        producer=Party.PROVIDER_NOTIFY,
        consumers=(Party.TRIAGE, Party.REFERRAL_INTAKE, Party.OUTCOMES),
        retention_days=90,
        purpose="Assignments not answered by their deadline; triage reassigns",
    ),
    TopicSpec(
        name="provider.response.v1",
        event_types=("provider.response",),
        key="referral_id",
        partitions=12,
        producer=Party.PROVIDER_SYSTEMS,
        consumers=(Party.PROVIDER_NOTIFY,),
        retention_days=90,
        purpose="Providers' responses from their own systems (the HTTP API takes the same payload)",
    ),
    TopicSpec(
        name="provider.activity.v1",
        event_types=("provider.activity",),
        key="referral_id",
        partitions=12,
        producer=Party.PROVIDER_NOTIFY,
        consumers=(Party.OUTCOMES, Party.REFERRAL_INTAKE),
        retention_days=90,
        purpose="Provider steps and measures, pseudonymised, for outcomes and referrer status",
    ),
    TopicSpec(
        name="outcome.recorded.v1",
        event_types=("outcome.recorded",),
        key="episode_id",
        partitions=6,
        producer=Party.OUTCOMES,
        consumers=(Party.COMMISSIONERS,),
        retention_days=365,
        purpose="De-identified episode milestones and measures",
    ),
    TopicSpec(
        name="outcome.kpi.v1",
        event_types=("outcome.kpi",),
        key="kpi:period:dimension:dimension_value",
        partitions=6,
        producer=Party.OUTCOMES,
        consumers=(Party.COMMISSIONERS,),
        retention_days=None,
        purpose="Latest value of every KPI cell, small numbers suppressed (compacted)",
    ),
)

_BY_NAME = {t.name: t for t in TOPICS}


def topic(name: str) -> TopicSpec:
    """The topic called `name`; KeyError if there is none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no topic {name!r}") from None


def topic_for(event_type: str, version: int = 1) -> str:
    """The topic an event is published to: `<event_type>.v<version>`, or, for an event without a
    topic of its own, the one `.v<version>` topic that carries it."""
    name = f"{event_type}.v{version}"
    if name in _BY_NAME:
        if not _BY_NAME[name].carries(event_type):
            raise KeyError(f"topic {name!r} does not carry {event_type!r}")
        return name
    carriers = [t.name for t in TOPICS if t.carries(event_type) and t.name.endswith(f".v{version}")]
    if len(carriers) != 1:
        found = f"topics {carriers} carry it" if carriers else "no topic carries it"
        raise KeyError(f"no topic {name!r}, and {found}: which topic {event_type!r} goes to is unknown")
    return carriers[0]


def topics_consumed_by(party: Party) -> tuple[TopicSpec, ...]:
    """Topics `party` subscribes to."""
    return tuple(t for t in TOPICS if party in t.consumers)


def topics_produced_by(party: Party) -> tuple[TopicSpec, ...]:
    """Topics `party` publishes to."""
    return tuple(t for t in TOPICS if t.producer is party)


def all_topic_layouts() -> list[TopicLayout]:
    """Every topic and every dead-letter topic, for the platform to create."""
    layouts: list[TopicLayout] = []
    for t in TOPICS:
        layouts.append(TopicLayout(t.name, t.partitions, t.config()))
        if t.dlq is not None:
            # A dead letter holds the original bytes (identity included), so it lives no longer
            # than the message would have; a compacted topic's dead letters get the default 90 days.
            days = t.retention_days or 90
            layouts.append(
                TopicLayout(
                    t.dlq, DLQ_PARTITIONS, {"cleanup.policy": "delete", "retention.ms": str(days * DAY_MS)}
                )
            )
    return layouts


def markdown_table() -> str:
    """The topic table of schemas/README.md."""
    rows = [
        "| topic | events | key | partitions | retention | producer | consumers | dead letters |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in TOPICS:
        retention = "compacted" if t.retention_days is None else f"{t.retention_days} days"
        rows.append(
            f"| `{t.name}` | {', '.join(t.event_types)} | {t.key} | {t.partitions} | {retention} "
            f"| {t.producer} | {', '.join(t.consumers)} | {f'`{t.dlq}`' if t.dlq else '-'} |"
        )
    return "\n".join(rows) + "\n"
