"""kill -9 in a burst: whatever was answered 200 counts exactly once after a restart.

A real `netwerkbot slack` process (its Web API on tests/fake_slack.py in this process) gets a
burst of signed requests at once: members pressing a vote button, a coordinator submitting the
vote form (each a new vote), and `/overleg agenda …` commands. When a random share of the answers
has come back, the process is killed with SIGKILL; then it is started again on the same database
and left to handle what it had acknowledged. Every press answered 200 has its ballot, every form
and command answered 200 its vote or agenda item exactly once; an unanswered one at most once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import build
from bot.core.inputs import Actor, FormSubmission
from config.settings import Settings
from storage.models import AgendaItem, Ballot, Identity, InboxEntry, Vote
from tests.fake_slack import FakeSlack, SlackSender, User

NETWERKBOT = Path(sys.executable).with_name("netwerkbot")
SECRET = "kill9-signing-secret-0123456789"
CHANNEL = "C0VOORSTEL"
COORDINATOR = User("UCOORD0001", "coordinator")
MEMBERS, FORMS, COMMANDS = 80, 8, 16
FORM_FIELDS = ("question", "options", "electorate", "secret", "visible", "deadline")


def member(n: int) -> User:
    return User(f"U{n:08d}", f"lid{n}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def settings(url: str) -> Settings:
    return Settings(_env_file=None, database_url=url, coordinators=frozenset({COORDINATOR.id}))


def form_values(n: int) -> dict[str, str]:
    return {"question": f"Vraag {n} over de groeiklas?", "options": "voor, tegen", "electorate": "members",
            "secret": "nee", "visible": "ja", "deadline": "over 3 dagen"}


async def prepare(url: str) -> None:
    """Members on Slack and one open vote (one ballot per member)."""
    bot = build(settings(url))
    await bot.start()
    try:
        async with bot.db.transaction() as repos:
            for n in range(MEMBERS):
                member_id = await repos.members.create(name=f"Lid {n}", now=bot.clock.now())
                await repos.members.link(member_id, "slack", member(n).id)
        answer = await bot.dispatcher.dispatch(FormSubmission(
            "stemming.form", form_values(0), Actor("slack", COORDINATOR.id, COORDINATOR.name), channel=CHANNEL))
        assert "Stemming #1" in str(answer), answer
    finally:
        await bot.stop()


async def counts(url: str) -> dict[str, Any]:
    bot = build(settings(url))
    try:
        async with bot.db.transaction() as repos:
            session = repos.session
            ballots = {user for (user,) in await session.execute(
                select(Identity.user_id).join(Ballot, Ballot.member_id == Identity.member_id)
                .where(Ballot.vote_id == 1, Identity.platform == "slack"))}
            questions = [q for (q,) in await session.execute(select(Vote.question))]
            items = [t for (t,) in await session.execute(select(AgendaItem.text))]
            waiting = int((await session.execute(select(func.count()).select_from(InboxEntry))).scalar_one())
        return {"ballots": ballots, "questions": questions, "items": items, "waiting": waiting}
    finally:
        await bot.stop()


class Process:
    def __init__(self, url: str, fake: FakeSlack, folder: Path) -> None:
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWERKBOT_", "SLACK_"))}
        self.env |= {"DATABASE_URL": url, "SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": SECRET,
                     "NETWERKBOT_SLACK_API_URL": fake.url, "NETWERKBOT_COORDINATORS": COORDINATOR.id,
                     "NETWERKBOT_CHANNEL_PROPOSALS": CHANNEL}
        self.log = folder / "bot.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, session: aiohttp.ClientSession) -> None:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(NETWERKBOT), "slack", "--port", str(self.port), env=self.env, stdout=log, stderr=log)
        async with asyncio.timeout(60):
            while True:  # until it listens (it first applies the migrations)
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with session.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    instance = await FakeSlack().start()
    for n in range(MEMBERS):
        instance.add_user(member(n).id, f"Lid {n}")
    try:
        yield instance
    finally:
        await instance.close()


def vote_view() -> dict[str, Any]:
    blocks = [{"type": "input", "block_id": name, "element": {"type": "plain_text_input", "action_id": "value"}}
              for name in FORM_FIELDS]
    return {"type": "modal", "callback_id": "stemming.form", "blocks": blocks,
            "private_metadata": json.dumps({"state": "", "channel": CHANNEL})}


async def test_every_answered_press_form_and_command_counts_once_after_kill_9(
        database_url: str, fake: FakeSlack, tmp_path: Path) -> None:
    await prepare(database_url)
    bot = Process(database_url, fake, tmp_path)
    answered: dict[str, bool] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=300)) as session:
        await bot.start(session)
        slack = SlackSender(session, f"http://127.0.0.1:{bot.port}/slack/events", SECRET, fake)
        kill_after = random.randint(MEMBERS // 5, MEMBERS)  # answers back before the kill
        back = 0
        killed = asyncio.Event()

        async def send(name: str, request: Any) -> None:
            nonlocal back
            try:
                answer = await request
            except aiohttp.ClientError:
                answer = None
            answered[name] = answer is not None and answer.status == 200
            back += 1
            if back == kill_after and not killed.is_set():
                bot.kill()
                killed.set()

        press = {"action_id": "stemming.stem#1", "value": "1:0", "text": {"type": "plain_text", "text": "voor"}}
        requests = [send(f"press {member(n).id}", slack.press(press, member(n), channel=CHANNEL,
                                                               response_url=fake.response_url(f"p{n}")))
                    for n in range(MEMBERS)]
        requests += [send(f"form Vraag {n} over de groeiklas?", slack.submit(vote_view(), form_values(n), COORDINATOR))
                     for n in range(1, FORMS + 1)]
        requests += [send(f"command Punt {n}", slack.command("/overleg", f"agenda Punt {n}", member(n),
                                                            channel=CHANNEL)) for n in range(COMMANDS)]
        random.shuffle(requests)
        await asyncio.gather(*requests)
        if not killed.is_set():
            bot.kill()
        assert bot.process is not None
        await bot.process.wait()
        before = await counts(database_url)

        restarted = Process(database_url, fake, tmp_path)
        await restarted.start(session)
        async with asyncio.timeout(20):  # until it has handled what it had acknowledged
            while True:
                if not (await counts(database_url))["waiting"]:
                    break
                await asyncio.sleep(0.1)
        assert await restarted.stop() == 0
    after = await counts(database_url)

    assert any(answered.values())
    for name, ok in answered.items():
        kind, _, what = name.partition(" ")
        found = {"press": int(what in after["ballots"]), "form": after["questions"].count(what),
                 "command": after["items"].count(what)}[kind]
        assert found == 1 if ok else found <= 1, (name, ok, found, before["waiting"])
    assert "Traceback" not in bot.log.read_text()
