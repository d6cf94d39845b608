"""A provider's assignments, a page at a time, newest first: summaries for triaging work.

Read by keyset on the index assignments_by_provider_arrival (provider_id, created_at,
assignment_id): a page is one backward range scan of the provider's entries from the cursor,
whatever the page's depth. No patient details: the programme is read out of the stored event, the
rest of it stays for the single assignment's view.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from provider_notify.domain.listing import ListQuery, Position

_SELECT = """
SELECT a.assignment_id, a.referral_id, a.payload::jsonb #>> '{data,programme}' AS programme, a.stage,
    a.delivery_state, a.contact_deadline, a.created_at, a.delivered_at, r.reminded_at,
    w.payload::jsonb -> 'data' AS withdrawal
FROM assignments a
LEFT JOIN reminders r ON r.assignment_id = a.assignment_id
LEFT JOIN withdrawals w ON w.assignment_id = a.assignment_id
WHERE a.provider_id = $1"""


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def page_query(provider_id: str, query: ListQuery) -> tuple[str, list[Any]]:
    """The statement reading one page (one row more than the page, to tell if another follows)
    and its arguments. Only the filters given are written in: a `$n IS NULL OR ...` would keep
    a prepared statement's generic plan from bounding the index scan by `since` and the cursor."""
    sql = [_SELECT]
    args: list[Any] = [provider_id]
    if query.stages is not None:
        args.append([s.value for s in query.stages])
        sql.append(f"AND a.stage = ANY(${len(args)}::text[])")
    if query.since is not None:
        args.append(query.since)
        sql.append(f"AND a.created_at >= ${len(args)}")
    if query.after is not None:
        args += [query.after.arrived_at, query.after.assignment_id]
        sql.append(f"AND (a.created_at, a.assignment_id) < (${len(args) - 1}, ${len(args)})")
    args.append(query.limit + 1)
    sql.append(f"ORDER BY a.created_at DESC, a.assignment_id DESC LIMIT ${len(args)}")
    return "\n".join(sql), args


async def list_assignments(
    conn: asyncpg.Connection, provider_id: str, query: ListQuery
) -> tuple[list[dict[str, Any]], Position | None]:
    """One page of `provider_id`'s assignments, and where the next begins (None: this is the last)."""
    sql, args = page_query(provider_id, query)
    rows = await conn.fetch(sql, *args)
    page = rows[: query.limit]
    items = []
    for row in page:
        withdrawal = json.loads(row["withdrawal"]) if row["withdrawal"] else None
        items.append(
            {
                "assignment_id": str(row["assignment_id"]),
                "referral_id": str(row["referral_id"]),
                "programme": row["programme"],
                "stage": row["stage"],
                "delivery_state": row["delivery_state"],
                "contact_deadline": _iso(row["contact_deadline"]),
                "arrived_at": _iso(row["created_at"]),
                "delivered_at": _iso(row["delivered_at"]),
                "reminded_at": _iso(row["reminded_at"]),
                "withdrawal": {
                    "reason": withdrawal["reason"],
                    "withdrawn_at": withdrawal["withdrawn_at"],
                    "stage_reached": withdrawal["stage_reached"],
                }
                if withdrawal
                else None,
            }
        )
    more = len(rows) > query.limit
    last = page[-1] if page else None
    after = Position(last["created_at"], last["assignment_id"]) if more and last is not None else None
    return items, after
