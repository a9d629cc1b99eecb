"""Two or more versions of the bot, side by side: each request in turn to each, CPU per request and latency.

    .venv/bin/python bench/ab_trees.py 3000 /tmp/before /tmp/after /tmp/before2 /tmp/after2

Each argument after the count is a source tree (e.g. `git archive <commit> | tar -x -C /tmp/before`), served by the
real `netwerkbot slack` on its own copy of bench/ack_latency.py's PostgreSQL database (10,000 members, 50,000 entries;
`SQLITE=1` for SQLite) with that tree first on PYTHONPATH. Every asker of `USERS` (100, zipf) asks once and their
profiles are stored before the timing, as `ack_latency.py --seen` does. Then each request goes to every server in
turn, so that whatever else the machine does falls on all alike, and each server's CPU time (user and system, from
/proc) is read before and after. CPU per request is steadier than a p99 on a shared machine: two copies of one tree
came out at 1.260 and 1.257 ms a request. Name a tree twice (copies) to see how far apart equal ones come out; with
four servers each one's caches are as cold between its requests as in ack_latency.py's run of five.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ack_latency import (  # noqa: E402
    NETWERKBOT,
    SECRET,
    Server,
    askers,
    build_database,
    copy_sqlite,
    fake_slack_process,
    free_port,
    profiles_fetched,
)
from bench.postgres import fresh_database  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402

WARM = 200  # requests to each server after every asker's first, before the timing


def cpu_ticks(pid: int) -> int:
    """User and system time of a process so far, in clock ticks (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


async def main(requests: int, trees: list[str]) -> None:
    users = int(os.environ.get("USERS", "100"))
    folder = Path(tempfile.mkdtemp(prefix="ab-trees-"))
    async with contextlib.AsyncExitStack() as stack:
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}" if os.environ.get("SQLITE") \
            else await stack.enter_async_context(fresh_database())
        _, names = await build_database(url, random.Random(20261124))
        profiles = [(f"U{u:08d}", names[u] if u % 2 == 0 else f"Lid {u}", "" if u % 2 == 0 else "IB-er")
                  for u in range(1, users + 1)]
        api_url = await stack.enter_async_context(fake_slack_process(profiles))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWERKBOT_", "SLACK_"))}
        env |= {"SLACK_BOT_TOKEN": FakeSlack().token, "SLACK_SIGNING_SECRET": SECRET,
                "NETWERKBOT_SLACK_API_URL": api_url}
        urls = [url if n == 0 else copy_sqlite(url, folder / f"copy{n}.db") if os.environ.get("SQLITE")
                else await stack.enter_async_context(fresh_database(template=url)) for n in range(len(trees))]
        servers = []
        for tree, database in zip(trees, urls, strict=True):
            port = free_port()
            server = Server(tree, [str(NETWERKBOT), "slack", "--port", str(port)], port)
            await server.start(env | {"PYTHONPATH": tree, "DATABASE_URL": database}, folder / "servers.log")
            servers.append(server)
        try:
            for user in range(1, users + 1):
                for server in servers:
                    await server.request(user, keep=False)
            await profiles_fetched(urls, users)
            asks = askers(argparse.Namespace(warmup=WARM, requests=requests, users=users, spread="zipf", seen=False))
            for user in asks[:WARM]:
                for server in servers:
                    await server.request(user, keep=False)
            before = [cpu_ticks(server.process.pid) for server in servers if server.process is not None]
            for user in asks[WARM:]:
                for server in servers:
                    await server.request(user, keep=True)
            after = [cpu_ticks(server.process.pid) for server in servers if server.process is not None]
        finally:
            for server in servers:
                await server.stop()
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    for server, start, end in zip(servers, before, after, strict=True):
        result = server.result()
        print(f"{server.name:24} CPU {(end - start) * tick_ms / requests:.3f} ms a request   p50 {result.pct(50):.3f}"
              f"  p90 {result.pct(90):.3f}  p99 {result.pct(99):.3f} ms   {result.statuses}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2:]))
