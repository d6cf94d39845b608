"""referral-intake under load: throughput of a backlog, latency at a steady rate, peak RSS.

    uv run python -m bench.intake [--referrals 20000] [--rate 200] [--seconds 10]

Submissions come from `bench.population` (about 10% with a mistake intake must reject); the
answer to one is its referral.accepted or referral.rejected. See bench/service_bench.py.
"""

from __future__ import annotations

import argparse

from bench.common import cpu_line, machine_line, pct, provisioned_bench_database
from bench.population import submissions
from bench.service_bench import Target, add_group_arguments, run_once, warm_up_line

TARGET = Target(
    service="referral-intake",
    module="referral_intake",
    env_prefix="INTAKE",
    input_topic="referral.submitted.v1",
    answer_topics=("referral.accepted.v1", "referral.rejected.v1"),
    done_sql="SELECT count(*) FROM referrals",
    extra_env=(("INTAKE_ACCEPT_TEST_NHS_NUMBERS", "true"),),
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--referrals", type=int, default=20000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    add_group_arguments(parser)
    args = parser.parse_args()
    admin = provisioned_bench_database()
    paced_count = args.rate * args.seconds
    backlog = run_once(
        TARGET,
        admin,
        lambda: submissions(args.referrals, seed=1),
        args.referrals,
        None,
        processes=args.processes,
        warm_up_runs=args.warm_up_runs,
    )
    paced = run_once(
        TARGET,
        admin,
        lambda: submissions(paced_count, seed=2),
        paced_count,
        args.rate,
        processes=args.processes,
    )
    lats, steady = paced["latencies"], paced["steady_latencies"]
    print(machine_line())
    print(warm_up_line(args))
    print(
        f"referral-intake: {args.referrals} backlog; latency at {args.rate}/s for {args.seconds}s; {args.processes} process(es)"
    )
    print(f"{'referrals/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'RSS MB':>9}{'after 1 s: p50':>16}{'p99':>7}")
    print(
        f"{backlog['inputs'] / backlog['elapsed_s']:>12.0f}{pct(lats, 0.5):>9.1f}{pct(lats, 0.99):>9.1f}"
        f"{max(backlog['rss_mb'], paced['rss_mb']):>9.1f}{pct(steady, 0.5):>16.1f}{pct(steady, 0.99):>7.1f}"
    )
    print(cpu_line("backlog", backlog["cpu_s"], backlog["inputs"]))


if __name__ == "__main__":
    main()
