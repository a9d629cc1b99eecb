"""Order per real destination: the proposals channel is one destination, whether a message was queued
under its role ("proposals", a pitch) or under its channel id (a vote started in that channel).

Found by an outside test: after an outage of Slack the vote arrived before the pitch queued earlier,
because the outbox kept order per key and this channel had two.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.adapters.slack import PLATFORM
from bot.core.clock import ManualClock
from tests.adapters.test_slack_e2e import World, running, texts
from tests.adapters.test_slack_proposals import COORDINATOR, INGRID, PROPOSALS, THOMAS, modal
from tests.support import add_member, add_organisation

PITCH = {"summary": "Een groeiklas.", "benefit": "Voor de wijk.", "amount": "€ 12.500", "theme": "groeiklas",
         "contact": "Ingrid"}
VOTE = {"question": "Financieren we de groeiklas?", "options": "voor, tegen", "electorate": "schools",
        "secret": "nee", "visible": "ja", "deadline": "vrijdag 17:00"}


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(database_url, clock, channel_proposals=PROPOSALS) as w:
        w.bot.connect(w.adapter, PLATFORM)  # as `netwerkbot slack` does; the test says when time passes
        baeken, vlieger = await add_organisation(w.bot, "Baeken"), await add_organisation(w.bot, "Vlieger")
        for user, school in ((INGRID, baeken), (THOMAS, vlieger)):
            await add_member(w.bot, user.name.title(), user_id=user.id, platform="slack", organisation=school)
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


async def pitch(w: World, title: str, user: object) -> None:
    view = await modal(w, "/pitch", user)  # type: ignore[arg-type]
    answer = await w.slack.submit(view, PITCH | {"title": title, "schools": "Baeken"}, user)  # type: ignore[arg-type]
    assert answer.status == 200 and answer.text == ""


async def test_after_an_outage_a_channel_gets_its_messages_in_the_order_they_were_queued(
        world: World, clock: ManualClock) -> None:
    world.fake.fail("chat.postMessage", 500, times=1)  # Slack is down for the first try
    await pitch(world, "Pitch van Baeken", INGRID)  # queued for the role "proposals"
    assert await world.bot.outbox.flush() == 0
    assert len(world.fake.attempts("chat.postMessage")) == 1  # tried, failed: waits two seconds

    view = await modal(world, "/stemming", COORDINATOR)  # opened in the channel: queued for its id
    assert (await world.slack.submit(view, VOTE, COORDINATOR)).status == 200
    await pitch(world, "Pitch van Vlieger", THOMAS)  # the role again
    # Slack is back, but the channel's first message still waits its turn: nothing overtakes it
    assert await world.bot.outbox.flush() == 0
    assert len(world.fake.attempts("chat.postMessage")) == 1

    clock.advance(timedelta(seconds=3))
    assert await world.bot.outbox.flush() == 3
    posted = world.fake.ok_calls("chat.postMessage")
    assert [c.params["channel"] for c in posted] == [PROPOSALS] * 3
    headings = [texts(c.params["blocks"]).splitlines()[0] for c in posted]
    assert headings == ["Pitch #1: Pitch van Baeken", "Stemming #1: Financieren we de groeiklas?",
                        "Pitch #2: Pitch van Vlieger"]
