"""The circles over Slack, end to end: a message in the outer circle gets a 💡 and becomes an idea, the
digest carries it to the inner circle before its meeting, a member picks it up there with a due date in a
modal, and the author hears back in the thread of the original message; a question gets its experts.

Signed event_callbacks and block_actions go through the real bolt app; the Web API is the fake Slack,
which keeps the channels' messages and threads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.core.clock import ManualClock
from handlers.circles.digest import DIGEST
from tests.adapters.test_slack_e2e import World, running, texts
from tests.conftest import AMS
from tests.fake_slack import User, block_problems
from tests.support import add_expertise, add_member

OUTER, INNER, CONSULTANTS = "C0BUITEN", "C0BINNEN", "C0CONSULENT"
ANNA, PIET, MARIEKE = User("U0ANNA", "anna"), User("U0PIET", "piet"), User("UCOORD", "marieke")
IDEA_TS = "1790000000.000100"
IDEA = "Wat als de #thuiszitters van onze wijk een vaste contactpersoon krijgen?"


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, channel_outer_circle=OUTER, channel_inner_circle=INNER,
                       channel_consultants=CONSULTANTS, question_channels=frozenset({"consultants"})) as w:
        w.bot.connect(w.adapter)  # the timekeeper is not started: the test says when time passes
        for user in (ANNA, PIET, MARIEKE):
            w.fake.add_user(user.id, user.name.title())
            await add_member(w.bot, user.name.title(), user_id=user.id, platform="slack")
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


def button(blocks: list[dict[str, Any]], label: str, near: str) -> dict[str, Any]:
    """The button `label` of the digest entry whose text contains `near`."""
    for n, block in enumerate(blocks):
        if block["type"] == "section" and near in block["text"]["text"]:
            actions = blocks[n + 1]
            assert actions["type"] == "actions"
            return next(e for e in actions["elements"] if e["text"]["text"] == label)
    raise AssertionError(f"no entry with {near!r}")


async def flushed(w: World, count: int) -> list[dict[str, Any]]:
    """Flush the outbox as the timekeeper would; the chat.postMessage calls so far."""
    await w.bot.outbox.flush()
    return [c.params for c in await w.fake.wait_for_calls("chat.postMessage", count)]


async def test_an_idea_goes_from_a_bulb_in_the_outer_circle_to_the_inner_circle_and_its_author_hears_back(
        world: World, clock: ManualClock) -> None:
    world.fake.add_message(OUTER, IDEA_TS, ANNA.id, IDEA)
    assert (await world.slack.reaction_added("bulb", PIET.id, OUTER, IDEA_TS, "Ev01")).status == 200
    await world.adapter.drain()
    [confirmed] = await flushed(world, 1)
    assert (confirmed["channel"], confirmed["thread_ts"]) == (OUTER, IDEA_TS)
    assert "Genoteerd als idee 1 (#thuiszitters) van Anna" in texts(confirmed["blocks"])
    # Slack retries the event, and someone else adds a 💡 too: still one idea
    await world.slack.reaction_added("bulb", PIET.id, OUTER, IDEA_TS, "Ev01", retry=1)
    await world.slack.reaction_added("bulb", MARIEKE.id, OUTER, IDEA_TS, "Ev02")
    await world.adapter.drain()
    assert len(await flushed(world, 1)) == 1

    await world.bot.scheduler.plan()
    async with world.bot.db.transaction() as repos:
        due = await repos.occurrences.next_due(DIGEST, clock.now())
    assert due == datetime(2026, 12, 3, 15, 30, tzinfo=AMS) - timedelta(hours=24)
    clock.set(due)
    await world.bot.scheduler.run_due()
    digest = (await flushed(world, 2))[-1]
    assert digest["channel"] == INNER and block_problems(digest["blocks"]) == []
    shown = texts(digest["blocks"])
    assert "Ideeën uit de buitenkring voor Binnenkring netwerkgroep, donderdag 3 december" in shown
    assert "Idee 1 · Anna" in shown and world.fake.permalink(OUTER, IDEA_TS) in shown

    pick_up = button(digest["blocks"], "Oppakken", "vaste contactpersoon")
    await world.slack.press(pick_up, MARIEKE, response_url=world.fake.response_url("pick"), channel=INNER)
    view = (await world.fake.wait_for_calls("views.open"))[-1].params["view"]
    assert view["callback_id"] == "idee.oppakken"
    refused = await world.slack.submit(view, {"due": "1-11-2026", "note": ""}, MARIEKE)
    assert refused.json["response_action"] == "errors" and "verleden" in refused.json["errors"]["due"]
    assert (await world.slack.submit(view, {"due": "15 januari", "note": "Ik bel leerplicht."}, MARIEKE)).status == 200
    await world.adapter.drain()

    told = (await flushed(world, 3))[-1]
    assert (told["channel"], told["thread_ts"]) == (OUTER, IDEA_TS)
    news = texts(told["blocks"])
    assert "Je idee 1 is opgepakt door Marieke in de binnenkring. Streefdatum: 15 januari 2027." in news
    assert f"<@{ANNA.id}>" in news  # a real mention of the author
    assert len(world.fake.thread(OUTER, IDEA_TS)) == 2  # the confirmation and the news, both in the thread
    updated = await world.fake.wait_for(lambda: [c for c in world.fake.ok_calls("chat.update")
                                                 if "opgepakt door Marieke" in texts(c.params["blocks"])])
    assert updated[-1].params["channel"] == INNER
    assert world.fake.message(INNER, updated[-1].params["ts"]) is not None  # the digest message itself


async def test_an_edited_idea_follows_its_message_and_a_deleted_one_keeps_the_idea(
        world: World, clock: ManualClock) -> None:
    world.fake.add_message(OUTER, IDEA_TS, ANNA.id, IDEA)
    await world.slack.reaction_added("bulb", PIET.id, OUTER, IDEA_TS, "Ev01")
    await world.adapter.drain()
    await world.slack.message_changed(OUTER, IDEA_TS, "#thuiszitters Een vaste contactpersoon per wijk", "Ev02")
    await world.slack.message_deleted(OUTER, IDEA_TS, "Ev03")
    await world.adapter.drain()
    answer = await world.slack.command("/idee", "1", PIET, channel=OUTER)
    assert "#thuiszitters Een vaste contactpersoon per wijk" in answer.text
    assert "(het oorspronkelijke bericht is verwijderd)" in answer.text


async def test_a_question_in_the_consultants_channel_gets_its_experts_in_the_thread(world: World) -> None:
    sandra = await add_member(world.bot, "Sandra de Wit", user_id="U0SANDRA", platform="slack")
    await add_expertise(world.bot, sandra, "thuiszitters", "Verzuim en schoolweigering.")
    ts = world.fake.next_ts()
    await world.slack.message_posted(CONSULTANTS, ts, ANNA.id, "Heeft iemand ervaring met thuiszitters?", "Ev10")
    await world.slack.message_posted(CONSULTANTS, ts, ANNA.id, "Heeft iemand ervaring met thuiszitters?", "Ev10",
                                     retry=1)
    await world.adapter.drain()
    [answer] = world.fake.ok_calls("chat.postMessage")
    assert (answer.params["channel"], answer.params["thread_ts"]) == (CONSULTANTS, ts)
    experts = texts(answer.params["blocks"])
    assert "<@U0SANDRA>" in experts and "helpen met thuiszitters" in experts
    chatter = world.fake.next_ts()
    await world.slack.message_posted(CONSULTANTS, chatter, ANNA.id, "Fijn overleg vandaag over thuiszitters!", "Ev11")
    await world.adapter.drain()
    assert len(world.fake.ok_calls("chat.postMessage")) == 1


async def test_the_digest_outlives_an_outage_of_slack_and_is_posted_once(world: World, clock: ManualClock) -> None:
    await world.slack.command("/idee", "#gedrag Een rustige plek in elke school", ANNA, channel=OUTER)
    await world.adapter.drain()
    await flushed(world, 1)  # the confirmation in the outer circle
    await world.bot.scheduler.plan()
    async with world.bot.db.transaction() as repos:
        due = await repos.occurrences.next_due(DIGEST, clock.now())
    assert due is not None
    clock.set(due)
    world.fake.fail("chat.postMessage", 500, times=2)
    await world.bot.scheduler.run_due()
    assert await world.bot.outbox.flush() == 0  # Slack is down: the digest waits, with backoff
    await world.bot.scheduler.run_due()  # a second wake-up makes no second digest
    clock.advance(timedelta(seconds=2))
    assert await world.bot.outbox.flush() == 0
    clock.advance(timedelta(seconds=4))
    assert await world.bot.outbox.flush() == 1
    digests = [c.params for c in world.fake.ok_calls("chat.postMessage") if c.params["channel"] == INNER]
    assert len(digests) == 1 and "Een rustige plek in elke school" in texts(digests[0]["blocks"])
    assert len(world.fake.attempts("chat.postMessage")) == 4  # the confirmation, two refused tries, the digest
