"""Ballots over Slack: 2,000 presses from 1,000 members within 10 s on the signed HTTP endpoint.

    .venv/bin/python bench/votes.py [--postgres] [--members 1000] [--seconds 10]

A database with `--members` members on Slack and one open vote (one ballot per member, tally
visible) whose message is already in the channel. The real `netwerkbot slack --port …` runs in its
own process with its Web API on the fake Slack of tests/fake_slack.py (in this process, which
records every chat.update with its time). Every member presses twice, the second press five
seconds after the first and for another option, so the final tally is known; the 2,000 signed
block_actions are sent at an even pace over `--seconds`, each on its own schedule (not waiting for
the previous answer). Measured: the ack latency of every press (client side), the exact final
tally in the database and in the last chat.update, and the chat.update calls: per second at
most, and in all.

The baseline, measured the same way in the same run: a bare bolt AsyncApp that only acks
(bench/ack_latency.py's process_before_response floor).

Goals: every ack under 3 s; the exact tally; at most 1 chat.update per message per second; and (issue 19)
ack p99 under 100 ms, every ballot shown within 2 s of the last press (printed, not part of the exit status).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.ack_latency import NETWERKBOT, SECRET, Server, free_port, machine  # noqa: E402
from bench.postgres import fresh_database  # noqa: E402
from tests.fake_slack import FakeSlack, SlackSender, User  # noqa: E402

CHANNEL = "C0VOORSTEL"
COORDINATOR = "UCOORD0001"
OPTIONS = ("voor", "tegen", "onthouding")


def first_choice(n: int) -> int:
    return n % 3


def last_choice(n: int) -> int:
    return (n + 1) % 3


async def build(url: str, members: int) -> None:
    """Members with Slack accounts and one vote, its message queued for the channel."""
    from bot.app import build as build_bot
    from bot.core.inputs import Actor, FormSubmission
    from config.settings import Settings

    bot = build_bot(Settings(_env_file=None, database_url=url, coordinators=frozenset({COORDINATOR})))
    await bot.start()
    now = datetime.now(UTC)
    async with bot.db.transaction() as repos:
        for n in range(members):
            member_id = await repos.members.create(name=f"Lid {n}", now=now)
            await repos.members.link(member_id, "slack", user(n).id)
    answer = await bot.dispatcher.dispatch(FormSubmission(
        "stemming.form", {"question": "Gaan we door met de groeiklas?", "options": ", ".join(OPTIONS),
                          "electorate": "members", "secret": "nee", "visible": "ja", "deadline": "over 3 dagen"},
        Actor("slack", COORDINATOR, "coordinator"), channel=CHANNEL))
    assert "Stemming #1" in str(answer), answer
    await bot.stop()


def user(n: int) -> User:
    return User(f"U{n:08d}", f"lid{n}")


class Press:
    def __init__(self, sender: SlackSender, buttons: dict[str, dict[str, Any]]) -> None:
        self.sender = sender
        self.buttons = buttons
        self.ms: list[float] = []
        self.statuses: dict[int, int] = {}

    async def press(self, n: int, option: int, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        started = time.perf_counter()
        answer = await self.sender.press(self.buttons[OPTIONS[option]], user(n), channel=CHANNEL,
                                         response_url=self.sender.fake.response_url(f"r{n}"))
        self.ms.append((time.perf_counter() - started) * 1000)
        self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1


async def burst(url: str, fake: FakeSlack, buttons: dict[str, dict[str, Any]], members: int,
                seconds: float) -> Press:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
        presses = Press(SlackSender(session, url, SECRET, fake), buttons)
        start = time.perf_counter() + 0.5
        step = seconds / (2 * members)
        await asyncio.gather(*(presses.press(n, first_choice(n), start + n * step) for n in range(members)),
                             *(presses.press(n, last_choice(n), start + (members + n) * step)
                               for n in range(members)))
        return presses


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def per_second(stamps: list[float]) -> int:
    """The most calls within any one second."""
    most, first = 0, 0
    for last, stamp in enumerate(stamps):
        while stamp - stamps[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def measure(args: argparse.Namespace, url: str, folder: Path) -> int:
    fake = await FakeSlack().start()
    for n in range(args.members):
        fake.add_user(user(n).id, f"Lid {n}")
    await build(url, args.members)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWERKBOT_", "SLACK_"))}
    env |= {"DATABASE_URL": url, "SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": SECRET,
            "NETWERKBOT_SLACK_API_URL": fake.url, "NETWERKBOT_COORDINATORS": COORDINATOR,
            "NETWERKBOT_LOG_LEVEL": "WARNING"}
    log_file = folder / "servers.log"
    port, floor_port = free_port(), free_port()
    bot = Server("netwerkbot", [str(NETWERKBOT), "slack", "--port", str(port)], port)
    floor = Server("bolt floor (ack only)", [sys.executable, str(ROOT / "bench" / "ack_latency.py"), "--floor",
                                             "fast", "--port", str(floor_port), "--api-url", fake.url], floor_port)
    try:
        await bot.start(env, log_file)  # its first wake-up posts the vote message
        [message] = await fake.wait_for(lambda: [c for c in fake.ok_calls("chat.postMessage")
                                                 if c.params.get("channel") == CHANNEL])
        buttons = {e["text"]["text"]: e for b in message.params["blocks"] if b["type"] == "actions"
                   for e in b["elements"]}
        measured = await burst(f"http://127.0.0.1:{port}/slack/events", fake, buttons, args.members, args.seconds)
        burst_end = time.monotonic()
        expected = [sum(1 for n in range(args.members) if last_choice(n) == i) for i in range(len(OPTIONS))]
        shown = f"{args.members} stemmen uitgebracht — " + " · ".join(f"{o}: {c}" for o, c in zip(
            OPTIONS, expected, strict=True))
        for _ in range(12):  # the fake's wait is 10 s a time: up to two minutes in all
            with contextlib.suppress(TimeoutError):
                await fake.wait_for(lambda: any(shown in json.dumps(c.params["blocks"], ensure_ascii=False)
                                                for c in fake.ok_calls("chat.update")))
                break
        settled = time.monotonic()
        await floor.start(env, log_file)
        baseline = await burst(f"http://127.0.0.1:{floor_port}/slack/events", fake, buttons, args.members,
                               args.seconds)
    finally:
        await bot.stop()
        await floor.stop()
        await fake.close()
    tally = await final_tally(url)
    updates = [c.at for c in fake.ok_calls("chat.update")]
    last_shown = any(shown in json.dumps(c.params["blocks"], ensure_ascii=False)
                     for c in fake.ok_calls("chat.update")[-1:])

    print(f"Machine: {machine()}")
    print(f"{2 * args.members} presses from {args.members} members over {args.seconds:.0f} s, "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}\n")
    print("| server | acks | statuses | p50 ms | p99 ms | max ms |")
    print("|---|---:|---|---:|---:|---:|")
    for name, r in (("netwerkbot", measured), ("bolt floor (ack only)", baseline)):
        print(f"| {name} | {len(r.ms)} | {r.statuses} | {pct(r.ms, 50):.1f} | {pct(r.ms, 99):.1f} | "
              f"{max(r.ms):.1f} |")
    print(f"\nack p99 ratio to the floor: {pct(measured.ms, 99) / pct(baseline.ms, 99):.1f}x")
    print(f"final tally in the database: {tally} (expected {expected}): {'exact' if tally == expected else 'WRONG'}")
    print(f"last chat.update shows it: {'yes' if last_shown else 'NO'}; every ballot counted and shown "
          f"{settled - burst_end:.1f} s after the last press")
    print(f"chat.update calls: {len(updates)} in all, at most {per_second(updates)} within one second "
          f"(goal <= 1)")
    shown_after = settled - burst_end
    print(f"issue 19: ack p99 {pct(measured.ms, 99):.1f} ms (goal < 100 ms: "
          f"{'met' if pct(measured.ms, 99) < 100 else 'MISSED'}); every ballot shown {shown_after:.1f} s after the "
          f"last press (goal <= 2 s: {'met' if shown_after <= 2 else 'MISSED'})")
    ok = (max(measured.ms) < 3000 and tally == expected and last_shown and per_second(updates) <= 1
          and set(measured.statuses) == {200})
    print(f"goals: {'met' if ok else 'MISSED'}")
    if not ok:
        problems = [line for line in log_file.read_text().splitlines() if " WARNING " in line or " ERROR " in line]
        print("\nwarnings and errors in the servers' log:\n" + "\n".join(problems[:30]))
    return 0 if ok else 1


async def final_tally(url: str) -> list[int]:
    from bot.app import build as build_bot
    from config.settings import Settings

    bot = build_bot(Settings(_env_file=None, database_url=url))
    async with bot.db.transaction() as repos:
        counts = await repos.votes.tally(1)
    await bot.stop()
    return [counts.get(i, 0) for i in range(len(OPTIONS))]


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="votes-") as folder:
        if args.postgres:
            async with fresh_database() as url:
                return await measure(args, url, Path(folder))
        return await measure(args, f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", Path(folder))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    sys.exit(asyncio.run(main(parser.parse_args())))

