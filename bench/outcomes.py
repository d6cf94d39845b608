"""outcomes under load: activity ingest from a backlog, and KPI queries over a million episodes.

    uv run python -m bench.outcomes [--episodes 10000] [--events 60000] [--kpi-episodes 1000000]

Ingest: `--episodes` episodes are opened in the database first (as referral.triaged would open
them), then `--events` provider.activity events for them wait on Kafka (contacts, enrolments,
sessions attended and missed, measures); the outcomes process applies each to its episode,
updates the KPI facts and publishes outcome.recorded. Timed as every service benchmark is (see
bench/service_bench.py); peak RSS of the service process.

KPI queries: the facts of the ingested episodes are copied (with new episode ids, spread over
twelve months and every district) to `--kpi-episodes` rows and the KPI tallies recomputed from
them (as the migration's backfill does; the ingest kept them for the episodes it changed, and is
checked to have kept them right), then each breakdown the API and dashboard use is timed over all
of them, five times.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import asyncpg
from outcomes.adapters.unit_of_work import OutcomesUnitOfWork
from outcomes.domain.episode import apply
from outcomes.domain.episode_key import episode_key
from outcomes.domain.from_contracts import episode_opened
from outcomes.entrypoints.dashboard import charts
from outcomes.service_layer.reporting import kpi_cells
from outcomes.settings import LOCAL_EPISODE_KEY_SECRET
from referral_schemas import Envelope, new_envelope
from referral_schemas.enums import District, KpiDimension, ProviderResponseType
from referral_schemas.events.provider import Measures, ProviderActivity
from referral_schemas.examples import example
from referral_schemas.registry import ProviderActivityV1
from servicekit.db.migrate import migrate_service
from servicekit.roles import role_for
from servicekit.settings import dsn_for_role

from bench.common import cpu_line, machine_line, pct, provisioned_bench_database
from bench.service_bench import Target, add_group_arguments, run_once, warm_up_line

TARGET = Target(
    service="outcomes",
    module="outcomes",
    env_prefix="OUTCOMES",
    input_topic="provider.activity.v1",
    answer_topics=("outcome.recorded.v1",),
    done_sql="SELECT count(*) FROM inbox",
    extra_env=(("OUTCOMES_KPI_PUBLISH_INTERVAL_S", "3600"),),
)
REFERRED = date(2026, 3, 2)  # the referral date of the triaged example the episodes open from
SECRET = LOCAL_EPISODE_KEY_SECRET.encode()


def referral_ids(n: int) -> list[uuid.UUID]:
    rng = random.Random(7)
    return [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(n)]


def open_episodes(admin: str, n: int) -> None:
    """`n` episodes opened in the database, as referral.triaged events would open them."""
    migrate_service("outcomes", admin)
    triaged = example("referral.triaged").data
    districts = list(District)

    async def run() -> None:
        role = role_for("outcomes")
        pool = await asyncpg.create_pool(
            dsn_for_role(admin, role.role, role.password()), min_size=1, max_size=2
        )
        assert pool is not None
        try:
            ids = referral_ids(n)
            for start in range(0, n, 5000):
                async with OutcomesUnitOfWork(pool) as uow:
                    chunk = ids[start : start + 5000]
                    await uow.episodes.prefetch(episode_key(SECRET, r) for r in chunk)
                    for i, rid in enumerate(chunk, start):
                        data = triaged.model_copy(update={"district": districts[i % len(districts)]})
                        opened = apply(
                            None, episode_opened(uuid.uuid4(), episode_key(SECRET, rid), data, "active-blaby")
                        )
                        assert not isinstance(opened, Exception)
                        uow.episodes.save(opened)  # type: ignore[arg-type]
                    await uow.commit()
        finally:
            await pool.close()

    asyncio.run(run())


def activity_events(episodes: int, events: int) -> Iterator[Envelope[Any]]:
    """Each episode's steps in order: accepted, contacted, baseline, enrolled, then sessions."""
    template = example("provider.activity").data
    ids = referral_ids(episodes)
    rng = random.Random(11)
    per_episode = max(1, events // episodes)
    baseline = Measures.model_validate_json(
        '{"timepoint": "baseline", "mvpa_minutes_per_week": 40, "activity_index": "inactive", "wellbeing_swemwbs": 20}'
    )
    sent = 0
    for step in range(per_episode):
        for rid in ids:
            if sent == events:
                return
            on = REFERRED + timedelta(days=2 + step)
            match step:
                case 0:
                    kind, extra = ProviderResponseType.ACCEPTED, {}
                case 1:
                    kind, extra = ProviderResponseType.CONTACTED, {}
                case 2:
                    kind, extra = ProviderResponseType.MEASURES_RECORDED, {"measures": baseline}
                case 3:
                    kind, extra = ProviderResponseType.ENROLLED, {"sessions_offered": 12}
                case _:
                    kind = rng.choice(
                        [ProviderResponseType.SESSION_ATTENDED, ProviderResponseType.SESSION_MISSED]
                    )
                    extra = {}
            data = template.model_copy(
                update={
                    "activity": kind,
                    "occurred_on": on,
                    "provider_id": "active-blaby",
                    "measures": None,
                    **extra,
                }
            )
            assert isinstance(data, ProviderActivity)
            yield new_envelope(ProviderActivityV1, data, producer="provider-notify", referral_id=rid)
            sent += 1


async def time_queries(admin: str, rows: int) -> list[tuple[str, float, float]]:
    role = role_for("outcomes")
    conn = await asyncpg.connect(dsn_for_role(admin, role.role, role.password()))
    try:
        for table in ("kpi_tallies", "kpi_value_counts"):
            differ = await conn.fetchval(
                f"SELECT count(*) FROM ((TABLE {table} EXCEPT TABLE {table}_from_facts)"
                f" UNION ALL (TABLE {table}_from_facts EXCEPT TABLE {table})) AS d"
            )
            if differ:
                raise SystemExit(f"{table} kept by the ingest differ from the facts in {differ} rows")
        have = await conn.fetchval("SELECT count(*) FROM kpi_facts")
        copies = max(1, rows // have)
        districts = [d.value for d in District]
        await conn.execute(
            "INSERT INTO kpi_facts SELECT f.episode_id || '-' || g,"
            " '2026-' || lpad((1 + g % 12)::text, 2, '0'), programme, provider_id,"
            " ($2::text[])[1 + (g + length(f.episode_id)) % 9], imd_quintile, ethnic_group, age_band, sex,"
            " plus_groups, "
            + ", ".join(f"f.{c}" for c in await _contribution_columns(conn))
            + " FROM kpi_facts f, generate_series(1, $1) g",
            copies - 1,
            districts,
        )
        started = time.perf_counter()
        async with conn.transaction():
            for table in ("kpi_tallies", "kpi_value_counts"):
                await conn.execute(f"DELETE FROM {table}")
                await conn.execute(f"INSERT INTO {table} SELECT * FROM {table}_from_facts")
        recomputed = time.perf_counter() - started
        await conn.execute("ANALYZE kpi_facts")
        await conn.execute("ANALYZE kpi_tallies")
        await conn.execute("ANALYZE kpi_value_counts")
        total = await conn.fetchval("SELECT count(*) FROM kpi_facts")
        tallies = await conn.fetchval("SELECT count(*) FROM kpi_tallies")
        print(f"KPI tallies recomputed from the facts in {recomputed:.1f} s: {tallies} rows")
        print(f"KPI queries over {total} episodes")
        timings = []
        queries: list[tuple[str, Any]] = [
            (f"by {by}", lambda by=by: kpi_cells(conn, by=by))
            for by in (
                KpiDimension.ALL,
                KpiDimension.PROGRAMME,
                KpiDimension.DISTRICT,
                KpiDimension.PRIORITY_GROUP,
                "month",
            )
        ]
        queries.append(
            ("by district, one month", lambda: kpi_cells(conn, by=KpiDimension.DISTRICT, period="2026-03"))
        )
        queries.append(("dashboard (4 charts)", lambda: charts(conn)))
        # A filter other than the month is answered from the facts, not the tallies.
        queries.append(
            (
                "by programme, one district",
                lambda: kpi_cells(conn, by=KpiDimension.PROGRAMME, filters={KpiDimension.DISTRICT: "melton"}),
            )
        )
        for name, query in queries:
            spent = []
            for _ in range(5):
                start = time.perf_counter()
                await query()
                spent.append((time.perf_counter() - start) * 1000)
            spent.sort()
            timings.append((name, pct(spent, 0.5), spent[-1]))
        return timings
    finally:
        await conn.close()


async def _counts(admin: str) -> tuple[int, int, int]:
    role = role_for("outcomes")
    conn = await asyncpg.connect(dsn_for_role(admin, role.role, role.password()))
    try:
        # The relay deletes what it published, so the inbox says what was applied.
        applied = await conn.fetchval("SELECT count(*) FROM inbox WHERE event_type = 'provider.activity'")
        refused = await conn.fetchval("SELECT count(*) FROM refusals")
        parked = await conn.fetchval("SELECT count(*) FROM parked")
        return applied, refused, parked
    finally:
        await conn.close()


async def _contribution_columns(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'outcomes'"
        " AND table_name = 'kpi_facts' ORDER BY ordinal_position"
    )
    return [r[0] for r in rows][10:]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=10000)
    parser.add_argument("--events", type=int, default=60000)
    parser.add_argument("--kpi-episodes", type=int, default=1_000_000)
    add_group_arguments(parser)
    args = parser.parse_args()
    admin = provisioned_bench_database()
    backlog = run_once(
        TARGET,
        admin,
        lambda: activity_events(args.episodes, args.events),
        args.events,
        None,
        prepare=lambda url: open_episodes(url, args.episodes),
        processes=args.processes,
        warm_up_runs=args.warm_up_runs,
    )
    print(machine_line())
    print(warm_up_line(args))
    print(
        f"outcomes: {args.events} provider.activity events waiting for {args.episodes} open episodes; {args.processes} process(es)"
    )
    print(f"{'events/s':>10}{'RSS MB':>9}")
    print(f"{backlog['inputs'] / backlog['elapsed_s']:>10.0f}{backlog['rss_mb']:>9.1f}")
    print(cpu_line("backlog", backlog["cpu_s"], backlog["inputs"]))
    applied, refused, parked = asyncio.run(_counts(admin))
    print(f"applied {applied}, refused {refused}, parked {parked}")
    if (applied, refused, parked) != (args.events, 0, 0):
        raise SystemExit("not every event was applied: the figure above measures something else")
    timings = asyncio.run(time_queries(admin, args.kpi_episodes))
    print(f"{'query':<26}{'p50 ms':>9}{'max ms':>9}")
    for name, p50, worst in timings:
        print(f"{name:<26}{p50:>9.0f}{worst:>9.0f}")


if __name__ == "__main__":
    main()
