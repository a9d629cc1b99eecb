"""The Slack adapter end to end: the real bolt AsyncApp over HTTP, against a fake Slack.

Every request is signed as Slack signs it and sent to `POST /slack/events` of the running aiohttp
app; the Web API calls the bot makes land on tests/fake_slack.py. Background work is waited for
by watching the fake's recorded calls (or by draining the adapter's tasks), never by sleeping.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.base import http_runner
from bot.adapters.slack import SlackAdapter
from bot.app import Bot, build
from bot.core.clock import ManualClock
from bot.core.inputs import ChannelMessage, Input
from bot.core.reply import Audience, Outcome, Reply, Text
from bot.dispatch import Dispatcher
from handlers.context import HandlerContext
from tests.conftest import make_settings, started_bot
from tests.fake_slack import (
    APP_TOKEN,
    BOT_ID,
    BOT_USER_ID,
    FakeSlack,
    SlackSender,
    User,
    block_problems,
    signature_headers,
)
from tests.support import add_expertise, add_member

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ASKER = User("U0ASKER", "piet.jansen")
CHANNEL = "C0NETWERK"
NETWERKBOT = Path(sys.executable).with_name("netwerkbot")


@dataclass
class World:
    bot: Bot
    adapter: SlackAdapter
    fake: FakeSlack
    slack: SlackSender
    base: str  # http://127.0.0.1:<port>


@asynccontextmanager
async def running(url: str, clock: ManualClock, **overrides: object) -> AsyncIterator[World]:
    """A started bot served by the Slack adapter on a random port, with its Web API on a fake Slack."""
    fake = await FakeSlack().start()
    try:
        async with started_bot(url, clock, slack_bot_token=fake.token, slack_signing_secret=SECRET,
                               slack_api_url=fake.url, **overrides) as bot:
            adapter = SlackAdapter(bot)
            runner = http_runner(adapter.web_app())
            await runner.setup()
            try:
                await web.TCPSite(runner, "127.0.0.1", 0).start()
                base = f"http://127.0.0.1:{runner.addresses[0][1]}"
                await adapter.drain()  # start-up's own work (the inbox's leftovers) done: each test starts settled
                async with aiohttp.ClientSession() as session:
                    yield World(bot, adapter, fake, SlackSender(session, f"{base}/slack/events", SECRET, fake), base)
            finally:
                await runner.cleanup()  # waits for the background work
    finally:
        await fake.close()


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock) as w:
        yield w


# -- reading what the bot sent ------------------------------------------------------------------------


def texts(blocks: list[dict[str, Any]]) -> str:
    """Everything readable in the blocks, one line per text."""
    found: list[str] = []
    for block in blocks:
        for text in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(text, dict) and isinstance(text.get("text"), str):
                found.append(text["text"])
            elif isinstance(text, dict) and isinstance(text.get("text"), dict):
                found.append(text["text"]["text"])
    return "\n".join(found)


def section_of(blocks: list[dict[str, Any]], name: str) -> tuple[str, list[dict[str, Any]]]:
    """The mrkdwn of the list item titled `name` and the buttons under it."""
    for i, block in enumerate(blocks):
        if block["type"] == "section" and block.get("text", {}).get("text", "").startswith(f"*{name}*"):
            after = blocks[i + 1] if i + 1 < len(blocks) else {}
            return block["text"]["text"], after.get("elements", []) if after.get("type") == "actions" else []
    raise AssertionError(f"no item {name} in {texts(blocks)}")


def button(elements: list[dict[str, Any]], label: str) -> dict[str, Any]:
    found = [e for e in elements if e["type"] == "button" and e["text"]["text"] == label]
    assert found, f"no button {label!r} in {[e['text']['text'] for e in elements]}"
    return found[0]


def all_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def open_form(w: World) -> dict[str, Any]:
    """`/expertise toevoegen` without topics: the modal views.open received."""
    fields = w.slack.command_fields("/expertise", "toevoegen", ASKER)
    answer = await w.slack.form(fields)
    assert (answer.status, answer.text) == (200, "")  # an empty ack: the modal comes instead
    call = (await w.fake.wait_for_calls("views.open"))[0]
    assert call.params["trigger_id"] == fields["trigger_id"]
    view: dict[str, Any] = call.params["view"]
    return view


# -- slash commands -----------------------------------------------------------------------------------


async def test_expertise_search_is_answered_in_the_ack_with_mentions_and_escaped_text(world: World) -> None:
    anna = await add_member(world.bot, "Anna Bakker", user_id="U0ANNA", platform="slack")
    bert = await add_member(world.bot, "Bert Smit")  # imported, never on Slack
    # straight into the repository: the handler itself refuses Slack markup
    await add_expertise(world.bot, anna, "gedrag", "Bel me <!channel> & <@U0EVIL> <http://evil.example|gratis>")
    await add_expertise(world.bot, bert, "gedrag", "Observaties in de klas")

    answer = await world.slack.command("/expertise", "gedrag", ASKER)

    assert answer.status == 200
    body = answer.json
    assert body["response_type"] == "ephemeral"
    assert block_problems(body["blocks"]) == []
    assert body["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "Expertise: gedrag",
                                                            "emoji": True}}
    anna_text, anna_buttons = section_of(body["blocks"], "Anna Bakker")
    assert anna_text.startswith("*Anna Bakker* <@U0ANNA>\n")
    assert "Bel me &lt;!channel&gt; &amp; &lt;@U0EVIL&gt; &lt;http://evil.example|gratis&gt;" in anna_text
    assert button(anna_buttons, "Stuur bericht")["action_id"].startswith("expertise.contact#")
    bert_text, bert_buttons = section_of(body["blocks"], "Bert Smit")
    assert "<@" not in bert_text and "Observaties in de klas" in bert_text
    assert not [b for b in bert_buttons if b["text"]["text"] == "Stuur bericht"]  # nobody to message
    for markup in ("<!channel>", "<@U0EVIL>", "<http://evil"):
        assert markup not in answer.text
    assert not world.fake.ok_calls("chat.postMessage") and not world.fake.ok_calls("chat.postEphemeral")


async def test_a_forged_or_old_request_is_refused_and_changes_nothing(world: World) -> None:
    intruder = User("U0FORGED", "mallory")

    forged = await world.slack.command("/expertise", "toevoegen gedrag", intruder, secret="not-the-secret")
    stale = await world.slack.command("/expertise", "toevoegen gedrag", intruder,
                                      timestamp=int(time.time()) - 6 * 60)

    assert (forged.status, stale.status) == (401, 401)
    async with world.bot.db.transaction() as repos:
        assert await repos.members.by_identity("slack", intruder.id) is None
    assert not world.adapter.tasks and not world.fake.calls


async def test_a_slow_command_says_even_geduld_and_answers_through_the_response_url(
        sqlite_url: str, clock: ManualClock) -> None:
    async with running(sqlite_url, clock, ack_budget_seconds=0.05) as w:
        gate = asyncio.Event()
        dispatch = w.bot.dispatcher.dispatch

        async def slow(inp: Input) -> Outcome:
            await gate.wait()  # the database is busy, say
            return await dispatch(inp)

        w.bot.dispatcher.dispatch = slow  # type: ignore[method-assign]
        answer = await w.slack.command("/netwerkbot", "", ASKER, response_url=w.fake.response_url("slow"))

        assert answer.status == 200
        assert answer.json == {"text": "Even geduld, ik zoek het uit…", "response_type": "ephemeral"}
        gate.set()
        posted = (await w.fake.wait_for_responses())[0]
        assert posted.name == "slow"
        assert "Ik ben netwerkbot" in posted.body["text"]
        assert posted.body["response_type"] == "ephemeral"


# -- the form -----------------------------------------------------------------------------------------


async def test_expertise_toevoegen_without_topics_opens_the_modal(world: World) -> None:
    view = await open_form(world)

    assert view["callback_id"] == "expertise.add"
    assert view["title"]["text"] == "Expertise toevoegen"
    assert [b["block_id"] for b in view["blocks"]] == ["topics", "description"]
    assert view["blocks"][1]["element"]["multiline"] is True
    assert json.loads(view["private_metadata"])["channel"] == CHANNEL


async def test_a_submission_without_topics_shows_a_dutch_error_in_the_modal_and_stores_nothing(world: World) -> None:
    view = await open_form(world)

    answer = await world.slack.submit(view, {"topics": "", "description": "Ik help graag"}, ASKER)

    assert answer.status == 200
    assert answer.json["response_action"] == "errors"
    assert list(answer.json["errors"]) == ["topics"]
    assert "onderwerp" in answer.json["errors"]["topics"]
    mine = await world.slack.command("/expertise", "mijn", ASKER)
    assert "Je hebt nog geen expertise opgegeven" in mine.text


async def test_a_valid_submission_is_stored_closes_the_modal_and_confirms_in_the_channel(world: World) -> None:
    view = await open_form(world)

    answer = await world.slack.submit(view, {"topics": "gedrag, dyslexie", "description": "Ik begeleid IB-ers"},
                                      ASKER)

    assert (answer.status, answer.text) == (200, "")  # an empty ack closes the modal
    posted = (await world.fake.wait_for_calls("chat.postEphemeral"))[0].params
    assert (posted["channel"], posted["user"]) == (CHANNEL, ASKER.id)
    assert "Toegevoegd" in posted["text"] and "gedrag, dyslexie" in posted["text"]
    mine = await world.slack.command("/expertise", "mijn", ASKER)
    assert "gedrag" in texts(mine.json["blocks"]) and "dyslexie" in texts(mine.json["blocks"])


# -- buttons ------------------------------------------------------------------------------------------


async def test_meer_replaces_the_list_with_the_next_page_through_the_response_url(world: World) -> None:
    for n in range(1, 11):
        member = await add_member(world.bot, f"Lid {n:02d}")
        await add_expertise(world.bot, member, "gedrag")
    first = await world.slack.command("/expertise", "gedrag", ASKER)
    first_names = {n for n in (f"Lid {i:02d}" for i in range(1, 11)) if f"*{n}*" in first.text}
    assert len(first_names) == 8

    pressed = await world.slack.press(button(all_buttons(first.json["blocks"]), "Meer"), ASKER,
                                      response_url=world.fake.response_url("page"))

    assert (pressed.status, pressed.text) == (200, "")
    page = (await world.fake.wait_for_responses())[0].body
    assert page["replace_original"] is True
    assert page["response_type"] == "ephemeral"
    assert "10 gevonden · 9–10 getoond" in texts(page["blocks"])
    second_names = {n for n in (f"Lid {i:02d}" for i in range(1, 11)) if f"*{n}*" in texts(page["blocks"])}
    assert len(second_names) == 2 and not second_names & first_names


async def search_and_press_stuur_bericht(w: World) -> None:
    anna = await add_member(w.bot, "Anna Bakker", user_id="U0ANNA", platform="slack")
    await add_expertise(w.bot, anna, "gedrag")
    found = await w.slack.command("/expertise", "gedrag", ASKER)
    _, buttons = section_of(found.json["blocks"], "Anna Bakker")
    pressed = await w.slack.press(button(buttons, "Stuur bericht"), ASKER, response_url=w.fake.response_url("x"))
    assert pressed.status == 200


async def test_stuur_bericht_opens_a_group_conversation_with_an_introduction(world: World) -> None:
    await search_and_press_stuur_bericht(world)

    posted = (await world.fake.wait_for_calls("chat.postMessage"))[0].params
    opened = world.fake.ok_calls("conversations.open")
    assert [c.params["users"] for c in opened] == ["U0ASKER,U0ANNA"]
    assert posted["channel"].startswith("G")  # the group DM conversations.open returned
    assert "zoekt contact met Anna Bakker over gedrag" in posted["text"]
    assert not world.fake.responses  # nothing replaced the search results


async def test_slack_answering_500_twice_still_delivers_the_message_once(world: World) -> None:
    world.fake.fail("chat.postMessage", 500, times=2)

    await search_and_press_stuur_bericht(world)

    await world.fake.wait_for_calls("chat.postMessage")
    await world.adapter.drain()
    assert [c.status for c in world.fake.attempts("chat.postMessage")] == [500, 500, 200]
    assert len(world.fake.ok_calls("chat.postMessage")) == 1


# -- events -------------------------------------------------------------------------------------------


class EchoDispatcher(Dispatcher):
    """A channel listener that answers every message in its thread (the real ones come with the circles
    feature); everything else, including skipping a delivery seen before, is the real dispatcher."""

    async def _route(self, ctx: HandlerContext, inp: Input) -> Outcome:
        if isinstance(inp, ChannelMessage):
            return Reply((Text(f"gezien: {inp.text}"),), audience=Audience.THREAD)
        return await super()._route(ctx, inp)


def echo(w: World) -> None:
    b = w.bot
    b.dispatcher = EchoDispatcher(b.registry, b.db, b.settings, b.catalog, b.clock)


def message_event(text: str, *, user: str = "U0ANNA", ts: str = "1790000000.000200", **extra: str) -> dict[str, Any]:
    return {"type": "message", "channel": CHANNEL, "user": user, "text": text, "ts": ts,
            "event_ts": ts, "channel_type": "channel", **extra}


async def test_an_event_retried_by_slack_is_handled_once(database_url: str, clock: ManualClock) -> None:
    async with running(database_url, clock) as w:
        echo(w)
        first = await w.slack.event(message_event("wie weet iets van thuiszitters?"), "Ev0001")
        posted = (await w.fake.wait_for_calls("chat.postMessage"))[0].params

        retried = await w.slack.event(message_event("wie weet iets van thuiszitters?"), "Ev0001", retry=1)
        await w.adapter.drain()

        assert (first.status, retried.status) == (200, 200)
        assert (posted["channel"], posted["thread_ts"]) == (CHANNEL, "1790000000.000200")
        assert posted["text"] == "gezien: wie weet iets van thuiszitters?"
        assert len(w.fake.ok_calls("chat.postMessage")) == 1


async def test_messages_of_bots_and_of_the_bot_itself_are_ignored(world: World) -> None:
    echo(world)
    from_a_bot = message_event("Herinnering: overleg", user="", subtype="bot_message", bot_id="B0OTHER")
    from_a_bot.pop("user")
    answers = [await world.slack.event(from_a_bot, "Ev0002"),
               await world.slack.event(message_event("gezien: x", user=BOT_USER_ID, bot_id=BOT_ID), "Ev0003")]
    assert [a.status for a in answers] == [200, 200]
    assert not world.adapter.tasks  # nothing was started for them

    await world.slack.event(message_event("en dit schreef een mens", ts="1790000000.000300"), "Ev0004")
    await world.fake.wait_for_calls("chat.postMessage")
    await world.adapter.drain()

    assert [c.params["text"] for c in world.fake.ok_calls("chat.postMessage")] == ["gezien: en dit schreef een mens"]


# -- profiles -----------------------------------------------------------------------------------------


async def test_the_profile_is_fetched_after_the_ack_and_stored(world: World) -> None:
    world.fake.add_user(ASKER.id, "Piet Jansen", title="Intern begeleider De Zandloper", email="piet@zandloper.nl")
    profile_lookup = world.fake.hold("users.info")

    answer = await world.slack.command("/expertise", "gedrag", ASKER)
    assert answer.status == 200  # answered while users.info has not been answered yet

    profile_lookup.set()
    await world.fake.wait_for_calls("users.info")
    await world.adapter.drain()
    profile = await world.slack.command("/netwerkbot", "profiel", ASKER)
    assert "Piet Jansen" in texts(profile.json["blocks"])
    async with world.bot.db.transaction() as repos:
        member = await repos.members.by_identity("slack", ASKER.id)
    assert member is not None and member.title == "Intern begeleider De Zandloper"
    assert member.email == "piet@zandloper.nl"


async def test_a_rate_limited_profile_lookup_is_retried_after_retry_after(world: World) -> None:
    world.fake.add_user(ASKER.id, "Piet Jansen", title="IB-er")
    world.fake.fail("users.info", 429)

    await world.slack.command("/netwerkbot", "", ASKER)
    await world.fake.wait_for_calls("users.info")
    await world.adapter.drain()

    assert [c.status for c in world.fake.attempts("users.info")] == [429, 200]
    profile = await world.slack.command("/netwerkbot", "profiel", ASKER)
    assert "Piet Jansen" in texts(profile.json["blocks"])


async def test_the_calls_to_slack_while_serving_share_their_connections(world: World) -> None:
    """slack_sdk opens a session, and so a connection (at Slack a TLS handshake), for every Web API call unless it
    is given one: three people's profile look-ups after their answers came on three connections (issue 19)."""
    for n in range(3):
        asker = User(f"U0LID{n}", f"lid{n}")
        world.fake.add_user(asker.id, f"Lid {n}")
        assert (await world.slack.command("/expertise", "gedrag", asker)).status == 200
        await world.fake.wait_for_calls("users.info", n + 1)
        await world.adapter.drain()

    assert len({call.connection for call in world.fake.ok_calls("users.info")}) == 1


# -- health -------------------------------------------------------------------------------------------


async def test_healthz_says_ok_when_the_database_answers(world: World) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{world.base}/healthz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


async def test_healthz_says_503_when_the_database_is_unreachable(clock: ManualClock) -> None:
    settings = make_settings("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere", slack_bot_token="xoxb-1",
                             slack_signing_secret=SECRET)
    bot = build(settings, clock=clock)
    runner = web.AppRunner(SlackAdapter(bot).web_app())
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/healthz"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 503
    finally:
        await runner.cleanup()
        await bot.stop()


# -- the command line ---------------------------------------------------------------------------------


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NETWERKBOT_", "SLACK_")) and k != "DATABASE_URL"}
    return env | {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"} | extra


def test_netwerkbot_slack_without_credentials_says_which_are_missing(tmp_path: Path) -> None:
    done = subprocess.run([str(NETWERKBOT), "slack"], cwd=tmp_path, env=clean_env(tmp_path), capture_output=True,
                          text=True, timeout=60)

    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN" in done.stderr and "SLACK_SIGNING_SECRET" in done.stderr
    assert "Kan niet met Slack verbinden" in done.stderr
    assert "Traceback" not in done.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def start_cli(tmp_path: Path, fake: FakeSlack, port: int, **env: str) -> asyncio.subprocess.Process:
    """`netwerkbot slack --port <port>` with its Web API on the fake, up and healthy."""
    variables = clean_env(tmp_path, SLACK_BOT_TOKEN=fake.token, SLACK_SIGNING_SECRET=SECRET,
                          NETWERKBOT_SLACK_API_URL=fake.url, **env)
    process = await asyncio.create_subprocess_exec(str(NETWERKBOT), "slack", "--port", str(port), cwd=tmp_path,
                                                   env=variables, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    async with aiohttp.ClientSession() as session, asyncio.timeout(30):
        while True:  # the server comes up after the migrations
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)


async def terminate(process: asyncio.subprocess.Process) -> tuple[int, bytes]:
    """SIGTERM, as a service manager stops the bot; returns the exit code and what went to stderr."""
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        _, stderr = await process.communicate()
    return int(process.returncode or 0), stderr


@asynccontextmanager
async def cli(tmp_path: Path, **env: str) -> AsyncIterator[tuple[FakeSlack, int, asyncio.subprocess.Process]]:
    fake = await FakeSlack().start()
    port = free_port()
    process = await start_cli(tmp_path, fake, port, **env)
    try:
        yield fake, port, process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.close()


async def test_netwerkbot_slack_serves_http_until_terminated(tmp_path: Path) -> None:
    async with cli(tmp_path) as (_, port, process):
        body = "command=%2Fnetwerkbot&text=&user_id=U0ASKER&user_name=piet&channel_id=C1&team_id=T1"
        async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{port}/slack/events", data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", **signature_headers(SECRET, body)},
        ) as response:
            assert response.status == 200
            assert "Ik ben netwerkbot" in (await response.json())["text"]

        code, stderr = await terminate(process)

        assert code == 0
        assert b"Traceback" not in stderr


async def test_with_an_app_token_netwerkbot_slack_takes_its_requests_over_socket_mode(tmp_path: Path) -> None:
    async with cli(tmp_path, SLACK_APP_TOKEN=APP_TOKEN) as (fake, port, process):
        async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{port}/slack/events", data="x") as response:
            assert response.status == 404  # events come over the socket, not over HTTP

        ack = await fake.push("slash_commands", {
            "command": "/netwerkbot", "text": "", "user_id": "U0ASKER", "user_name": "piet", "channel_id": CHANNEL,
            "team_id": "T0NETWERK", "response_url": fake.response_url("socket"), "trigger_id": fake.trigger()})

        assert "Ik ben netwerkbot" in ack["payload"]["text"]
        assert ack["payload"]["response_type"] == "ephemeral"
        assert [c.method for c in fake.ok_calls("apps.connections.open")] == ["apps.connections.open"]
        code, stderr = await terminate(process)
        assert code == 0
        assert b"Traceback" not in stderr
