"""Reconciliation of a run: every submitted referral is accounted for once, every side effect
happened once, and the KPIs equal a recomputation from the episodes.

It reads the run's topics (its TOPIC_PREFIX) from the beginning and the services' schemas with
the administrative connection, and reports each check with its counts. The fault tests use it;
operators run it as `referrals reconcile --prefix <run prefix>`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from outcomes.adapters.episodes import EPISODE_JSON
from outcomes.domain.dimensions import DIMENSIONS
from outcomes.domain.kpis import compute
from outcomes.service_layer.reporting import kpi_cells

# Where a referral's life ends, as intake records it.
FINAL = frozenset({"completed", "closed", "rejected", "returned_to_referrer", "signposted", "cancelled"})


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Report:
    checks: list[Check]
    statuses: Counter[str]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


async def read_records(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topic`, from the beginning to the end offsets of now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        out: list[ConsumerRecord[bytes, bytes]] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=1000)).items():
                out.extend(records)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return out
    finally:
        await consumer.stop()


async def read_topic(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every event on `topic` (as JSON), from the beginning to the end offsets of now; records that
    are no event at all (poison) are left to the dead-letter topics."""
    out: list[dict[str, Any]] = []
    for r in await read_records(bootstrap, topic):
        try:
            doc = json.loads(r.value) if r.value is not None else None
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("data"), dict) and "event_id" in doc:
            out.append(doc)
    return out


def _once_each(events: Iterable[dict[str, Any]], key: str) -> tuple[set[str], list[str]]:
    """The `data[key]`s of `events`, and those named by more than one distinct event."""
    ids: defaultdict[str, set[str]] = defaultdict(set)
    for e in events:
        ids[str(e["data"][key])].add(e["event_id"])
    return set(ids), sorted(k for k, v in ids.items() if len(v) > 1)


async def reconcile(database_url: str, bootstrap: str, prefix: str, *, expect_final: bool) -> Report:
    submitted = await read_topic(bootstrap, prefix + "referral.submitted.v1")
    created = await read_topic(bootstrap, prefix + "assignment.created.v1")
    delivered = await read_topic(bootstrap, prefix + "assignment.delivered.v1")
    triaged = await read_topic(bootstrap, prefix + "referral.triaged.v1")
    conn = await asyncpg.connect(database_url)
    try:
        return await _checks(conn, submitted, created, delivered, triaged, expect_final)
    finally:
        await conn.close()


async def _checks(
    conn: asyncpg.Connection,
    submitted: list[dict[str, Any]],
    created: list[dict[str, Any]],
    delivered: list[dict[str, Any]],
    triaged: list[dict[str, Any]],
    expect_final: bool,
) -> Report:
    checks: list[Check] = []

    def check(name: str, ok: bool, detail: str) -> None:
        checks.append(Check(name, ok, detail))

    sources = {
        (e["data"]["source_system"], e["data"]["source_referral_id"])
        for e in submitted
        if "source_system" in e["data"] and "source_referral_id" in e["data"]
    }
    stored = {
        (r["source_system"], r["source_referral_id"]): r["status"]
        for r in await conn.fetch("SELECT source_system, source_referral_id, status FROM intake.referrals")
    }
    missing = sources - set(stored)
    check("every submitted referral is held by intake once", not missing,
          f"{len(sources)} submitted, {len(stored)} held, {len(missing)} missing")  # fmt: skip
    statuses = Counter(stored.values())
    if expect_final:
        open_ = sum(n for s, n in statuses.items() if s not in FINAL)
        check("every referral reached a final state", open_ == 0, f"{open_} not final")

    open_placements = await conn.fetch(
        "SELECT r.referral_id, count(p.*) FILTER (WHERE p.state = 'open') AS open"
        " FROM triage.referrals r LEFT JOIN triage.placements p USING (referral_id)"
        " WHERE r.state IN ('placing', 'placed') GROUP BY r.referral_id"
    )
    wrong = [r for r in open_placements if r["open"] != 1]
    check("each placed referral holds exactly one open placement", not wrong,
          f"{len(open_placements)} placed, {len(wrong)} with other than one")  # fmt: skip
    capacity = await conn.fetch(
        "SELECT c.service_id, c.programme, c.period, c.reserved, count(p.*) AS open"
        " FROM triage.capacity c LEFT JOIN triage.placements p ON p.service_id = c.service_id"
        " AND p.programme = c.programme AND p.period = c.period AND p.state = 'open'"
        " GROUP BY c.service_id, c.programme, c.period, c.reserved"
    )
    off = [r for r in capacity if r["reserved"] != r["open"]]
    check("capacity reserved equals the open placements", not off,
          f"{sum(r['reserved'] for r in capacity)} reserved, {len(off)} cells off")  # fmt: skip

    placements = {str(r[0]) for r in await conn.fetch("SELECT assignment_id FROM triage.placements")}
    assignments = {
        str(r["assignment_id"]): r["delivery_state"]
        for r in await conn.fetch("SELECT assignment_id, delivery_state FROM notify.assignments")
    }
    created_ids, created_twice = _once_each(created, "assignment_id")
    check("every placement is one assignment.created event", created_ids == placements and not created_twice,
          f"{len(placements)} placements, {len(created_ids)} assignments on the topic, "
          f"{len(created_twice)} announced by two events")  # fmt: skip
    check("provider-notify holds every assignment once", set(assignments) == placements,
          f"{len(assignments)} held, {len(placements - set(assignments))} missing")  # fmt: skip
    delivered_ids, delivered_twice = _once_each(delivered, "assignment_id")
    in_db = {a for a, state in assignments.items() if state == "delivered"}
    check("every delivered assignment was delivered once", delivered_ids == in_db and not delivered_twice,
          f"{len(in_db)} delivered, {len(delivered_ids)} on the topic, {len(delivered_twice)} twice; "
          f"{sum(1 for s in assignments.values() if s == 'pending')} pending")  # fmt: skip

    placed = {e["referral_id"] for e in triaged if e.get("data", {}).get("decision") == "assign"}
    states = [
        r["state"] for r in await conn.fetch("SELECT state FROM outcomes.episodes WHERE state IS NOT NULL")
    ]
    check("outcomes opened one episode per referral placed on a programme", len(states) == len(placed),
          f"{len(placed)} placed, {len(states)} episodes")  # fmt: skip
    episodes = [EPISODE_JSON.validate_json(s) for s in states]
    await conn.execute("SET search_path TO outcomes")
    differ = [str(d) for d in DIMENSIONS if await kpi_cells(conn, by=d) != compute(episodes, by=d)]
    compared = f"{len(DIMENSIONS)} breakdowns compared"
    check("KPIs equal a recomputation from the episodes", not differ,
          compared + (f"; differ: {', '.join(differ)}" if differ else ""))  # fmt: skip
    parked = await conn.fetchval("SELECT count(*) FROM outcomes.parked")
    check("no provider activity is waiting for its episode", parked == 0, f"{parked} parked")
    return Report(checks, statuses)
