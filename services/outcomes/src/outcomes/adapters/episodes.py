"""Outcomes' repository: episodes, their KPI facts, parked and refused events, assignments.

A batch's episodes are loaded once (`prefetch`) and held in the transaction, with the KPI fact
stored for each; changed episodes and the facts that changed are written as one statement each
just before commit, and the KPI tallies (see kpi_tallies.py) are moved by the difference between
each episode's stored fact and its new one.

An episode this process holds in memory (see episode_cache.py) is taken from there without a
lock, and checked at commit: it is written only over the version it was taken at, and one only
read must still be stored at that version. A check that fails means another instance wrote it
meanwhile (after a rebalance); the batch is then applied again on what is stored. Any other
episode is locked and read, and locking inserts a bare row for an episode not seen yet, so two
consumers that meet the same new episode serialise on it instead of both creating it: a step
parked while another instance opens the episode is never left behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import NoReturn

import asyncpg
from pydantic import TypeAdapter
from referral_schemas.enums import KpiName
from servicekit.db.uow import UnitOfWork, backref
from servicekit.resilience import ConcurrentChange

from outcomes.adapters.episode_cache import EpisodeCache, Held, new_version
from outcomes.adapters.kpi_tallies import apply_deltas
from outcomes.domain.episode import ActivityRecorded, Episode, Placement, Refused
from outcomes.domain.facts import KpiFact, TallyDeltas, kpi_fact
from outcomes.domain.kpis import KPIS, Contribution

EPISODE_JSON: TypeAdapter[Episode] = TypeAdapter(Episode)
ACTIVITY_JSON: TypeAdapter[ActivityRecorded] = TypeAdapter(ActivityRecorded)


def contribution_columns(kpi: KpiName) -> tuple[str, str]:
    """The fact table's numerator and denominator columns of `kpi`."""
    return f"{kpi.value}_n", f"{kpi.value}_d"


_DIMENSIONS = "episode_id, month, programme, provider_id, district, imd_quintile, ethnic_group, age_band, sex"
_CONTRIBUTIONS = ", ".join(c for kpi in KPIS for c in contribution_columns(kpi.name))
_FACT_FIELDS = f"{_DIMENSIONS}, plus_groups, {_CONTRIBUTIONS}".split(", ")
# Changed facts are copied into a temporary table of the connection's own, then upserted from it
# in one statement. Sent as 30 arrays instead, each element cost the client a type check of
# asyncpg's (about 8 µs a fact in all); a binary COPY encodes each value directly.
_STAGE_FACTS = "CREATE TEMP TABLE IF NOT EXISTS kpi_facts_staged (LIKE kpi_facts) ON COMMIT DELETE ROWS"
_FACT_UPSERT = (
    f"INSERT INTO kpi_facts ({', '.join(_FACT_FIELDS)})"  # noqa: S608 - constants, never input
    f" SELECT {', '.join(_FACT_FIELDS)} FROM pg_temp.kpi_facts_staged"
    " ON CONFLICT (episode_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _FACT_FIELDS if c != "episode_id")
)
# The stored fact of each episode, read with it (null columns where it has none yet).
_FACT_COLUMNS = ", ".join(f"f.{c}" for c in _FACT_FIELDS[1:])


class EpisodeRepository:
    def __init__(self, uow: UnitOfWork, cache: EpisodeCache) -> None:
        self._uow = backref(uow)
        self._cache = cache
        self._known: dict[str, Episode | None] = {}
        self._dirty: dict[str, Episode] = {}
        self._stored_facts: dict[str, KpiFact | None] = {}
        self._unchecked: dict[str, int] = {}  # taken from memory: id -> the version held

    # ------------------------------------------------------------------ episodes
    async def prefetch(self, episode_ids: Iterable[str]) -> None:
        """Load the episodes a batch names: those this process holds from memory, to be checked
        at commit; the others locked (creating bare rows where needed) and read."""
        ids = sorted({i for i in episode_ids if i not in self._known})
        if not ids:
            return
        held = self._cache.snapshot(ids)
        if held:
            for episode_id, hit in held.items():
                self._known[episode_id] = hit.episode
                self._stored_facts[episode_id] = hit.fact
                self._unchecked[episode_id] = hit.version
            self._uow.on_flush(self._flush)
        others = [i for i in ids if i not in held]
        if not others:
            return
        await self._uow.connection.execute(
            "INSERT INTO episodes (episode_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", others
        )
        # Sorted, so that two batches locking overlapping episodes take the locks in one order.
        locked = await self._uow.connection.fetch(
            "SELECT episode_id, version, state FROM episodes WHERE episode_id = ANY($1::text[])"
            " ORDER BY episode_id FOR UPDATE",
            others,
        )
        for row in locked:
            state = row["state"]
            self._known[row["episode_id"]] = None if state is None else EPISODE_JSON.validate_json(state)
        # Read the facts only once the locks are held, in a statement of their own: joined to the
        # locking query, a row that waited for another transaction's lock would be re-checked
        # with the facts as they were before that transaction committed, and the tallies would
        # then count that transaction's change twice.
        facts = await self._uow.connection.fetch(
            f"SELECT e.episode_id, {_FACT_COLUMNS} FROM episodes e"  # noqa: S608
            " LEFT JOIN kpi_facts f ON f.episode_id = e.episode_id WHERE e.episode_id = ANY($1::text[])",
            others,
        )
        for row in facts:
            self._stored_facts[row["episode_id"]] = _stored_fact(row)
        read: list[tuple[str, Held]] = []
        for row in locked:
            episode_id, version = row["episode_id"], row["version"]
            episode = self._known[episode_id]
            if version is not None and episode is not None:
                read.append((episode_id, Held(version, episode, self._stored_facts.get(episode_id))))
        if read:
            self._uow.after_commit(lambda: self._cache.put_all(read))

    async def get(self, episode_id: str) -> Episode | None:
        """The episode (None if not opened yet): read under a lock held until the unit of work
        ends, or taken from memory and checked at commit to be what is stored."""
        if episode_id not in self._known:
            await self.prefetch([episode_id])
        return self._known[episode_id]

    def save(self, episode: Episode) -> None:
        self._known[episode.episode_id] = episode
        self._dirty[episode.episode_id] = episode
        self._uow.on_flush(self._flush)

    async def _flush(self, conn: asyncpg.Connection) -> None:
        episodes = sorted(self._dirty.values(), key=lambda e: e.episode_id)
        self._dirty.clear()
        written_ids = {e.episode_id for e in episodes}
        unchanged = {i: v for i, v in self._unchecked.items() if i not in written_ids}
        if unchanged:
            # Episodes decided on from memory without being changed (a repeat, a refusal):
            # still the state stored, or the decision is taken again on what is.
            current = await conn.fetchval(
                "SELECT count(*) FROM (SELECT 1 FROM episodes e"
                " JOIN unnest($1::text[], $2::bigint[]) AS h(episode_id, version)"
                " ON h.episode_id = e.episode_id AND h.version = e.version"
                " ORDER BY e.episode_id FOR SHARE OF e) AS c",
                list(unchanged),
                list(unchanged.values()),
            )
            if current != len(unchanged):
                self._stale()
        if not episodes:
            return
        version = new_version()
        # An episode taken from memory is written only over the version it was taken at: another
        # instance's write since (after a rebalance), a hand repair or a reset schema make the
        # count fall short, and the batch is applied again on what is stored.
        status = await conn.execute(
            "UPDATE episodes SET state = u.state, version = $4, updated_at = now()"
            " FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(episode_id, state, held)"
            " WHERE episodes.episode_id = u.episode_id AND (u.held IS NULL OR episodes.version = u.held)",
            [e.episode_id for e in episodes],
            [EPISODE_JSON.dump_json(e).decode() for e in episodes],
            [self._unchecked.get(e.episode_id) for e in episodes],
            version,
        )
        if status != f"UPDATE {len(episodes)}":
            self._stale()
        unread = [e.episode_id for e in episodes if e.episode_id not in self._stored_facts]
        if unread:  # saved without being loaded through `prefetch`: read what is stored now
            for row in await conn.fetch(
                f"SELECT f.episode_id, {_FACT_COLUMNS} FROM kpi_facts f"  # noqa: S608
                " WHERE f.episode_id = ANY($1::text[])",
                unread,
            ):
                self._stored_facts[row["episode_id"]] = _stored_fact(row)
        deltas = TallyDeltas()
        facts = []
        for episode in episodes:
            fact = kpi_fact(episode)
            # Most steps (a session attended while the programme runs) change no KPI: then the
            # stored fact stands and the tallies stay as they are.
            if deltas.replace(self._stored_facts.get(episode.episode_id), fact):
                facts.append(fact)
                self._stored_facts[episode.episode_id] = fact
        if facts:
            await conn.execute(_STAGE_FACTS)
            await conn.copy_records_to_table(
                "kpi_facts_staged", schema_name="pg_temp", records=_fact_rows(facts), columns=_FACT_FIELDS
            )
            await conn.execute(_FACT_UPSERT)
            await apply_deltas(conn, deltas)
            await conn.execute(
                "INSERT INTO kpi_dirty (month) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
                sorted(deltas.months),
            )
        written = [(e.episode_id, Held(version, e, self._stored_facts.get(e.episode_id))) for e in episodes]
        self._uow.after_commit(lambda: self._cache.put_all(written))

    def _stale(self) -> NoReturn:
        """Forget what memory held of this batch's episodes, and have the batch applied again."""
        self._cache.forget(self._unchecked)
        raise ConcurrentChange(
            "an episode held in memory is no longer the one stored; the batch is applied again"
        )

    # ------------------------------------------------------------------ assignments
    async def record_assignment(
        self, assignment_id: uuid.UUID, episode_id: str, provider_id: str, delivered_at: datetime
    ) -> None:
        await self._uow.connection.execute(
            "INSERT INTO assignments (assignment_id, episode_id, provider_id, delivered_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            assignment_id,
            episode_id,
            provider_id,
            delivered_at,
        )

    async def latest_provider(self, episode_id: str) -> str | None:
        """The provider the episode's latest assignment reached, if any has."""
        provider: str | None = await self._uow.connection.fetchval(
            "SELECT provider_id FROM assignments WHERE episode_id = $1 ORDER BY delivered_at DESC LIMIT 1",
            episode_id,
        )
        return provider

    async def episode_of_assignment(self, assignment_id: uuid.UUID, provider_id: str) -> str | None:
        """The episode of one of `provider_id`'s assignments; None for anyone else's."""
        episode_id: str | None = await self._uow.connection.fetchval(
            "SELECT episode_id FROM assignments WHERE assignment_id = $1 AND provider_id = $2",
            assignment_id,
            provider_id,
        )
        return episode_id

    # ------------------------------------------------------------------ parked and refused events
    async def park(self, event: ActivityRecorded) -> None:
        await self._uow.connection.execute(
            "INSERT INTO parked (episode_id, event_id, event) VALUES ($1, $2, $3)"
            " ON CONFLICT (event_id) DO NOTHING",
            event.episode_id,
            event.event_id,
            ACTIVITY_JSON.dump_json(event).decode(),
        )

    async def take_parked(self, episode_id: str) -> list[ActivityRecorded]:
        """The events parked for `episode_id`, in arrival order, removed from the parking."""
        rows = await self._uow.connection.fetch(
            "DELETE FROM parked WHERE episode_id = $1 RETURNING seq, event::text", episode_id
        )
        return [ACTIVITY_JSON.validate_json(r["event"]) for r in sorted(rows, key=lambda r: r["seq"])]

    async def refuse(
        self, event_id: uuid.UUID, episode_id: str, refused: Refused, source: str, event_json: str
    ) -> None:
        await self._uow.connection.execute(
            "INSERT INTO refusals (event_id, episode_id, source, code, message, event)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
            event_id,
            episode_id,
            source,
            refused.code.value,
            refused.message,
            event_json,
        )


def _stored_fact(row: asyncpg.Record) -> KpiFact | None:
    """The fact as stored, from its columns; None where the episode has none."""
    if row["month"] is None:
        return None
    return KpiFact(
        episode_id=row["episode_id"],
        placement=Placement(
            month=row["month"],
            programme=row["programme"],
            provider_id=row["provider_id"],
            district=row["district"],
            imd_quintile=row["imd_quintile"],
            ethnic_group=row["ethnic_group"],
            age_band=row["age_band"],
            sex=row["sex"],
            plus_groups=tuple(row["plus_groups"]),
        ),
        contributions=tuple(
            None if row[d] is None else Contribution(row[n], row[d])
            for n, d in (contribution_columns(kpi.name) for kpi in KPIS)
        ),
    )


def _fact_rows(facts: list[KpiFact]) -> list[tuple[object, ...]]:
    rows = []
    for fact in facts:
        p = fact.placement
        row: list[object] = [fact.episode_id, *p[:-1], list(p.plus_groups)]
        for part in fact.contributions:
            row += (None, None) if part is None else (part.numerator, part.denominator)
        rows.append(tuple(row))
    return rows
