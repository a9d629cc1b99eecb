"""Allocation of a budget round: 40 pitches × 150 schools (goal: under 1 s).

    .venv/bin/python bench/budget.py [--runs 5] [--seed 1] [--ranked]

Costs between € 5.000 and € 60.000 (whole hundreds), a budget of € 400.000; each school approves
each pitch with a probability that depends on the pitch (popular and unpopular pitches, 5 %..50 %).
Reports the time of `handlers.budget.allocation.allocate` (Equal Shares with completion + greedy).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from handlers.budget.allocation import allocate


def instance(seed: int) -> tuple[int, dict[int, int], list[set[int]]]:
    r = random.Random(seed)
    costs = {i: r.randint(50, 600) * 100_00 for i in range(1, 41)}
    popularity = {i: r.uniform(0.05, 0.5) for i in costs}
    ballots = [{p for p in costs if r.random() < popularity[p]} for _ in range(150)]
    return 400_000_00, costs, ballots


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ranked", action="store_true", help="ranked ballots (each school's pitches shuffled)")
    args = parser.parse_args()
    times = []
    for run in range(args.runs):
        budget, costs, approvals = instance(args.seed + run)
        ballots = [random.Random(i).sample(sorted(b), len(b)) for i, b in enumerate(approvals)] if args.ranked \
            else approvals
        start = time.perf_counter()
        result = allocate(budget, costs, ballots, ranked=args.ranked)
        times.append(time.perf_counter() - start)
        print(f"run {run}: {times[-1]:.3f} s, funded {len(result.funded)} (greedy {len(result.greedy)}), "
              f"spent € {result.spent / 100:,.0f} of € {budget / 100:,.0f}")
    print(f"median {statistics.median(times):.3f} s, max {max(times):.3f} s (goal < 1 s)")


if __name__ == "__main__":
    main()
