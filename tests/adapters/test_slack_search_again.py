"""The same search asked again by other members, over signed HTTP (issue 19): the page's reply is made and
rendered once for everyone who sees it alike, and never outlives a change to what it shows."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.core.clock import ManualClock
from tests.adapters.test_slack_e2e import World, all_buttons, running, texts
from tests.fake_slack import User
from tests.support import add_expertise, add_member

RENDER = sys.modules["bot.adapters.slack.render"]


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock) as w:
        yield w


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The replies the Slack adapter rendered as a message, in order."""
    rendered: list[object] = []
    message = RENDER.message

    def counting(reply: Any, t: Any) -> dict[str, Any]:
        rendered.append(reply)
        return message(reply, t)  # type: ignore[no-any-return]

    monkeypatch.setattr(RENDER, "message", counting)
    return rendered


async def test_a_search_asked_again_by_others_is_rendered_once_and_answered_alike(world: World,
                                                                                   renders: list[object]) -> None:
    anna = await add_member(world.bot, "Anna Bakker", user_id="U0ANNA", platform="slack")
    await add_expertise(world.bot, anna, "gedrag", "Observaties in de klas")
    world.fake.add_user("U0PIET", "Piet Jansen")
    world.fake.add_user("U0KEES", "Kees Visser")

    first = await world.slack.command("/expertise", "gedrag", User("U0PIET", "piet"))
    await world.adapter.drain()  # Piet named after the answer: a change to members, none to what the page shows
    second = await world.slack.command("/expertise", "gedrag", User("U0KEES", "kees"))

    assert first.status == second.status == 200
    assert "Anna Bakker" in texts(first.json["blocks"])
    assert second.text == first.text  # the same answer, byte for byte …
    assert len(renders) == 1  # … rendered once

    own = await world.slack.command("/expertise", "gedrag", User("U0ANNA", "anna"))  # the holder: her own buttons
    labels = [b["text"]["text"] for b in all_buttons(own.json["blocks"])]
    assert "Stuur bericht" not in labels and "Stuur bericht" in [
        b["text"]["text"] for b in all_buttons(first.json["blocks"])]
    assert len(renders) == 2

    carla = await add_member(world.bot, "Carla de Vries")
    await add_expertise(world.bot, carla, "gedrag", "Rots en Water")
    after = await world.slack.command("/expertise", "gedrag", User("U0PIET", "piet"))
    assert "Carla de Vries" in texts(after.json["blocks"])  # a kept answer never outlives a change
    assert len(renders) == 3
