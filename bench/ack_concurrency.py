"""/expertise gedrag from 50 clients at once: the bot's ack p99 against the bolt floor under the same load.

    .venv/bin/python bench/ack_concurrency.py [--postgres] [--clients 50] [--requests 20] [--rounds 3]

The database of bench/ack_latency.py (10,000 members, 50,000 entries). Two servers, each in its own
process on 127.0.0.1 with its Web API on the fake Slack: the process_before_response bolt floor (a
bare AsyncApp that only acks) and the real `netwerkbot slack`. A round sends `--clients` clients
(one keep-alive connection each) `--requests` signed `/expertise gedrag` each, all clients at once,
to one server; rounds alternate between the two servers (floor, bot, floor, bot, …) so that
whatever else the machine does falls on both alike. Latency is measured by the client.
Goal (issue 19, item 5): bot p99 <= 2 x the floor's p99 under the same 50-client load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ack_latency import (  # noqa: E402
    NETWERKBOT,
    SCRIPT,
    SECRET,
    USERS,
    Server,
    build_database,
    free_port,
    machine,
    signed_command,
)
from bench.postgres import fresh_database  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402

GOAL = 2.0


async def round_of(port: int, clients: int, requests: int, into: list[float], statuses: dict[int, int]) -> None:
    async def client(number: int) -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
            for n in range(requests):
                body, headers = signed_command(1 + (number + n) % USERS)
                started = time.perf_counter()
                async with session.post(f"http://127.0.0.1:{port}/slack/events", data=body,
                                        headers=headers) as response:
                    await response.read()
                into.append((time.perf_counter() - started) * 1000)
                statuses[response.status] = statuses.get(response.status, 0) + 1

    await asyncio.gather(*(client(c) for c in range(clients)))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def main(args: argparse.Namespace) -> int:
    fake = await FakeSlack().start()
    for user in range(1, USERS + 1):
        fake.add_user(f"U{user:08d}", f"Lid {user}", title="IB-er")
    print(f"Machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="ack-concurrency-") as folder:
        async with contextlib.AsyncExitStack() as stack:
            url = (await stack.enter_async_context(fresh_database()) if args.postgres
                   else f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
            await build_database(url, random.Random(20261124))
            env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWERKBOT_", "SLACK_"))}
            env |= {"DATABASE_URL": url, "SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": SECRET,
                    "NETWERKBOT_SLACK_API_URL": fake.url, "NETWERKBOT_LOG_LEVEL": "WARNING"}
            floor_port, bot_port = free_port(), free_port()
            floor = Server("bolt floor, process_before_response", [sys.executable, SCRIPT, "--floor", "fast", "--port",
                                                                    str(floor_port), "--api-url", fake.url], floor_port)
            bot = Server("netwerkbot /expertise gedrag", [str(NETWERKBOT), "slack", "--port", str(bot_port)], bot_port)
            measured: dict[str, list[float]] = {floor.name: [], bot.name: []}
            statuses: dict[str, dict[int, int]] = {floor.name: {}, bot.name: {}}
            log = Path(folder) / "servers.log"
            try:
                for server in (floor, bot):
                    await server.start(env, log)
                    await round_of(server.port, args.clients, 2, [], {})  # warm-up: connections, caches
                for _ in range(args.rounds):
                    for server in (floor, bot):
                        await round_of(server.port, args.clients, args.requests, measured[server.name],
                                       statuses[server.name])
            finally:
                for server in (floor, bot):
                    await server.stop()
    await fake.close()
    print(f"{args.clients} clients x {args.requests} requests at once, {args.rounds} rounds per server, alternating, "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}:\n")
    print("| server | requests | p50 ms | p90 ms | p99 ms | max ms | statuses |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, ms in measured.items():
        print(f"| {name} | {len(ms)} | {pct(ms, 50):.1f} | {pct(ms, 90):.1f} | {pct(ms, 99):.1f} | {max(ms):.1f} | "
              f"{statuses[name]} |")
    ratio = pct(measured[bot.name], 99) / pct(measured[floor.name], 99)
    print(f"\nbot p99 / floor p99 = {ratio:.2f}x (goal <= {GOAL:.0f}x: {'met' if ratio <= GOAL else 'MISSED'})")
    return 0 if all(set(s) == {200} for s in statuses.values()) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    sys.exit(asyncio.run(main(parser.parse_args())))
