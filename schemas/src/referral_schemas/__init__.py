"""Event contracts of the Active Referrals platform: envelope, payloads, registry, topics."""

from referral_schemas.envelope import Contract, Envelope, new_envelope, referral_id_for
from referral_schemas.registry import ENVELOPES, ContractError, dump_event, parse_event
from referral_schemas.topics import TOPICS, TopicSpec, all_topic_layouts, topic_for

__all__ = [
    "ENVELOPES",
    "TOPICS",
    "Contract",
    "ContractError",
    "Envelope",
    "TopicSpec",
    "all_topic_layouts",
    "dump_event",
    "new_envelope",
    "parse_event",
    "referral_id_for",
    "topic_for",
]
