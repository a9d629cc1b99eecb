"""Ballots in process: how many presses a second the bot handles, one transaction each or in groups.

    .venv/bin/python bench/ballots.py [--postgres] [--members 1000] [--group 25] [--profile]

The same database as bench/votes.py (1,000 members on Slack, one open vote with a visible tally),
and the same 2,000 presses (every member twice, for another option the second time), handed to the
dispatcher without HTTP: first each in a transaction of its own (`dispatch_kept`, as every press was
handled before issue 19), then, on a fresh database, in groups of `--group` presses per transaction
(`dispatch_kept_together`, as the inbox hands a burst over now: at most `bot.inbox.GROUP`).
Measured: presses a second for each, and the final tally. Goal (issue 19): at least 1,000 presses a second in groups.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ack_latency import machine  # noqa: E402
from bench.postgres import fresh_database  # noqa: E402
from bench.votes import CHANNEL, OPTIONS, build, first_choice, last_choice, user  # noqa: E402
from bot.inbox import GROUP, GROUP_POSTGRES  # noqa: E402


def presses(members: int) -> list[object]:
    from bot.core.inputs import Action, Actor

    start = datetime.now(UTC)
    made: list[object] = []
    for round_, choose in enumerate((first_choice, last_choice)):
        for n in range(members):
            made.append(Action("stemming.stem", f"1:{choose(n)}", Actor("slack", user(n).id, user(n).name),
                               channel=CHANNEL, delivery_id=f"bench:{round_}:{n}",
                               pressed_at=start + timedelta(milliseconds=round_ * 5000 + n)))
    return made


@asynccontextmanager
async def database(postgres: bool, folder: Path, name: str) -> AsyncIterator[str]:
    if postgres:
        async with fresh_database() as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{folder / name}.db"


async def run(url: str, members: int, handle: Callable[[object, list[object]], Awaitable[None]],
              profile: bool) -> tuple[float, list[int]]:
    from bot.app import build as build_bot
    from config.settings import Settings

    await build(url, members)
    bot = build_bot(Settings(_env_file=None, database_url=url))
    await bot.start()
    try:
        made = presses(members)
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        await handle(bot, made)
        took = time.perf_counter() - started
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        async with bot.db.transaction() as repos:
            counts = await repos.votes.tally(1)
    finally:
        await bot.stop()
    return len(made) / took, [counts.get(i, 0) for i in range(len(OPTIONS))]


async def main(args: argparse.Namespace) -> int:
    args.group = args.group or (GROUP_POSTGRES if args.postgres else GROUP)
    expected = [sum(1 for n in range(args.members) if last_choice(n) == i) for i in range(len(OPTIONS))]

    async def one_by_one(bot: object, made: list[object]) -> None:
        for inp in made:
            await bot.dispatch_kept(inp)  # type: ignore[attr-defined]

    async def grouped(bot: object, made: list[object]) -> None:
        for at in range(0, len(made), args.group):
            await bot.dispatch_kept_together(made[at:at + args.group])  # type: ignore[attr-defined]

    print(f"Machine: {machine()}")
    print(f"{2 * args.members} presses of {args.members} members, {'PostgreSQL' if args.postgres else 'SQLite'}\n")
    print("| handled | presses/s | final tally |")
    print("| --- | ---: | --- |")
    rates = {}
    with tempfile.TemporaryDirectory(prefix="ballots-") as folder:
        for name, handle in (("one transaction per press", one_by_one), (f"groups of {args.group}", grouped)):
            async with database(args.postgres, Path(folder), name.split()[0]) as url:
                rate, tally = await run(url, args.members, handle, args.profile and handle is grouped)
            rates[name] = rate
            print(f"| {name} | {rate:.0f} | {tally} {'exact' if tally == expected else 'WRONG'} |")
            if tally != expected:
                return 1
    first, second = rates.values()
    print(f"\ngroups / one by one: {second / first:.1f}x; goal >= 1000 presses/s: "
          f"{'met' if second >= 1000 else 'missed'}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--group", type=int, help="presses per transaction (default: the inbox's)")
    parser.add_argument("--profile", action="store_true")
    sys.exit(asyncio.run(main(parser.parse_args())))
