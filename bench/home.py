"""Opening Slack's Home tab: the time from a signed `app_home_opened` to the `views.publish` of the overview.

    .venv/bin/python bench/home.py [--postgres] [--opens 200] [--warmup 20]

The database of bench/ack_latency.py (10,000 members, 80 % on Slack, 50,000 expertise entries), plus three
open votes per member and one budget-free meeting file (the default series). The real Slack adapter
serves signed HTTP on 127.0.0.1 in this process, its Web API on the fake Slack of tests/fake_slack.py
(which records every call with its arrival time); the refresher runs as in production (at most once a
second per member, watching who opened Home in the last 15 minutes).

Each of `--opens` distinct members opens Home once, sequentially; measured on the client: from sending
the signed event to the fake receiving that member's views.publish. Every member who opened Home stays
watched, so later openings share the machine with the re-renders the earlier ones cause (each profile
fetched writes, and every write re-renders the watched views): the realistic case of many people
looking at once.

The floor, measured the same way in the same run, interleaved: a bare bolt AsyncApp on the same fake
Web API whose `app_home_opened` listener acks and publishes one precomputed view (bolt, signature,
HTTP, one Web API call; no database, no overview).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request  # noqa: E402
from slack_bolt.async_app import AsyncAck, AsyncApp  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from bench.ack_latency import ENTRIES, MEMBERS, SECRET, build_database, free_port, machine  # noqa: E402
from bench.postgres import fresh_database  # noqa: E402
from bot.adapters.slack import SlackAdapter  # noqa: E402
from bot.app import build  # noqa: E402
from bot.core.inputs import Actor, FormSubmission  # noqa: E402
from config.settings import Settings  # noqa: E402
from tests.fake_slack import FakeSlack, signature_headers  # noqa: E402

COORDINATOR = "U00000001"
VOTES = 3


def event(user: str, number: int) -> bytes:
    return json.dumps({"token": "unused", "team_id": "T0NETWERK", "api_app_id": "A0NETWERK",
                       "type": "event_callback", "event_id": f"EvHome{number:08d}", "event_time": int(time.time()),
                       "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
                                 "event_ts": f"{time.time():.6f}"}}).encode()


class Target:
    """One server under test: its URL, a keep-alive connection, its timings."""

    def __init__(self, name: str, url: str, fake: FakeSlack) -> None:
        self.name, self.url, self.fake = name, url, fake
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))
        self.ms: list[float] = []
        self.failed = 0

    async def open_home(self, user: str, number: int, *, keep: bool) -> None:
        body = event(user, number)
        before = len([c for c in self.fake.ok_calls("views.publish") if c.params.get("user_id") == user])
        headers = {"Content-Type": "application/json", **signature_headers(SECRET, body.decode())}
        started = time.perf_counter()
        async with self.session.post(self.url, data=body, headers=headers) as response:
            await response.read()
        try:
            await self.fake.wait_for(lambda: len([c for c in self.fake.ok_calls("views.publish")
                                                  if c.params.get("user_id") == user]) > before)
        except TimeoutError:
            self.failed += 1
            return
        if keep:
            self.ms.append((time.perf_counter() - started) * 1000)

    def pct(self, q: float) -> float:
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


def floor_app(api_url: str, token: str, view: dict[str, Any]) -> web.Application:
    """Bolt that acks app_home_opened and publishes a precomputed view after the ack."""
    client = AsyncWebClient(token=token, base_url=api_url)
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)
    tasks: set[asyncio.Task[Any]] = set()

    async def opened(ack: AsyncAck, event: dict[str, Any]) -> None:
        await ack()
        task = asyncio.create_task(client.views_publish(user_id=event["user"], view=view))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    app.event("app_home_opened")(opened)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    return web_app


async def measure(args: argparse.Namespace, url: str, fake: FakeSlack) -> tuple[Target, Target]:
    seconds = await build_database(url, random.Random(20261124))
    print(f"Database: {MEMBERS:,} members, {ENTRIES:,} expertise entries, built in {seconds:.1f} s")
    settings = Settings(_env_file=None, database_url=url, slack_bot_token=fake.token,
                        slack_signing_secret=SECRET, slack_api_url=fake.url,
                        coordinators=frozenset({COORDINATOR}), log_level="WARNING")
    bot = build(settings)
    await bot.start()
    for number in range(VOTES):
        await bot.dispatcher.dispatch(FormSubmission("stemming.form", {
            "question": f"Besluit {number + 1}?", "options": "voor, tegen", "electorate": "members", "secret": "ja",
            "visible": "nee", "deadline": "over 3 dagen"}, Actor("slack", COORDINATOR, "coordinator"),
            channel="C0VOORSTEL"))
    async with bot.db.transaction() as repos:
        found = await repos.members.many(range(2, 2 * (args.opens + args.warmup) + 2))
    users = sorted(uid for m in found.values() for platform, uid in m.identities if platform == "slack")
    users = users[:args.opens + args.warmup]  # members, not the coordinator
    for user in users:
        fake.add_user(user, f"Lid {user}", title="IB-er")
    adapter = SlackAdapter(bot)
    bot.connect(adapter)
    runner, port = await serve(adapter.web_app())
    canned = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Overzicht"}}]}
    floor_runner, floor_port = await serve(floor_app(fake.url, fake.token, canned))
    netwerkbot = Target("netwerkbot: app_home_opened → views.publish", f"http://127.0.0.1:{port}/slack/events", fake)
    floor = Target("floor: bolt acks, publishes a fixed view", f"http://127.0.0.1:{floor_port}/slack/events", fake)
    try:
        for number, user in enumerate(users):  # interleaved: what else the machine does falls on both
            keep = number >= args.warmup
            await netwerkbot.open_home(user, number, keep=keep)
            await floor.open_home(f"F{user[1:]}", number, keep=keep)  # its own users: its views apart
    finally:
        for target in (netwerkbot, floor):
            await target.session.close()
        await runner.cleanup()
        await floor_runner.cleanup()
        await bot.stop()
    return netwerkbot, floor


async def main(args: argparse.Namespace) -> int:
    print(f"Machine: {machine()}")
    fake = await FakeSlack().start()
    with tempfile.TemporaryDirectory(prefix="home-") as folder:
        async with contextlib.AsyncExitStack() as stack:
            url = (await stack.enter_async_context(fresh_database()) if args.postgres
                   else f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
            bot, floor = await measure(args, url, fake)
    blocks = [len(c.params["view"]["blocks"]) for c in fake.ok_calls("views.publish")
              if not c.params["user_id"].startswith("F")]
    await fake.close()
    print(f"\n{args.opens} members opening Home one after the other (after {args.warmup} warm-up), interleaved with "
          "the floor; client-side, to the fake's views.publish:\n")
    print(f"| {'server':<46} | p50 ms | p90 ms | p99 ms | max ms | failed |")
    print(f"|{'-' * 48}|-------:|-------:|-------:|-------:|-------:|")
    for r in (floor, bot):
        print(f"| {r.name:<46} | {r.pct(50):6.1f} | {r.pct(90):6.1f} | {r.pct(99):6.1f} | {max(r.ms):6.1f} "
              f"| {r.failed:6} |")
    print(f"\np50 ratio {bot.pct(50) / floor.pct(50):.1f}x, p99 ratio {bot.pct(99) / floor.pct(99):.1f}x; "
          f"views published: {len(blocks)}, at most {max(blocks)} blocks")
    return 1 if bot.failed or floor.failed else 0


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--opens", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--postgres", action="store_true", help="the bot on a fresh local PostgreSQL database")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(arguments())))
