"""Event contracts of the Active Referrals platform: envelope, payloads, registry, topics."""

from referral_schemas.codec import ContractError, ContractErrorCode, dump_event, parse_event
from referral_schemas.envelope import (
    Contract,
    DeidentifiedEnvelope,
    Envelope,
    ReferralEnvelope,
    new_envelope,
)
from referral_schemas.ids import REFERRAL_NAMESPACE, referral_id_for
from referral_schemas.registry import EVENTS, EventSpec
from referral_schemas.topics import (
    TOPICS,
    Party,
    TopicLayout,
    TopicSpec,
    all_topic_layouts,
    topic,
    topic_for,
    topics_consumed_by,
    topics_produced_by,
)

__all__ = [
    "EVENTS",
    "REFERRAL_NAMESPACE",
    "TOPICS",
    "Contract",
    "ContractError",
    "ContractErrorCode",
    "DeidentifiedEnvelope",
    "Envelope",
    "EventSpec",
    "Party",
    "ReferralEnvelope",
    "TopicLayout",
    "TopicSpec",
    "all_topic_layouts",
    "dump_event",
    "new_envelope",
    "parse_event",
    "referral_id_for",
    "topic",
    "topic_for",
    "topics_consumed_by",
    "topics_produced_by",
]
