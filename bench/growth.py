"""How the bot's costs grow: the same measures at 1,000, 10,000 and 100,000 members / entries / occurrences.

    .venv/bin/python bench/growth.py [--postgres] [--sizes 1000,10000,100000] [--rounds 6]

For each size N a fresh database gets N members, N expertise entries (over as many holders, as
bench/search.py builds them: ~60 topics, Dutch descriptions, a long tail of compounds) and N pending
occurrences weeks ahead. Then, in a fresh process:

  * start-up: `build()`, schema check, `keep_time()` until the first wake-up is done (as bench/scheduler.py);
  * ack: `/expertise gedrag` dispatched in-process (one transaction: member, search, reply) from 100
    users, a few often and most now and then (bench/ack_latency.py --spread zipf), against the floor of
    the same dispatcher answering `/expertise help` (member, transaction, no search);
  * warm search: the query mix of bench/search.py, each asked before;
  * cold search: the first search after an entry it finds was changed (bench/search.py, mode cold);
  * RSS: the process's peak after all of it.

Each measure is one table over the sizes, with the growth from one size to the next (10× more data).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KIND = "bench.growth"
USERS = 100


async def fill(url: str, size: int) -> None:
    from sqlalchemy import insert

    from bench.search import Scale, build_large
    from storage.db import Database
    from storage.models import Occurrence

    db = Database(url)
    await db.upgrade()
    await build_large(db, random.Random(size), Scale(size, size, max(1, size // 100)))
    start = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    async with db.transaction() as repos:
        for first in range(0, size, 5000):
            await repos.session.execute(insert(Occurrence), [
                {"key": f"growth:{n}", "kind": KIND, "payload": "{}", "due_at": start + timedelta(minutes=n),
                 "expires_at": None, "state": "pending"} for n in range(first, min(size, first + 5000))])
    await db.dispose()


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def measure(url: str, size: int, rounds: int) -> dict[str, float]:
    """In a fresh process: start-up, ack and floor, warm and cold search, RSS."""
    started = time.perf_counter()
    from bench.ack_latency import arguments, askers
    from bench.search import PAGE, Scale, time_searches
    from bot.app import build
    from bot.core.clock import SystemClock
    from bot.core.inputs import Actor, Command
    from bot.core.reply import Reply
    from config.settings import Settings
    from handlers.context import JobContext
    from handlers.expertise import ExpertiseSearch, load_synonyms

    imports = time.perf_counter() - started

    class Quiet:
        async def send(self, channel: str, reply: Reply) -> str:
            return ""

        async def update(self, channel: str, ref: str, reply: Reply) -> None:
            return None

    async def nothing(ctx: JobContext) -> None:
        return None

    settings = Settings(_env_file=None, database_url=url)
    started = time.perf_counter()
    bot = build(settings, clock=SystemClock(settings.zone))
    bot.registry.jobs[KIND] = nothing
    await bot.start()
    await bot.keep_time(Quiet())
    await bot.timekeeper.ticked.wait()
    result = {"start": time.perf_counter() - started, "imports": imports}
    try:
        plan = askers(arguments(["--users", str(USERS), "--spread", "zipf", "--warmup", "100",
                                 "--requests", str(100 * rounds)]))
        timings: dict[str, list[float]] = {"ack": [], "floor": []}
        for n, user in enumerate(plan):
            for name, text in (("ack", "gedrag"), ("floor", "help")):
                actor = Actor("console", f"U{user:05d}", f"Lid {user}")
                begun = time.perf_counter()
                await bot.dispatcher.dispatch(Command("expertise", text, actor))
                if n >= 100:
                    timings[name].append((time.perf_counter() - begun) * 1000)
        search = ExpertiseSearch(load_synonyms(settings.synonyms_file))
        warm = await time_searches(bot.db, search, rounds, random.Random(7))
        scale = Scale(size, size, max(1, size // 100))
        cold = await time_searches(bot.db, search, max(1, rounds // 2), random.Random(7), mode="cold", scale=scale)
        result |= {"ack": p99(timings["ack"]), "floor": p99(timings["floor"]),
                   "ack50": statistics.median(timings["ack"]), "warm": p99([t.ms for t in warm]),
                   "warm50": statistics.median(t.ms for t in warm),
                   "cold": p99([t.ms for t in cold]), "cold50": statistics.median(t.ms for t in cold),
                   "page": float(PAGE)}
    finally:
        await bot.stop()
    result["rss"] = peak_rss_mb()
    return result


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's at the fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


TABLES = (
    ("Start-up (build, schema check, first wake-up), s", "start", "{:.2f}"),
    ("Ack: `/expertise gedrag` dispatched, p50 ms", "ack50", "{:.2f}"),
    ("Ack: `/expertise gedrag` dispatched, p99 ms", "ack", "{:.2f}"),
    ("Floor: `/expertise help` dispatched, p99 ms", "floor", "{:.2f}"),
    ("Ack / floor (p99)", "ratio", "{:.2f}×"),
    ("Warm search, p50 ms", "warm50", "{:.2f}"),
    ("Warm search, p99 ms", "warm", "{:.2f}"),
    ("Cold search (first after a change it shows), p50 ms", "cold50", "{:.2f}"),
    ("Cold search (first after a change it shows), p99 ms", "cold", "{:.2f}"),
    ("Peak RSS, MB", "rss", "{:.0f}"),
)


def report(label: str, results: dict[int, dict[str, float]]) -> None:
    sizes = sorted(results)
    for row in results.values():
        row["ratio"] = row["ack"] / row["floor"]
    print(f"\n### {label}")
    for title, key, fmt in TABLES:
        print(f"\n| {title} | " + " | ".join(f"{s:,}" for s in sizes) + " | growth per step |")
        print("| --- | " + " | ".join("---:" for _ in sizes) + " | ---: |")
        values = [results[s][key] for s in sizes]
        steps = [f"{b / a:.2f}×" for a, b in itertools.pairwise(values) if a > 0]
        print(f"| {label} | " + " | ".join(fmt.format(v) for v in values) + f" | {', '.join(steps)} |")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--postgres", action="store_true", help="also on a fresh local PostgreSQL database")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(await measure(args.child, args.size, args.rounds)))
        return 0
    from bench.postgres import fresh_database

    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="growth-") as tmp:
        for label in ("SQLite", *(["PostgreSQL"] if args.postgres else [])):
            results: dict[int, dict[str, float]] = {}
            for size in sizes:
                async with contextlib_database(label, tmp, size, fresh_database) as url:
                    await fill(url, size)
                    child = await asyncio.create_subprocess_exec(
                        sys.executable, __file__, "--child", url, "--size", str(size), "--rounds", str(args.rounds),
                        stdout=asyncio.subprocess.PIPE)
                    output, _ = await child.communicate()
                    assert child.returncode == 0, output
                    results[size] = json.loads(output.decode().strip().splitlines()[-1])
                    print(f"{label} {size:,}: {results[size]}", file=sys.stderr)
            report(label, results)
    return 0


def contextlib_database(label: str, tmp: str, size: int, fresh: Any) -> Any:
    @contextlib.asynccontextmanager
    async def sqlite() -> Any:
        yield f"sqlite+aiosqlite:///{tmp}/growth-{size}.db"

    return fresh() if label == "PostgreSQL" else sqlite()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
