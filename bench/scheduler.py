"""Scheduled occurrences: start-up time, resident memory and fire lateness, against plain APScheduler.

    .venv/bin/python bench/scheduler.py [--postgres] [--occurrences 10000] [--due 1000] [--window 10]

The bot: a database with `--occurrences` pending occurrences spread over 50 channels (series);
`--due` of them fall due within the next `--window` seconds, evenly spread, the rest in the coming
weeks. Then, in a fresh process, the real runtime starts: `build()`, schema check, `keep_time()`
(plan, APScheduler, first catch-up wake-up); each occurrence's job writes an outbox message that
the outbox hands to a recording sender. Measured: start-up (from `build()` until the first
wake-up is done, and the imports before it), peak RSS of the process, and lateness = the moment
the sender got the message − the moment it was due, for every due occurrence (each must arrive
exactly once).

The baseline, in its own process: APScheduler 3's AsyncIOScheduler with the same occurrences as
in-memory DateTrigger jobs (no database, nothing survives a restart), the job recording its lateness.

Goals: start < 2 s, RSS < 150 MB, lateness p99 < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHANNELS = 50
KIND = "bench.fire"


def plan(occurrences: int, due: int, window: float, start: float) -> list[tuple[str, str, float]]:
    """(key, channel, due as a unix time): `due` of them within the window, the rest weeks ahead."""
    rows = []
    for n in range(occurrences):
        # the due ones evenly over the window; the rest spread over the coming two months
        at = start + window * (n + 0.5) / due if n < due else start + 86_400 * (1 + n % 60) + n
        rows.append((f"bench:{n}", f"C{n % CHANNELS:03d}", at))
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_bot(url: str, rows: list[tuple[str, str, float]], expect: int) -> dict[str, Any]:
    imported = time.perf_counter()
    from bot.app import build
    from bot.core.clock import SystemClock
    from bot.core.reply import Reply, Text
    from config.settings import Settings
    from handlers.context import JobContext
    import_seconds = time.perf_counter() - imported

    settings = Settings(_env_file=None, database_url=url)
    arrived: dict[str, float] = {}
    doubles = 0
    done = asyncio.Event()

    class Recorder:
        async def send(self, channel: str, reply: Reply) -> str:
            nonlocal doubles
            key = reply.plain()
            doubles += key in arrived
            arrived[key] = time.time()
            if len(arrived) >= expect:
                done.set()
            return key

        async def update(self, channel: str, ref: str, reply: Reply) -> None:
            raise AssertionError("the benchmark updates nothing")

    async def fire(ctx: JobContext) -> None:
        await ctx.post(ctx.due.payload["channel"], Reply((Text(ctx.due.key),)))

    started = time.perf_counter()
    bot = build(settings, clock=SystemClock(settings.zone))
    bot.registry.jobs[KIND] = fire
    await bot.start()
    await bot.keep_time(Recorder())
    await bot.timekeeper.ticked.wait()
    start_seconds = time.perf_counter() - started
    try:
        await asyncio.wait_for(done.wait(), timeout=120)
    finally:
        await bot.stop()
    due = {key: at for key, _, at in rows}
    late = [arrived[key] - due[key] for key in arrived]
    return {"start": start_seconds, "imports": import_seconds, "rss": rss_mb(), "late": late, "count": len(arrived),
            "doubles": doubles}


async def run_aps(rows: list[tuple[str, str, float]], expect: int) -> dict[str, Any]:
    imported = time.perf_counter()
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.date import DateTrigger
    import_seconds = time.perf_counter() - imported
    late: list[float] = []
    done = asyncio.Event()

    async def fire(due: float) -> None:
        late.append(time.time() - due)
        if len(late) >= expect:
            done.set()

    started = time.perf_counter()
    aps = AsyncIOScheduler(timezone=UTC)
    for key, _, at in rows:
        aps.add_job(fire, DateTrigger(run_date=datetime.fromtimestamp(at, UTC)), args=(at,), id=key,
                    misfire_grace_time=None)
    aps.start()
    start_seconds = time.perf_counter() - started
    await asyncio.wait_for(done.wait(), timeout=120)
    aps.shutdown(wait=False)
    return {"start": start_seconds, "imports": import_seconds, "rss": rss_mb(), "late": late, "count": len(late),
            "doubles": 0}


async def fill(url: str, rows: list[tuple[str, str, float]]) -> None:
    from sqlalchemy import insert

    from bot.app import build
    from config.settings import Settings
    from storage.models import Occurrence

    bot = build(Settings(_env_file=None, database_url=url))
    await bot.start()
    async with bot.db.transaction() as repos:
        for start in range(0, len(rows), 2000):
            await repos.session.execute(insert(Occurrence), [
                {"key": key, "kind": KIND, "payload": json.dumps({"channel": channel}),
                 "due_at": datetime.fromtimestamp(at, UTC), "expires_at": None, "state": "pending"}
                for key, channel, at in rows[start:start + 2000]])
    await bot.stop()


def child(variant: str, url: str, rows_file: str, rows: list[tuple[str, str, float]], expect: int) -> dict[str, Any]:
    Path(rows_file).write_text(json.dumps(rows))
    output = subprocess.run([sys.executable, __file__, "--child", variant, "--url", url, "--rows", rows_file,
                             "--expect", str(expect)], check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


async def measure(args: argparse.Namespace, url: str, tmp: str) -> dict[str, dict[str, Any]]:
    # the due ones start a few seconds ahead: after filling and starting the child process
    lead = 8.0
    rows_file = os.path.join(tmp, "rows.json")
    rows = plan(args.occurrences, args.due, args.window, time.time() + lead)
    await fill(url, rows)
    bot = await asyncio.to_thread(child, "bot", url, rows_file, rows, args.due)
    rows = plan(args.occurrences, args.due, args.window, time.time() + lead)
    aps = await asyncio.to_thread(child, "aps", url, rows_file, rows, args.due)
    results = {"netwerkbot (database, outbox)": bot, "APScheduler alone (memory jobs)": aps}
    return results


async def on_postgres(args: argparse.Namespace, tmp: str) -> dict[str, dict[str, Any]]:
    from bench.postgres import fresh_database

    async with fresh_database() as url:
        return await measure(args, url, tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--occurrences", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--child", choices=["bot", "aps"])
    parser.add_argument("--url", default="")
    parser.add_argument("--rows", default="")
    parser.add_argument("--expect", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        import logging

        logging.basicConfig(level=logging.WARNING)
        rows = [tuple(row) for row in json.loads(Path(args.rows).read_text())]
        work = run_bot(args.url, rows, args.expect) if args.child == "bot" else run_aps(rows, args.expect)
        print(json.dumps(asyncio.run(work)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            results = asyncio.run(on_postgres(args, tmp))
        else:
            results = asyncio.run(measure(args, f"sqlite+aiosqlite:///{tmp}/bench.db", tmp))

    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{args.occurrences} occurrences over {CHANNELS} channels, {args.due} due within {args.window:.0f} s; "
          f"{database}; Python {sys.version.split()[0]}")
    print(f"{'':34} {'start s':>8} {'imports s':>9} {'RSS MB':>7} {'sent':>5} {'twice':>5} "
          f"{'late p50 ms':>11} {'late p99 ms':>11} {'late max ms':>11}")
    for name, r in results.items():
        late = r["late"]
        print(f"{name:34} {r['start']:8.3f} {r['imports']:9.3f} {r['rss']:7.1f} {r['count']:5d} {r['doubles']:5d} "
              f"{statistics.median(late) * 1000:11.1f} {percentile(late, 0.99) * 1000:11.1f} "
              f"{max(late) * 1000:11.1f}")
    bot, aps = results["netwerkbot (database, outbox)"], results["APScheduler alone (memory jobs)"]
    p99 = percentile(bot["late"], 0.99)
    print(f"ratio to APScheduler alone: start {bot['start'] / aps['start']:.1f}x, RSS {bot['rss'] / aps['rss']:.2f}x, "
          f"late p99 {p99 / max(percentile(aps['late'], 0.99), 1e-6):.1f}x")
    print(f"goals: start < 2 s {'met' if bot['start'] < 2 else 'MISSED'}; RSS < 150 MB "
          f"{'met' if bot['rss'] < 150 else 'MISSED'}; late p99 < 1 s {'met' if p99 < 1 else 'MISSED'}; "
          f"every due occurrence once: {'yes' if bot['count'] == args.due and not bot['doubles'] else 'NO'}")


if __name__ == "__main__":
    main()
