"""Pitch and vote over Slack: slash command, modal submission, buttons in the channel, the tally kept up to
date with at most one chat.update a second, and the close at the deadline, against the fake Web API."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from bot.core.clock import ManualClock
from bot.core.inputs import Actor, FormSubmission
from tests.adapters.test_slack_e2e import World, running, texts
from tests.conftest import AMS
from tests.fake_slack import User, block_problems
from tests.support import add_member, add_organisation

PROPOSALS = "C0VOORSTEL"
INGRID, BART, THOMAS = User("U0INGRID", "ingrid"), User("U0BART", "bart"), User("U0THOMAS", "thomas")
COORDINATOR = User("UCOORD", "marieke")


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, channel_proposals=PROPOSALS) as w:
        w.bot.connect(w.adapter)  # the timekeeper is not started: the test says when time passes
        baeken, vlieger = await add_organisation(w.bot, "Baeken"), await add_organisation(w.bot, "Vlieger")
        for user, school in ((INGRID, baeken), (BART, baeken), (THOMAS, vlieger)):
            await add_member(w.bot, user.name.title(), user_id=user.id, platform="slack", organisation=school)
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


def button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    return next(e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["text"]["text"] == label)


async def modal(w: World, command: str, user: User) -> dict[str, Any]:
    before = len(w.fake.ok_calls("views.open"))
    answer = await w.slack.command(command, "", user, channel=PROPOSALS)
    assert (answer.status, answer.text) == (200, "")
    view: dict[str, Any] = (await w.fake.wait_for_calls("views.open", before + 1))[-1].params["view"]
    return view


async def posted(w: World, count: int) -> list[dict[str, Any]]:
    """Flush the outbox as the timekeeper would; the chat.postMessage calls so far."""
    await w.bot.outbox.flush()
    calls = await w.fake.wait_for_calls("chat.postMessage", count)
    return [c.params for c in calls]


async def test_a_school_pitches_a_coordinator_puts_it_to_the_vote_and_the_deadline_decides(
        world: World, clock: ManualClock) -> None:
    view = await modal(world, "/pitch", INGRID)
    assert view["callback_id"] == "pitch.form"
    refused = await world.slack.submit(view, {"title": "Samen een groeiklas", "schools": "Baeken, Vlieger",
                                              "summary": "Een groeiklas.", "benefit": "Voor de wijk.",
                                              "amount": "1.50", "theme": "groeiklas", "contact": "Ingrid"}, INGRID)
    assert refused.json["response_action"] == "errors"
    assert "\"1.50\" is geen bedrag" in refused.json["errors"]["amount"]
    answer = await world.slack.submit(view, {"title": "Samen een groeiklas", "schools": "Baeken, Vlieger",
                                             "summary": "Een groeiklas.", "benefit": "Voor de wijk.",
                                             "amount": "€ 12.500", "theme": "groeiklas", "contact": "Ingrid"}, INGRID)
    assert answer.status == 200
    [announcement] = await posted(world, 1)
    assert announcement["channel"] == PROPOSALS and block_problems(announcement["blocks"]) == []
    assert "Pitch #1: Samen een groeiklas" in texts(announcement["blocks"])

    start = button(announcement["blocks"], "Stemming starten")
    await world.slack.press(start, COORDINATOR, response_url=world.fake.response_url("start"), channel=PROPOSALS)
    vote_view = (await world.fake.wait_for_calls("views.open", 2))[-1].params["view"]
    assert vote_view["callback_id"] == "stemming.form"
    values = {"question": "Financieren we de groeiklas?", "options": "voor, tegen, onthouding",
              "electorate": "schools", "secret": "nee", "visible": "ja", "deadline": "vrijdag 17:00"}
    assert (await world.slack.submit(vote_view, values, COORDINATOR)).status == 200
    vote = (await posted(world, 2))[-1]
    assert vote["channel"] == PROPOSALS and "Stemming #1: Financieren we de groeiklas?" in texts(vote["blocks"])

    for n, (user, label) in enumerate(((INGRID, "voor"), (THOMAS, "tegen"), (BART, "tegen"), (THOMAS, "voor"))):
        await world.slack.press(button(vote["blocks"], label), user, response_url=world.fake.response_url(user.id),
                                channel=PROPOSALS)
        answers = await world.fake.wait_for_responses(n + 1)  # a person presses one button after the other
    assert {a.body["text"] for a in answers} >= {
        "Je stem (voor Baeken): tegen. Wijzigen kan tot vrijdag 27 november 17:00.",
        "Je stem (voor Vlieger): voor. Wijzigen kan tot vrijdag 27 november 17:00."}
    assert all(a.body["response_type"] == "ephemeral" for a in answers)
    tally = await world.fake.wait_for(lambda: [c for c in world.fake.ok_calls("chat.update")
                                               if "voor: 1 · tegen: 1" in texts(c.params["blocks"])])
    assert tally[-1].params["channel"] == PROPOSALS and tally[-1].params["ts"]

    clock.set(datetime(2026, 11, 27, 17, 0, tzinfo=AMS))
    await world.bot.scheduler.run_due()
    result = (await posted(world, 3))[-1]
    assert "Uitslag stemming #1" in texts(result["blocks"]) and "Geen besluit: geen keuze kreeg de meerderheid." \
        in texts(result["blocks"])
    closed = await world.fake.wait_for(lambda: [c for c in world.fake.ok_calls("chat.update")
                                                if "Gesloten. Uitslag:" in texts(c.params["blocks"])])
    assert not [b for b in closed[-1].params["blocks"] if b["type"] == "actions"]  # no buttons after the close


async def test_a_burst_of_presses_becomes_at_most_one_update_a_second(world: World) -> None:
    await world.bot.dispatcher.dispatch(FormSubmission(
        "stemming.form", {"question": "Zelfde tijd volgend jaar?", "options": "ja, nee", "electorate": "members",
                          "secret": "ja", "visible": "ja", "deadline": "over 3 dagen"},
        Actor("slack", COORDINATOR.id, COORDINATOR.name), channel=PROPOSALS))
    vote = (await posted(world, 1))[-1]
    voters = [User(f"U0LID{n:03d}", f"lid{n}") for n in range(30)]
    started = time.monotonic()
    for n, user in enumerate(voters):
        await world.slack.press(button(vote["blocks"], "ja" if n % 3 else "nee"), user,
                                response_url=world.fake.response_url(user.id), channel=PROPOSALS)
    await world.fake.wait_for_responses(30)
    final = await world.fake.wait_for(lambda: [c for c in world.fake.ok_calls("chat.update")
                                               if "30 stemmen uitgebracht — ja: 20 · nee: 10" in
                                               texts(c.params["blocks"])])
    elapsed = time.monotonic() - started
    updates = world.fake.ok_calls("chat.update")
    assert final and len(updates) <= elapsed + 1, (len(updates), elapsed)
    assert all(b.at - a.at >= 1.0 for a, b in itertools.pairwise(updates))  # never two within a second
