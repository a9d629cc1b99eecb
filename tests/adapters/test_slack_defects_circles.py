"""Issue 13 over signed Slack HTTP, on SQLite and PostgreSQL: the hint under the theme buttons leads
somewhere: the same idea again with a #thema gets that theme (no "Dat idee is er al"), and the hint
names the themes instead of pointing at the list of ideas."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.clock import ManualClock
from tests.adapters.test_slack_circles import ANNA, INNER, OUTER, PIET
from tests.adapters.test_slack_e2e import World, running, texts
from tests.support import add_member

IDEA = "Een vaste contactpersoon per wijk voor ouders"


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(database_url, clock, channel_outer_circle=OUTER, channel_inner_circle=INNER) as w:
        w.bot.connect(w.adapter)
        for user in (ANNA, PIET):
            w.fake.add_user(user.id, user.name.title())
            await add_member(w.bot, user.name.title(), user_id=user.id, platform="slack")
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


async def test_the_theme_hint_says_how_and_following_it_gives_the_idea_its_theme(world: World) -> None:
    await world.slack.command("/idee", "#gedrag Een rustige plek in elke school", ANNA, channel=OUTER)
    asked = await world.slack.command("/idee", IDEA, ANNA, channel=OUTER)
    shown = texts(asked.json["blocks"])
    assert "Bij welk thema hoort idee 2?" in shown
    assert "Geen passend thema? Typ /idee #thema met dezelfde tekst (een nieuw thema mag ook)." in shown
    assert "#gedrag" in shown.split("Alle thema's:")[1] and "idee lijst" not in shown

    followed = await world.slack.command("/idee", f"#ouderbetrokkenheid {IDEA}", ANNA, channel=OUTER)
    assert followed.json["text"] == "Idee 2 staat genoteerd onder #ouderbetrokkenheid."
    listing = texts((await world.slack.command("/idee", "lijst ouderbetrokkenheid", PIET, channel=OUTER))
                    .json["blocks"])
    assert IDEA in listing and listing.count("Idee 2 ·") == 1
    again = await world.slack.command("/idee", f"#gedrag {IDEA}", PIET, channel=OUTER)
    assert "Dat idee is er al: idee 2" in again.json["text"]  # once it has a theme, it is a duplicate again
