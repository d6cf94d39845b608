"""triage under load: decisions with capacity reservation, from a backlog; peak RSS.

    uv run python -m bench.triage [--referrals 20000]

Inputs are referral.accepted events across all nine districts and a realistic code mix
(`bench.population.accepted_referrals`); each is decided, placed (capacity reserved under row
locks) and answered with referral.triaged (and assignment.created when placed). Capacity in the
packaged directory is large enough that most are placed. See bench/service_bench.py.
"""

from __future__ import annotations

import argparse

from bench.common import cpu_line, machine_line, provisioned_bench_database
from bench.population import accepted_referrals
from bench.service_bench import Target, add_group_arguments, run_once, warm_up_line

TARGET = Target(
    service="triage",
    module="triage",
    env_prefix="TRIAGE",
    input_topic="referral.accepted.v1",
    answer_topics=("referral.triaged.v1",),
    done_sql="SELECT count(*) FROM referrals",
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--referrals", type=int, default=20000)
    add_group_arguments(parser)
    args = parser.parse_args()
    admin = provisioned_bench_database()
    backlog = run_once(
        TARGET,
        admin,
        lambda: accepted_referrals(args.referrals, seed=1),
        args.referrals,
        None,
        processes=args.processes,
        warm_up_runs=args.warm_up_runs,
    )
    print(machine_line())
    print(warm_up_line(args))
    print(f"triage: {args.referrals} accepted referrals waiting; {args.processes} process(es)")
    print(f"{'decisions/s':>12}{'RSS MB':>9}")
    print(f"{backlog['inputs'] / backlog['elapsed_s']:>12.0f}{backlog['rss_mb']:>9.1f}")
    print(cpu_line("backlog", backlog["cpu_s"], backlog["inputs"]))


if __name__ == "__main__":
    main()
