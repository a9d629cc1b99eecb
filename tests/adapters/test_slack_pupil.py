"""Issue 15 over Slack, end to end (signed HTTP through the real bolt app, the Web API on the fake Slack):
pupil data held back with a private warning and its two buttons, coordinators added by mention, and the
inner circle's membership (conversations.members at start, member_joined/left_channel events) limiting
the digest's buttons."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.clock import ManualClock
from storage.models import Idea
from tests.adapters.test_slack_e2e import World, running, texts
from tests.fake_slack import User
from tests.support import add_member

OUTER, INNER = "C0BUITEN", "C0BINNEN"
ANNA, PIET, MARIEKE = User("U0ANNA", "anna"), User("U0PIET", "piet"), User("UCOORD", "marieke")


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, channel_outer_circle=OUTER, channel_inner_circle=INNER) as w:
        w.bot.connect(w.adapter)
        for user in (ANNA, PIET, MARIEKE):
            w.fake.add_user(user.id, user.name.title())
            await add_member(w.bot, user.name.title(), user_id=user.id, platform="slack")
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["text"]["text"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


async def ideas(w: World) -> int:
    async with w.bot.db.transaction() as repos:
        return int(await repos.session.scalar(select(func.count()).select_from(Idea)) or 0)


async def test_an_idea_naming_a_pupil_is_held_back_privately_until_shared_anyway(world: World) -> None:
    answer = await world.slack.command("/idee", "#gedrag Een rustige plek voor leerling Sem de Vries (groep 5)",
                                       PIET, channel=OUTER)
    assert answer.status == 200 and answer.json["response_type"] == "ephemeral"
    assert "de naam van een leerling" in texts(answer.json["blocks"])
    assert await ideas(world) == 0
    share = buttons(answer.json["blocks"])["Toch delen"]
    await world.slack.press(share, PIET, response_url=world.fake.response_url("share"), channel=OUTER)
    [shared] = await world.fake.wait_for_responses(1)
    assert "Idee 1" in texts(shared.body["blocks"]) and await ideas(world) == 1

    refused = await world.slack.command("/idee", "#thuiszitters BSN 367418253, graag een plek", PIET, channel=OUTER)
    assert "burgerservicenummer" in texts(refused.json["blocks"]) and "Toch delen" not in refused.text
    assert await ideas(world) == 1


async def test_a_coordinator_adds_another_by_mention(world: World) -> None:
    answer = await world.slack.command("/netwerkbot", f"coordinatoren toevoegen <@{ANNA.id}|anna>", MARIEKE)
    assert texts(answer.json["blocks"]) == "Anna is nu coördinator."
    log = await world.slack.command("/netwerkbot", "logboek", ANNA)
    # the log shows what was typed, escaped: it pings nobody
    assert f"Marieke: /netwerkbot coordinatoren toevoegen &lt;@{ANNA.id}|anna&gt;" in texts(log.json["blocks"])


async def test_the_digest_buttons_follow_the_inner_circle_channel(world: World) -> None:
    world.fake.add_members(INNER, MARIEKE.id, ANNA.id)
    await world.adapter.sync_circles()
    assert [c.params["channel"] for c in world.fake.ok_calls("conversations.members")] == [INNER]
    await world.slack.command("/idee", "#gedrag Een vaste time-outplek per school", ANNA, channel=OUTER)
    await world.slack.command("/idee", "samenvatting", MARIEKE, channel=INNER)
    await world.bot.outbox.flush()
    digest = next(c.params for c in await world.fake.wait_for_calls("chat.postMessage", 2)
                  if c.params["channel"] == INNER)
    park = buttons(digest["blocks"])["Parkeren"]

    await world.slack.press(park, PIET, response_url=world.fake.response_url("piet-1"), channel=INNER)
    [refused] = await world.fake.wait_for_responses(1)
    assert "je zit niet in het kanaal van de binnenkring" in texts(refused.body["blocks"])

    assert (await world.slack.member_joined(INNER, PIET.id, "EvJoin")).status == 200
    assert (await world.slack.member_left(INNER, ANNA.id, "EvLeave")).status == 200
    await world.adapter.drain()
    await world.slack.press(park, PIET, response_url=world.fake.response_url("piet-2"), channel=INNER)
    parked = (await world.fake.wait_for_responses(2))[-1]
    assert "parkeerplaats" in texts(parked.body["blocks"])
    await world.slack.press(buttons(digest["blocks"])["Afgerond"], ANNA, response_url=world.fake.response_url("a"),
                            channel=INNER)
    gone = (await world.fake.wait_for_responses(3))[-1]
    assert "binnenkring" in texts(gone.body["blocks"])
