"""The Teams adapter end to end: the Microsoft 365 Agents SDK's CloudAdapter in the real aiohttp app over HTTP,
its connector client talking to a fake Bot Connector (tests/fake_teams.py) that the activities' serviceUrl
names. Without TEAMS_APP_ID the bot accepts unauthenticated activities (as in local tests with the Bot
Framework emulator); tests/adapters/test_teams_auth.py covers the token check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.base import http_runner
from bot.adapters.teams import TeamsAdapter, web_app
from bot.adapters.teams.adapter import TokenProviders
from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.reply import Reply
from storage.teams import TeamsStore
from tests.conftest import started_bot
from tests.fake_teams import FakeConnector, Person, TeamsSender, buttons, card_texts
from tests.support import add_expertise, add_member

ANNA = Person("29:anna", "aad-anna", "Anna Bakker")
PIET = Person("29:piet", "aad-piet", "Piet Jansen")
CHANNEL = "19:netwerk@thread.tacv2"


@dataclass
class World:
    bot: Bot
    adapter: TeamsAdapter
    fake: FakeConnector
    teams: TeamsSender
    base: str


@asynccontextmanager
async def running(url: str, clock: ManualClock, providers: TokenProviders | None = None,
                  fake: FakeConnector | None = None, **overrides: object) -> AsyncIterator[World]:
    """A started bot served by the Teams adapter on a random port; its connector the fake (`providers`: what
    gives the bot its own token, MSAL when credentials are set)."""
    fake = fake or await FakeConnector().start()
    try:
        async with started_bot(url, clock, **overrides) as bot:
            adapter = TeamsAdapter(bot, TeamsStore(bot.db, bot.clock.now), providers=providers)
            runner = http_runner(web_app(adapter))
            await runner.setup()
            try:
                await web.TCPSite(runner, "127.0.0.1", 0).start()
                base = f"http://127.0.0.1:{runner.addresses[0][1]}"
                async with aiohttp.ClientSession() as session:
                    yield World(bot, adapter, fake, TeamsSender(session, f"{base}/api/messages", fake), base)
            finally:
                await runner.cleanup()
    finally:
        await fake.close()


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, teams_channel_proposals=CHANNEL) as w:
        yield w


async def test_health_answers(world: World) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{world.base}/healthz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


@pytest.mark.parametrize("typed", ["expertise gedrag", "/expertise gedrag"])
async def test_expertise_in_a_personal_chat_is_a_card_with_escaped_text(world: World, typed: str) -> None:
    anna = await add_member(world.bot, "Anna Bakker", user_id=ANNA.aad, platform="teams")
    await add_expertise(world.bot, anna, "gedrag", "Zie **vet** [klik](http://evil.example) <at>Iedereen</at>")
    response = await world.teams.message(PIET, typed)
    assert response.status == 202
    sent = world.fake.to(f"a:personal-{PIET.aad}")
    assert len(sent) == 1, "answered once, in the turn (before Teams got its 202)"
    content = sent[0].card()
    text = card_texts(content)
    assert "Anna Bakker" in text
    assert r"\*\*vet\*\*" in text and r"\[klik\](http://evil.example)" in text
    assert r"\<at\>Iedereen\</at\>" in text  # no mention from user text
    mentions = content.get("msteams", {}).get("entities", [])
    assert [m["mentioned"]["id"] for m in mentions] == [ANNA.aad]  # the only mention: the explicit part
    assert content["fallbackText"] and sent[0].activity["summary"]


async def test_in_a_channel_the_mention_is_stripped_and_a_private_answer_is_targeted(world: World) -> None:
    anna = await add_member(world.bot, "Anna Bakker", user_id=ANNA.aad, platform="teams")
    await add_expertise(world.bot, anna, "gedrag", "Observaties")
    response = await world.teams.message(PIET, "expertise gedrag", conversation=CHANNEL, kind="channel",
                                         mention=True)
    assert response.status == 202
    [sent] = world.fake.to(CHANNEL)
    assert "Anna Bakker" in card_texts(sent.card())
    assert sent.targeted and sent.activity["recipient"]["id"] == PIET.bf_id  # only Piet sees it


async def test_unknown_command_is_answered_in_dutch(world: World) -> None:
    await world.teams.message(PIET, "vliegtuig")
    [sent] = world.fake.to(f"a:personal-{PIET.aad}")
    assert "Die opdracht ken ik niet" in card_texts(sent.card())


async def test_garbage_is_refused_with_a_dutch_message_and_no_traceback(world: World) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{world.base}/api/messages", data=b"{not json") as response:
            assert response.status == 400
            assert "Dit bericht van Teams kon ik niet lezen" in (await response.json())["error"]
        async with session.post(f"{world.base}/api/messages", json={"type": "message"}) as response:
            assert response.status == 400
    assert world.fake.sent == []


async def test_form_errors_are_shown_in_the_form_and_a_good_submit_is_stored(world: World) -> None:
    await add_member(world.bot, "Piet Jansen", user_id=PIET.aad, platform="teams")
    await world.teams.message(PIET, "pitch")
    [sent] = world.fake.to(f"a:personal-{PIET.aad}")
    form = sent.card()
    assert any(e.get("type", "").startswith("Input.") for e in form["body"])
    [submit] = buttons(form)
    status, body = await world.teams.press(PIET, submit, {})
    assert status == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert any(e.get("errorMessage") for e in body["value"]["body"]), "the errors stand in the form"


async def test_a_member_is_reached_in_their_personal_chat(world: World) -> None:

    piet = await add_member(world.bot, "Piet Jansen", user_id=PIET.aad, platform="teams")
    anna = await add_member(world.bot, "Anna Bakker", user_id=ANNA.aad, platform="teams")
    await world.teams.message(PIET, "netwerkbot")  # Piet opened a personal chat with the bot
    ref = await world.adapter.send(f"member:{piet.id}", Reply.text("Herinnering: je stem"))
    conversation, _, activity_id = ref.rpartition("/")
    assert conversation == f"a:personal-{PIET.aad}"
    assert [s.activity_id for s in world.fake.to(conversation)][-1] == activity_id
    assert "Herinnering: je stem" in card_texts(world.fake.to(conversation)[-1].card())
    assert world.fake.created == []  # his own chat, not a new one
    del anna


async def test_an_activity_the_sdk_cannot_read_is_refused_in_dutch(world: World) -> None:
    activity = world.teams.base(PIET, "a:personal-x", "personal") | {"type": "message", "text": "netwerkbot",
                                                                     "from": "geen persoon"}
    response = await world.teams.post(activity)
    assert response.status == 400
    assert world.fake.sent == []


async def test_more_results_come_for_the_presser_alone_and_an_older_submit_button_works_too(
        sqlite_url: str, clock: ManualClock) -> None:
    async with running(sqlite_url, clock, expertise_page_size=2) as w:
        for n in range(3):
            member = await add_member(w.bot, f"Lid {n}", user_id=f"aad-lid{n}", platform="teams")
            await add_expertise(w.bot, member, "gedrag", f"Ervaring {n}")
        await w.teams.message(PIET, "expertise gedrag", conversation=CHANNEL, kind="channel", mention=True)
        [first] = w.fake.to(CHANNEL)
        [more] = [b for b in buttons(first.card()) if b["title"] == "Meer"]
        status, page = await w.teams.press(PIET, more, conversation=CHANNEL, kind="channel")
        assert status == 200 and page["type"] == "application/vnd.microsoft.card.adaptive"
        assert "Lid" in card_texts(page["value"])
        assert len(w.fake.to(CHANNEL)) == 1, "the next page is in the invoke answer, not a new message"
        # a card of Action.Submit (older Teams clients) posts a message activity carrying the button's data
        submitted = w.teams.base(PIET, f"a:personal-{PIET.aad}", "personal") | {
            "type": "message", "value": more["data"]}
        assert (await w.teams.post(submitted)).status == 202
        assert "Lid" in card_texts(w.fake.to(f"a:personal-{PIET.aad}")[-1].card())


async def test_a_reply_teams_refuses_is_followed_by_an_apology_and_no_traceback(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.fake.fail_next(500)  # the connector fails the answer itself
    response = await world.teams.message(PIET, "expertise geheimzinnig onderwerp")
    assert response.status == 202
    [apology] = world.fake.to(f"a:personal-{PIET.aad}")
    assert "Sorry, er ging iets mis aan mijn kant" in card_texts(apology.card())
    assert "geheimzinnig" not in caplog.text  # logs never carry what members wrote


async def test_stuur_bericht_introduces_the_asker_in_the_experts_personal_chat(world: World) -> None:
    anna = await add_member(world.bot, "Anna Bakker", user_id=ANNA.aad, platform="teams")
    await add_expertise(world.bot, anna, "gedrag", "Observaties")
    await world.teams.message(PIET, "expertise gedrag")
    [results] = world.fake.to(f"a:personal-{PIET.aad}")
    [contact] = [b for b in buttons(results.card()) if b["title"] == "Stuur bericht"]
    status, _ = await world.teams.press(PIET, contact)
    assert status == 200
    assert world.fake.created == [f"a:personal-new-{ANNA.aad}"]  # Anna never chatted with the bot: opened
    [introduction] = world.fake.to(f"a:personal-new-{ANNA.aad}")
    assert "zoekt contact met Anna Bakker over gedrag" in card_texts(introduction.card())
    assert "zoekt contact met Anna Bakker" in card_texts(world.fake.to(f"a:personal-{PIET.aad}")[-1].card())


async def test_a_member_without_the_app_cannot_be_written_to(world: World) -> None:
    from bot.core.port import DeliveryRefused

    anna = await add_member(world.bot, "Anna Bakker", user_id=ANNA.aad, platform="teams")
    world.fake.uninstalled.add(ANNA.aad)
    await world.teams.message(PIET, "netwerkbot")
    with pytest.raises(DeliveryRefused):
        await world.adapter.send(f"member:{anna.id}", Reply.text("Herinnering"))
