"""The whole budget round over signed Slack HTTP: open → 150 ballots → close → result + chart posted.

    .venv/bin/python bench/budget_round.py [--schools 150] [--pitches 40]

In one process: the real bot (SQLite file), its Slack adapter (real bolt AsyncApp over HTTP) and the
fake Slack Web API of tests/fake_slack.py, as the end-to-end tests run them. Set up beforehand (not
timed): `--schools` schools with one member each on Slack and `--pitches` pitches. Timed, each step
through signed requests and the Web API calls the bot makes:

1. open: `/stemming begroting` → views.open → the modal submitted → the round's message posted;
2. the ballots: per school a press on "Stemmen" → views.open (the ballot) → the ballot submitted
   (each school approves a per-pitch share of 5 %..50 % of the pitches), one school after the other;
3. the close: the deadline passes, the occurrence runs (Equal Shares + greedy + chart), the result
   is posted (chat.postMessage) and the chart uploaded (files.uploadV2: getUploadURLExternal, the
   upload, completeUploadExternal).

The floor, measured the same way in the same run: as many signed `/stemming help` commands (read
nothing, store nothing) one after the other, answered over the same endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.clock import ManualClock  # noqa: E402
from storage.proposals import PitchDraft  # noqa: E402
from tests.adapters.test_slack_e2e import running, texts  # noqa: E402
from tests.conftest import AMS  # noqa: E402
from tests.fake_slack import User  # noqa: E402
from tests.support import add_member, add_organisation  # noqa: E402

CHANNEL = "C0VOORSTEL"
COORDINATOR = User("UCOORD", "marieke")
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
FRIDAY = datetime(2026, 11, 27, 17, 0, tzinfo=AMS)


def stemmen(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return next(e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["text"]["text"] == "Stemmen")


async def measure(schools: int, pitches: int, seed: int) -> dict[str, float]:
    r = random.Random(seed)
    clock = ManualClock(MONDAY)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        async with running(url, clock, channel_proposals=CHANNEL) as w:
            w.bot.connect(w.adapter)
            users = []
            for n in range(schools):
                school = await add_organisation(w.bot, f"School {n:03d}")
                user = User(f"U{n:08d}", f"lid{n}")
                await add_member(w.bot, f"Lid {n}", user_id=user.id, platform="slack", organisation=school)
                w.fake.add_user(user.id, f"Lid {n}")  # a profile, as Slack has one
                users.append(user)
            w.fake.add_user(COORDINATOR.id, "Marieke")
            async with w.bot.db.transaction() as repos:
                first = await repos.members.create(name="Indiener", now=clock.now())
                for p in range(pitches):
                    await repos.pitches.create(PitchDraft(f"Pitch {p}", "", "", "", "", r.randint(50, 600) * 100_00, 0,
                                                          ()), submitter=first, meeting=None, now=clock.now())
            popularity = [r.uniform(0.05, 0.5) for _ in range(pitches)]

            started = time.perf_counter()
            for _ in range(schools):  # the floor: as many signed requests that read and store nothing
                answer = await w.slack.command("/stemming", "help", COORDINATOR, channel=CHANNEL)
                assert answer.status == 200
            floor = time.perf_counter() - started

            started = time.perf_counter()
            await w.slack.command("/stemming", "begroting", COORDINATOR, channel=CHANNEL)
            view = (await w.fake.wait_for_calls("views.open", 1))[-1].params["view"]
            numbers = ", ".join(str(p) for p in range(1, pitches + 1))
            answer = await w.slack.submit(view, {"budget": "€ 400.000", "pitches": numbers, "electorate": "schools",
                                                 "secret": "ja", "deadline": "vrijdag 17:00"}, COORDINATOR)
            assert answer.status == 200
            await w.bot.outbox.flush()
            message = (await w.fake.wait_for_calls("chat.postMessage", 1))[-1].params
            opened = time.perf_counter()
            for n, user in enumerate(users):
                await w.slack.press(stemmen(message["blocks"]), user, response_url=w.fake.response_url(user.id),
                                    channel=CHANNEL)
                ballot = (await w.fake.wait_for_calls("views.open", n + 2))[-1].params["view"]
                ticked = ",".join(str(p + 1) for p in range(pitches) if r.random() < popularity[p])
                assert (await w.slack.submit(ballot, {"pitches": ticked}, user)).status == 200
            voted = time.perf_counter()
            clock.set(FRIDAY)
            assert await w.bot.scheduler.run_due() == 1
            await w.bot.outbox.flush()
            result = (await w.fake.wait_for_calls("chat.postMessage", 2))[-1].params
            await w.fake.wait_for_calls("files.completeUploadExternal", 1)
            closed = time.perf_counter()
            assert "Uitslag begrotingsronde #1" in texts(result["blocks"])
            async with w.bot.db.transaction() as repos:
                cast = len(await repos.budget.ballots(1))
            assert cast == schools, cast
            await w.bot.refresher.stop()
    return {"floor": floor, "open": opened - started, "ballots": voted - opened, "close": closed - voted,
            "total": closed - started}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=150)
    parser.add_argument("--pitches", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    times = asyncio.run(measure(args.schools, args.pitches, args.seed))
    print(f"{args.schools} schools, {args.pitches} pitches")
    print(f"floor ({args.schools} signed /stemming help): {times['floor']:.2f} s")
    for step in ("open", "ballots", "close", "total"):
        print(f"{step:8} {times[step]:7.2f} s  ({times[step] / times['floor']:.1f}× the floor)")
    print(f"per ballot (press + views.open + submit): {1000 * times['ballots'] / args.schools:.0f} ms")


if __name__ == "__main__":
    main()
