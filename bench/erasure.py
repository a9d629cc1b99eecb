"""Forgetting a member in a network of realistic size: how long the press of "Ja, vergeten" takes.

    .venv/bin/python bench/erasure.py [--postgres] [--members 2000] [--messages 20000] [--repeat 5]

A database with `--members` members (each with a Slack account and one expertise entry), `--messages`
outbox messages (sent replies that mention members by name and account), one idea per member whose
text names another member, and 20 closed votes with a ballot of every member. Then `--repeat` members
are forgotten one after another, each through the dispatcher exactly as the button press does it (one
transaction: the schema-aware steps and the sweep over every text column of every table). Measured:
the wall time per erasure, and that afterwards no row holds the name or account.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bench.ack_latency import machine  # noqa: E402
from bench.postgres import fresh_database  # noqa: E402
from bot.app import build  # noqa: E402
from bot.core.inputs import Action, Actor  # noqa: E402
from bot.core.reply import Item, Mention, Reply, reply_to_json  # noqa: E402
from config.settings import Settings  # noqa: E402
from storage.models import Ballot, Base, Expertise, Idea, Identity, Member, OutboxMessage, Vote  # noqa: E402

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def name(n: int) -> str:
    return f"Lid{n:05d} Achternaam{n:05d}"


async def fill(url: str, members: int, messages: int) -> None:
    bot = build(Settings(_env_file=None, database_url=url))
    await bot.start()
    async with bot.db.transaction() as repos:
        s = repos.session
        await s.execute(insert(Member), [{"id": n, "name": name(n), "title": "", "email": f"lid{n}@school.nl",
                                          "role": "ib-er", "created_at": NOW} for n in range(1, members + 1)])
        await s.execute(insert(Identity), [{"platform": "slack", "user_id": f"U{n:08d}", "member_id": n}
                                           for n in range(1, members + 1)])
        await s.execute(insert(Expertise), [{"member_id": n, "topic": "gedrag", "topic_key": "gedrag",
                                             "description": "Time-out zonder straf", "created_at": NOW,
                                             "confirmed_at": NOW} for n in range(1, members + 1)])
        await s.execute(insert(Idea), [{"text": f"Vraag {name(n % members + 1)} naar de aanpak {n}",
                                        "text_key": f"{n:064d}", "status": "nieuw", "author_id": n, "added_by": n,
                                        "created_at": NOW, "updated_at": NOW} for n in range(1, members + 1)])
        for n in range(1, messages + 1):
            who = n % members + 1
            body = reply_to_json(Reply((Item(name(who), ("weet van gedrag",),
                                             mention=Mention(name(who), (("slack", f"U{who:08d}"),))),)))
            await s.execute(insert(OutboxMessage), [{"channel": "C0NETWERK", "body": body, "created_at": NOW,
                                                     "next_attempt_at": NOW, "sent_at": NOW}])
        for v in range(1, 21):
            await s.execute(insert(Vote), [{"id": v, "question": f"Vraag {v}", "options": '["voor", "tegen"]',
                                            "electorate": "members", "secret": v % 2 == 0, "show_while_open": True,
                                            "deadline": NOW, "channel": "C0VOORSTEL", "created_at": NOW,
                                            "closed_at": NOW, "result": json.dumps({"counts": [members, 0]})}])
            await s.execute(insert(Ballot), [{"vote_id": v, "voter": f"m:{n}", "member_id": n, "option": 0,
                                              "cast_at": NOW} for n in range(1, members + 1)])
    await bot.stop()


async def forget(url: str, repeat: int) -> list[float]:
    bot = build(Settings(_env_file=None, database_url=url))
    await bot.start()
    took = []
    try:
        for n in range(1, repeat + 1):
            who = Actor("slack", f"U{n:08d}", name(n))
            start = time.perf_counter()
            answer = await bot.dispatcher.dispatch(Action("privacy.vergeet", f"zelf:{n}", who))
            took.append(time.perf_counter() - start)
            assert isinstance(answer, Reply) and "vergeten" in answer.plain(), answer
            async with bot.db.transaction() as repos:
                for table in Base.metadata.sorted_tables:
                    for row in (await repos.session.execute(select(table))).all():
                        assert not any(isinstance(v, str) and (name(n) in v or f"U{n:08d}" in v) for v in row), \
                            (table.name, row)
    finally:
        await bot.stop()
    return took


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if arguments.postgres:
            async with fresh_database() as url:
                await fill(url, arguments.members, arguments.messages)
                took = await forget(url, arguments.repeat)
        else:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'erasure.db'}"
            await fill(url, arguments.members, arguments.messages)
            took = await forget(url, arguments.repeat)
    print(f"{machine()}; {'PostgreSQL' if arguments.postgres else 'SQLite'}; {arguments.members} members, "
          f"{arguments.messages} outbox messages, 20 closed votes × {arguments.members} ballots")
    print("erasure ms: " + ", ".join(f"{t * 1000:.0f}" for t in took)
          + f"; median {statistics.median(took) * 1000:.0f}; no trace left after any of them")


if __name__ == "__main__":
    asyncio.run(main())
