"""One referral's journey across the four services (`referrals trace`), from their own tables.

Each service's state is read where it keeps it, with the administrative connection, in one
read-only snapshot: intake's referral and status history, triage's decision and placements,
provider-notify's assignments with their delivery attempts, provider responses and reminders,
and outcomes' episode, which outcomes keys by an HMAC of the referral id (computed here with
outcomes' own function and its OUTCOMES_EPISODE_KEY_SECRET). The outbox tables are not read:
published rows do not stay there. Patient identifiers and contact details, which intake,
triage and provider-notify hold, are never shown.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from outcomes.domain.episode_key import episode_key
from provider_notify.service_layer.deadlines import OPEN_AND_WHY_NOT
from referral_schemas import referral_id_for
from rich.console import Console
from rich.table import Table
from rich.text import Text

INTAKE, TRIAGE, NOTIFY, OUTCOMES = "referral-intake", "triage", "provider-notify", "outcomes"
SERVICES = (INTAKE, TRIAGE, NOTIFY, OUTCOMES)
# The tables read, per service; the first is the one without which the service holds nothing.
TABLES = {
    INTAKE: ("intake.referrals", "intake.status_history"),
    TRIAGE: ("triage.referrals", "triage.placements"),
    NOTIFY: ("notify.assignments", "notify.delivery_attempts", "notify.responses", "notify.reminders"),
    OUTCOMES: ("outcomes.episodes", "outcomes.assignments", "outcomes.refusals", "outcomes.parked"),
}


def referral_id_of(text: str) -> uuid.UUID:
    """A referral id given as itself (a UUID) or as `source_system:source_referral_id`, from
    which intake derives it (the first colon separates the two)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    system, colon, source_id = text.partition(":")
    if not colon:
        raise ValueError(f"{text!r} is neither a referral id (a UUID) nor source_system:source_referral_id")
    return referral_id_for(system, source_id)


@dataclass(frozen=True)
class Step:
    """Something that happened to the referral in one service, when it happened."""

    at: datetime
    service: str
    what: str
    detail: str = ""
    trace_id: str | None = None


@dataclass
class Journey:
    referral_id: uuid.UUID
    episode_id: str
    held: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What each service holds about the referral (only services holding something)."""
    unavailable: dict[str, str] = field(default_factory=dict)
    """Services whose tables are not there, and why that matters."""
    steps: list[Step] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.held)

    @property
    def trace_ids(self) -> list[str]:
        return list(dict.fromkeys(s.trace_id for s in self.timeline if s.trace_id))

    @property
    def timeline(self) -> list[Step]:
        return sorted(self.steps, key=lambda s: s.at)  # stable: same-instant steps keep service order

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = _plain(
            {
                "referral_id": self.referral_id,
                "found": self.found,
                "episode_id": self.episode_id,
                "services": {s: self.held.get(s) for s in SERVICES},
                "unavailable": self.unavailable,
                "timeline": [
                    {
                        "at": s.at,
                        "service": s.service,
                        "what": s.what,
                        "detail": s.detail,
                        "trace_id": s.trace_id,
                    }
                    for s in self.timeline
                ],
                "trace_ids": self.trace_ids,
            }
        )
        return doc


async def trace(database_url: str, referral_id: uuid.UUID, episode_secret: bytes) -> Journey:
    journey = Journey(referral_id, episode_key(episode_secret, referral_id))
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            wanted = [t for tables in TABLES.values() for t in tables]
            present = {
                r["t"]
                for r in await conn.fetch(
                    "SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL", wanted
                )
            }
            readers = ((INTAKE, _intake), (TRIAGE, _triage), (NOTIFY, _notify), (OUTCOMES, _outcomes))
            for service, read in readers:
                if missing := [t for t in TABLES[service] if t not in present]:
                    journey.unavailable[service] = f"no table {', '.join(missing)} (not migrated here)"
                    continue
                await read(conn, journey)
    finally:
        await conn.close()
    return journey


# ---------------------------------------------------------------------------------------- intake
async def _intake(conn: asyncpg.Connection, j: Journey) -> None:
    referral = await conn.fetchrow(
        "SELECT referral_id, source_system, source_referral_id, source_type, referrer_ods_code, status,"
        " revision, patient_key, likely_duplicate_of, referred_at, received_at, updated_at"
        " FROM intake.referrals WHERE referral_id = $1",
        j.referral_id,
    )
    history = [
        dict(r) | {"reasons": json.loads(r["reasons"])}
        for r in await conn.fetch(
            "SELECT status, at, actor, event_id, event_type, detail, reasons"
            " FROM intake.status_history WHERE referral_id = $1 ORDER BY id",
            j.referral_id,
        )
    ]
    if referral is None and not history:
        return
    j.held[INTAKE] = {"referral": dict(referral) if referral else None, "status_history": history}
    for h in history:
        codes = ", ".join(r["code"] for r in h["reasons"] if r.get("code"))
        detail = " ".join(p for p in (h["detail"], f"[{codes}]" if codes else "") if p)
        j.steps.append(
            Step(h["at"], INTAKE, f"status {h['status']}", f"{detail} ({h['event_type']} from {h['actor']})")
        )


# ---------------------------------------------------------------------------------------- triage
async def _triage(conn: asyncpg.Connection, j: Journey) -> None:
    # Not `accepted`: it holds the patient's contact details for the provider.
    referral = await conn.fetchrow(
        "SELECT revision, state, decision, updated_at FROM triage.referrals WHERE referral_id = $1",
        j.referral_id,
    )
    placements = [
        dict(r)
        for r in await conn.fetch(
            "SELECT attempt, assignment_id, service_id, provider_id, programme, period, state, created_at"
            " FROM triage.placements WHERE referral_id = $1 ORDER BY attempt",
            j.referral_id,
        )
    ]
    if referral is None:
        return
    decision = json.loads(referral["decision"])
    j.held[TRIAGE] = {"referral": dict(referral) | {"decision": decision}, "placements": placements}
    # The decision and the first placement are written in one transaction; a later change to the
    # referral row (a new revision, a cancellation) moves updated_at on.
    decided = placements[0]["created_at"] if placements else referral["updated_at"]
    j.steps.append(Step(decided, TRIAGE, f"triaged: {decision.get('decision')}", describe_decision(decision)))
    for p in placements:
        what = f"placed with {p['provider_id']}" if p["attempt"] == 1 else f"reassigned to {p['provider_id']}"
        j.steps.append(
            Step(
                p["created_at"],
                TRIAGE,
                what,
                f"attempt {p['attempt']}, {p['service_id']}, {p['programme']} {p['period']}, "
                f"assignment {p['assignment_id']}; placement {p['state']}",
            )
        )
    if referral["updated_at"] > decided:
        j.steps.append(Step(referral["updated_at"], TRIAGE, f"referral now {referral['state']}"))


def describe_decision(decision: dict[str, Any]) -> str:
    parts = [str(decision["programme"])] if decision.get("programme") else []
    if decision.get("risk"):
        parts.append(f"risk {decision['risk']}")
    priority = decision.get("priority") or {}
    if priority.get("prioritised"):
        groups = [*(["core20"] if priority.get("core20") else []), *(priority.get("plus_groups") or [])]
        parts.append(f"prioritised ({', '.join(groups)})" if groups else "prioritised")
    if decision.get("signpost_to"):
        parts.append(f"signposted to {', '.join(decision['signpost_to'])}")
    reasons = [r["code"] for r in decision.get("reasons") or [] if not r["code"].startswith("programme.")]
    if reasons and decision.get("decision") != "assign":
        parts.append(f"[{', '.join(reasons)}]")
    parts.append(f"rules {decision.get('rule_version')}")
    return ", ".join(parts)


# ------------------------------------------------------------------------------- provider-notify
def reminder_state(reminder: dict[str, Any]) -> str:
    """A reminder's state for a reader. Notify marks one not needed only when it falls due, so
    until then "waiting" on an assignment already answered would read as a promise to send it."""
    if reminder["state"] == "waiting" and not reminder["open"]:
        return f"waiting, will not be sent: {reminder['closed_reason']}"
    return str(reminder["state"])


# With whether each is still wanted, as notify's own timers judge it.
REMINDERS = f"""
SELECT r.assignment_id, r.remind_at, r.state, r.reason, r.reminded_at, r.scheduled_at, {OPEN_AND_WHY_NOT}
FROM notify.reminders r JOIN notify.assignments a ON a.assignment_id = r.assignment_id
WHERE r.assignment_id = ANY($2)
"""  # noqa: S608 - the fragment is a constant


async def _notify(conn: asyncpg.Connection, j: Journey) -> None:
    # Not `payload` whole: the assignment as sent holds the patient's contact details.
    rows = await conn.fetch(
        "SELECT assignment_id, provider_id, channel, delivery_state, stage, contact_deadline, attempts,"
        " first_failed_at, delivered_at, expired_at, created_at, trace_headers,"
        " payload::jsonb->>'event_id' AS event_id, payload::jsonb->>'correlation_id' AS correlation_id,"
        " payload::jsonb->>'causation_id' AS causation_id"
        " FROM notify.assignments WHERE referral_id = $1 ORDER BY created_at",
        j.referral_id,
    )
    if not rows:
        return
    ids = [r["assignment_id"] for r in rows]
    attempts = await conn.fetch(
        "SELECT assignment_id, attempt, at, status, error, outcome, elapsed_ms"
        " FROM notify.delivery_attempts WHERE assignment_id = ANY($1) ORDER BY at, attempt",
        ids,
    )
    responses = await conn.fetch(
        "SELECT assignment_id, provider_id, response_id, response, outcome, code, message, received_at"
        " FROM notify.responses WHERE assignment_id = ANY($1) ORDER BY received_at",
        ids,
    )
    reminders = {
        r["assignment_id"]: dict(r)
        for r in await conn.fetch(
            REMINDERS,
            datetime.now(UTC),
            ids,
        )
    }
    assignments = []
    for r in rows:
        a = {k: v for k, v in dict(r).items() if k != "trace_headers"}
        aid = r["assignment_id"]
        trace_id = trace_id_of(r["trace_headers"])
        a |= {
            "trace_id": trace_id,
            "delivery_attempts": [dict(x) for x in attempts if x["assignment_id"] == aid],
            "responses": [dict(x) for x in responses if x["assignment_id"] == aid],
            "reminder": reminders.get(aid),
        }
        assignments.append(a)
        who = r["provider_id"]
        j.steps.append(
            Step(
                r["created_at"],
                NOTIFY,
                f"assignment for {who} ({r['channel']})",
                f"assignment {aid}; contact deadline {_when(r['contact_deadline'])}",
                trace_id,
            )
        )
        for x in a["delivery_attempts"]:
            how = f"HTTP {x['status']}" if x["status"] is not None else (x["error"] or "no answer")
            j.steps.append(
                Step(
                    x["at"],
                    NOTIFY,
                    f"delivery attempt {x['attempt']}: {x['outcome']}",
                    f"to {who}: {how}, {x['elapsed_ms']:.0f} ms",
                    trace_id,
                )
            )
        if r["delivered_at"] is not None and not any(
            x["outcome"] == "delivered" for x in a["delivery_attempts"]
        ):
            delivered = f"delivered ({r['channel']})"
            j.steps.append(Step(r["delivered_at"], NOTIFY, delivered, f"to {who}", trace_id))
        reminder = a["reminder"]
        if reminder is not None and reminder["scheduled_at"] is not None:  # None: not yet scheduled
            due = f"due {_when(reminder['remind_at'])}" if reminder["remind_at"] else reminder["reason"] or ""
            j.steps.append(
                Step(
                    reminder["scheduled_at"],
                    NOTIFY,
                    f"reminder scheduled ({reminder_state(reminder)})",
                    f"to {who}, {due}",
                    trace_id,
                )
            )
            if reminder["reminded_at"] is not None:
                j.steps.append(Step(reminder["reminded_at"], NOTIFY, "reminder sent", f"to {who}", trace_id))
        if r["expired_at"] is not None:
            j.steps.append(
                Step(
                    r["expired_at"],
                    NOTIFY,
                    "contact deadline passed: expired",
                    f"{who} did not answer",
                    trace_id,
                )
            )
        for x in a["responses"]:
            refused = f" ({x['code']}: {x['message']})" if x["outcome"] != "applied" else ""
            j.steps.append(
                Step(
                    x["received_at"],
                    NOTIFY,
                    f"provider: {x['response']}",
                    f"{x['provider_id']}, {x['outcome']}{refused}",
                    trace_id,
                )
            )
    j.held[NOTIFY] = {"assignments": assignments}


def trace_id_of(headers_json: str | None) -> str | None:
    """The trace id of a stored W3C context (`{"traceparent": "00-<trace id>-<span id>-01"}`)."""
    try:
        parent = json.loads(headers_json or "{}").get("traceparent", "")
    except (ValueError, AttributeError):
        return None
    parts = parent.split("-") if isinstance(parent, str) else []
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 and parts[1] != "0" * 32 else None


# -------------------------------------------------------------------------------------- outcomes
async def _outcomes(conn: asyncpg.Connection, j: Journey) -> None:
    episode = await conn.fetchrow(
        "SELECT state, updated_at FROM outcomes.episodes WHERE episode_id = $1", j.episode_id
    )
    assignments = [
        dict(r)
        for r in await conn.fetch(
            "SELECT assignment_id, provider_id, delivered_at FROM outcomes.assignments"
            " WHERE episode_id = $1 ORDER BY delivered_at",
            j.episode_id,
        )
    ]
    refusals = [
        dict(r)
        for r in await conn.fetch(
            "SELECT event_id, event->>'event_type' AS event_type, source, code, message, refused_at"
            " FROM outcomes.refusals WHERE episode_id = $1 ORDER BY refused_at",
            j.episode_id,
        )
    ]
    parked = [
        dict(r)
        for r in await conn.fetch(
            "SELECT event_id, event->>'event_type' AS event_type, parked_at"
            " FROM outcomes.parked WHERE episode_id = $1 ORDER BY seq",
            j.episode_id,
        )
    ]
    if episode is None and not (assignments or refusals or parked):
        return
    state = json.loads(episode["state"]) if episode is not None and episode["state"] else None
    j.held[OUTCOMES] = {
        "episode_id": j.episode_id,
        "episode": state,
        "updated_at": episode["updated_at"] if episode is not None else None,
        "assignments": assignments,
        "refusals": refusals,
        "parked": parked,
    }
    for a in assignments:
        j.steps.append(
            Step(
                a["delivered_at"],
                OUTCOMES,
                f"episode: delivered to {a['provider_id']}",
                f"assignment {a['assignment_id']}",
            )
        )
    for p in parked:
        j.steps.append(
            Step(
                p["parked_at"],
                OUTCOMES,
                "parked until the episode opens",
                f"{p['event_type']} {p['event_id']}",
            )
        )
    for r in refusals:
        j.steps.append(
            Step(
                r["refused_at"],
                OUTCOMES,
                f"refused: {r['code']}",
                f"{r['event_type'] or r['source']} {r['event_id']}: {r['message']}",
            )
        )
    if episode is not None:
        j.steps.append(
            Step(
                episode["updated_at"],
                OUTCOMES,
                "episode last changed",
                describe_episode(state) if state else "not opened yet (events parked for it)",
            )
        )


def describe_episode(state: dict[str, Any]) -> str:
    profile, m = state.get("profile", {}), state.get("milestones", {})
    parts = [f"{profile.get('programme')}, provider {profile.get('provider_id')}"]
    for name in ("accepted", "first_contact", "enrolled", "completed", "dropped_out", "closed"):
        if m.get(f"{name}_on"):
            parts.append(f"{name.replace('_', ' ')} {m[f'{name}_on']}")
    if m.get("sessions_offered"):
        parts.append(f"{m.get('sessions_attended', 0)}/{m['sessions_offered']} sessions attended")
    timepoints = list(dict.fromkeys(r["measures"]["timepoint"] for r in state.get("measure_history", [])))
    if timepoints:
        parts.append(f"measures {', '.join(timepoints)}")
    return ", ".join(parts)


# ----------------------------------------------------------------------------------------- shown
def summaries(j: Journey) -> dict[str, str]:
    """One line per service: what it holds about the referral."""
    out: dict[str, str] = {}
    if held := j.held.get(INTAKE):
        r = held["referral"]
        changes = f"{len(held['status_history'])} status change(s)"
        if r is None:
            out[INTAKE] = f"no referral row, {changes}"
        else:
            out[INTAKE] = (
                f"{r['status']} (revision {r['revision']}), {r['source_type']} referral from "
                f"{r['referrer_ods_code']} as {r['source_system']}:{r['source_referral_id']}; {changes}"
            )
            if r["likely_duplicate_of"]:
                out[INTAKE] += f"; likely duplicate of {r['likely_duplicate_of']}"
    if held := j.held.get(TRIAGE):
        decision = held["referral"]["decision"]
        places = held["placements"]
        reassigned = sum(1 for p in places if p["attempt"] > 1)
        out[TRIAGE] = (
            f"{decision.get('decision')}: {describe_decision(decision)}; {len(places)} placement(s)"
            f" ({reassigned} reassignment(s)); state {held['referral']['state']}"
        )
    if held := j.held.get(NOTIFY):
        lines = []
        for a in held["assignments"]:
            refused = sum(1 for x in a["responses"] if x["outcome"] != "applied")
            reminder = reminder_state(a["reminder"]) if a["reminder"] else "none"
            lines.append(
                f"{a['provider_id']} by {a['channel']}: {a['delivery_state']}, at the provider {a['stage']}, "
                f"{len(a['responses'])} response(s) ({refused} refused), reminder {reminder}"
            )
        out[NOTIFY] = "\n".join(lines)
    if held := j.held.get(OUTCOMES):
        state = held["episode"]
        out[OUTCOMES] = (
            f"episode {held['episode_id']}: "
            + (describe_episode(state) if state else "not opened")
            + f"; {len(held['refusals'])} refused, {len(held['parked'])} parked"
        )
    return out


def _when(at: datetime | None) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M:%S")


def _plain(value: Any) -> Any:
    """`value` with datetimes, UUIDs and the like as JSON strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def show(j: Journey, console: Console) -> None:
    """The journey as tables: what each service holds, then every step in time order."""
    if j.unavailable:
        for service, why in j.unavailable.items():
            console.print(f"[yellow]{service}: {why}", highlight=False)
    held = Table(title=f"Referral {j.referral_id}", show_lines=True)
    held.add_column("service", no_wrap=True)
    held.add_column("holds")
    said = summaries(j)
    for service in SERVICES:
        if service in said:
            held.add_row(service, Text(said[service]))
        else:
            why = j.unavailable.get(service, "nothing about this referral")
            held.add_row(service, Text(why, style="dim"))
    console.print(held)
    steps = Table(title="Journey (UTC)", expand=True)
    steps.add_column("time", no_wrap=True)
    steps.add_column("service", no_wrap=True)
    steps.add_column("what", ratio=2)
    steps.add_column("detail", ratio=3, overflow="fold")
    for s in j.timeline:
        at = s.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        steps.add_row(at, s.service, Text(s.what), Text(s.detail))
    console.print(steps)
    if ids := j.trace_ids:
        console.print(f"Trace id(s): {', '.join(ids)}", highlight=False)
    elif j.held.get(NOTIFY):
        console.print("Trace id(s): none stored (provider-notify ran without tracing)")
    else:
        console.print("Trace id(s): none (trace context is stored with provider-notify's assignments)")
