"""Round trip of `expertise gedrag` on Teams, next to a bare Microsoft 365 Agents SDK echo bot on the same fake.

    .venv/bin/python bench/teams_roundtrip.py [--messages 300] [--warmup 30]

Starts the fake Bot Connector (tests/fake_teams.py) in this process and two servers, each in its own process
on 127.0.0.1: the real `netwerkbot teams --port …` on a SQLite database of 500 members of whom 60 know about
`gedrag`, and a bare echo bot on the same SDK (CloudAdapter, the SDK's aiohttp hosting, an agent that answers
every message with its text: the floor any bot on this SDK pays, a connector client per turn included). One
client posts personal-chat message activities to both in turn, one at a time, their `serviceUrl` the fake,
and measures from posting to having the 202 with the bot's reply recorded by the fake (both bots answer in
the turn, before the 202). Goal: bot p99 ≤ 1.5 × the echo bot's p99.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.ack_latency import machine
from bot.app import build
from config.settings import Settings
from tests.fake_teams import FakeConnector, Person, TeamsSender
from tests.support import add_expertise, add_member

NETWERKBOT = Path(sys.executable).with_name("netwerkbot")


def echo(port: int) -> None:
    """The floor: a bare SDK bot (anonymous, as netwerkbot without TEAMS_APP_ID) echoing every message."""
    from aiohttp import web
    from microsoft_agents.activity import Activity
    from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware, start_agent_process
    from microsoft_agents.hosting.core import AgentAuthConfiguration, TurnContext
    from microsoft_agents.hosting.core.authorization.connection_manager import ConnectionManager

    from bot.adapters.teams.adapter import token_providers

    config = AgentAuthConfiguration(anonymous_allowed=True)
    adapter = CloudAdapter(connection_manager=ConnectionManager(
        token_providers(), connections_configurations={"SERVICE_CONNECTION": config}))

    class Echo:
        async def on_turn(self, context: TurnContext) -> None:
            if context.activity.type == "message":
                await context.send_activity(Activity(type="message", text=context.activity.text or ""))

    agent = Echo()

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await start_agent_process(request, agent, adapter)  # type: ignore[arg-type]
        return response if response is not None else web.Response(status=202)

    app = web.Application(middlewares=[jwt_authorization_middleware])
    app["agent_configuration"] = config
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", lambda _: web.json_response({"status": "ok"}))  # type: ignore[arg-type,return-value]
    web.run_app(app, host="127.0.0.1", port=port, print=None)


async def populate(database_url: str) -> None:
    bot = build(Settings(database_url=database_url))
    await bot.start()
    try:
        for n in range(500):
            member = await add_member(bot, f"Lid {n:03d}", user_id=f"aad-lid{n}", platform="teams")
            if n % 25 < 3:
                await add_expertise(bot, member, "gedrag", f"Ervaring {n} met gedrag in de klas.")
    finally:
        await bot.stop()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def up(session: aiohttp.ClientSession, port: int) -> None:
    async with asyncio.timeout(120):
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.2)


async def measure(messages: int, warmup: int) -> None:
    fake = await FakeConnector().start()
    folder = Path(tempfile.mkdtemp(prefix="teams-bench-"))
    database = f"sqlite+aiosqlite:///{folder / 'bot.db'}"
    await populate(database)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWERKBOT_", "TEAMS_", "SLACK_"))}
    env |= {"DATABASE_URL": database, "NETWERKBOT_LOG_LEVEL": "WARNING"}
    bot_port, echo_port = free_port(), free_port()
    processes = [
        await asyncio.create_subprocess_exec(str(NETWERKBOT), "teams", "--port", str(bot_port), cwd=folder, env=env,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        await asyncio.create_subprocess_exec(sys.executable, __file__, "--echo", str(echo_port), cwd=folder, env=env,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    times: dict[str, list[float]] = {"echo bot (bare SDK)": [], "netwerkbot expertise gedrag": []}
    try:
        async with aiohttp.ClientSession() as session:
            await up(session, bot_port)
            await up(session, echo_port)
            senders = {"echo bot (bare SDK)": TeamsSender(session, f"http://127.0.0.1:{echo_port}/api/messages", fake),
                       "netwerkbot expertise gedrag": TeamsSender(session, f"http://127.0.0.1:{bot_port}/api/messages",
                                                                  fake)}
            for n in range(warmup + messages):
                asker = Person(f"29:lid{n % 10}", f"aad-lid{n % 10}", f"Lid {n % 10:03d}")
                for label, sender in senders.items():
                    before = len(fake.sent)
                    started = time.perf_counter()
                    response = await sender.message(asker, "expertise gedrag")
                    elapsed = time.perf_counter() - started
                    assert response.status == 202 and len(fake.sent) == before + 1, (label, response.status)
                    if n >= warmup:
                        times[label].append(elapsed * 1000)
    finally:
        for process in processes:
            process.terminate()
            await process.wait()
        await fake.close()
    print(f"{machine()}; {messages} messages each after {warmup} warm-up, interleaved, one fake connector")
    print(f"{'bot':<30} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
    p99s = {}
    for label, values in times.items():
        cuts = statistics.quantiles(values, n=100)
        p99s[label] = cuts[98]
        print(f"{label:<30} {cuts[49]:>8.2f} {cuts[89]:>8.2f} {cuts[98]:>8.2f}")
    ratio = p99s["netwerkbot expertise gedrag"] / p99s["echo bot (bare SDK)"]
    print(f"ratio bot / echo p99: {ratio:.2f}x (goal <= 1.5x: {'met' if ratio <= 1.5 else 'missed'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--echo", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo:
        echo(args.echo)
        return
    asyncio.run(measure(args.messages, args.warmup))


if __name__ == "__main__":
    main()
