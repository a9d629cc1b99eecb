"""The search version on PostgreSQL: what reading it costs, by each way of reading it (issue 19, item 2).

    .venv/bin/python bench/version_read.py [--reads 2000]

A cached `/expertise gedrag` needs nothing from PostgreSQL but the committed search version (the
answer may never be older than the database). On a fresh database with the bot's schema, the ways
to read it, interleaved (one read of each in turn, so the machine's load falls on all alike):

| way | what goes over the wire |
| --- | --- |
| transaction (now) | SQLAlchemy session: BEGIN, SELECT, COMMIT (three round trips) |
| autocommit, SQLAlchemy | a connection of its own in AUTOCOMMIT, the same SELECT (one round trip) |
| autocommit, asyncpg prepared | a raw asyncpg connection of its own, a prepared statement (one round trip) |
| floor: asyncpg `SELECT 1` | the cheapest round trip there is, on the same kind of connection |

LISTEN/NOTIFY alone reads nothing, but cannot tell a reader whether a commit's notification is still
under way; the script measures that window (commit → notification received), which is how long an
answer could be older than the database if the version came from notifications alone.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # type: ignore[import-untyped]  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.ack_latency import machine  # noqa: E402
from bench.postgres import fresh_database  # noqa: E402

VERSION = "SELECT version, terms FROM search_state WHERE id = 1"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def main(args: argparse.Namespace) -> int:
    from bot.app import build
    from config.settings import Settings
    from storage.models import SearchState

    async with fresh_database() as url:
        bot = build(Settings(_env_file=None, database_url=url))
        await bot.start()
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        raw = await asyncpg.connect(dsn)
        listener = await asyncpg.connect(dsn)
        writer = await asyncpg.connect(dsn)
        prepared = await raw.prepare(VERSION)
        autocommit = await bot.db.engine.connect()
        autocommit = await autocommit.execution_options(isolation_level="AUTOCOMMIT")
        try:
            async def session() -> None:
                async with bot.db.transaction() as repos:
                    await repos.expertise.search_state()

            async def sqlalchemy_autocommit() -> None:
                (await autocommit.execute(select(SearchState.version, SearchState.terms))).one()

            async def asyncpg_prepared() -> None:
                await prepared.fetchrow()

            async def floor() -> None:
                await raw.fetchval("SELECT 1")

            ways: dict[str, Callable[[], Awaitable[None]]] = {
                "transaction (now)": session, "autocommit, SQLAlchemy": sqlalchemy_autocommit,
                "autocommit, asyncpg prepared": asyncpg_prepared, "floor: asyncpg SELECT 1": floor}
            timed: dict[str, list[float]] = {name: [] for name in ways}
            for n in range(args.reads + 100):
                for name, read in ways.items():
                    started = time.perf_counter()
                    await read()
                    if n >= 100:
                        timed[name].append((time.perf_counter() - started) * 1000)

            heard: asyncio.Queue[float] = asyncio.Queue()
            await listener.add_listener("search_version", lambda *_: heard.put_nowait(time.perf_counter()))
            lag = []
            for _ in range(200):
                async with writer.transaction():
                    await writer.execute("UPDATE search_state SET version = version + 1 WHERE id = 1")
                    await writer.execute("NOTIFY search_version")
                committed = time.perf_counter()
                lag.append((await heard.get() - committed) * 1000)
        finally:
            await autocommit.close()
            for connection in (raw, listener, writer):
                await connection.close()
            await bot.stop()
        server = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/postgres")
        version = await server.fetchval("SHOW server_version")
        await server.close()

    print(f"Machine: {machine()}; PostgreSQL {version}\n")
    print(f"{args.reads} reads of each way, interleaved, after 100 warm-up:\n")
    print("| way | p50 ms | p90 ms | p99 ms | p99 / floor p99 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    floor_p99 = pct(timed["floor: asyncpg SELECT 1"], 99)
    for name, ms in timed.items():
        print(f"| {name} | {statistics.median(ms):.3f} | {pct(ms, 90):.3f} | {pct(ms, 99):.3f} | "
              f"{pct(ms, 99) / floor_p99:.2f}x |")
    print(f"\nLISTEN/NOTIFY: commit -> notification received, 200 commits: p50 {statistics.median(lag):.3f} ms, "
          f"p99 {pct(lag, 99):.3f} ms, max {max(lag):.3f} ms (an answer from notifications alone could be this "
          "much older than the database)")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=2000)
    sys.exit(asyncio.run(main(parser.parse_args())))
