"""The circles over Teams, end to end: "Maak er een idee van" on a message in the outer circle's channel (the
message extension; Teams has no 💡 reaction) or `/idee` makes an idea, the digest carries it to the inner
circle, a member picks it up with a due date in a card form, and the author hears back, mentioned, in the
thread of the original message. Who is in a circle comes from the team roster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.core.clock import ManualClock
from handlers.circles.digest import DIGEST
from tests.adapters.test_teams_e2e import World, running
from tests.fake_teams import Person, Sent, buttons, card_texts
from tests.support import add_member

OUTER, INNER = "19:buiten@thread.tacv2", "19:binnen@thread.tacv2"
ANNA, PIET = Person("29:anna", "aad-anna", "Anna"), Person("29:piet", "aad-piet", "Piet")
MARIEKE = Person("29:marieke", "aad-marieke", "Marieke")
IDEA = "Wat als de <b>#thuiszitters</b> van onze wijk een vaste contactpersoon krijgen?"
MESSAGE_ID = "1790000000100"
LINK = f"https://teams.microsoft.com/l/message/{OUTER}/{MESSAGE_ID}"


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, teams_channel_outer_circle=OUTER,
                       teams_channel_inner_circle=INNER) as w:
        w.bot.connect(w.adapter, "teams")  # the timekeeper is not started: the test says when time passes
        for user in (ANNA, PIET, MARIEKE):
            await add_member(w.bot, user.name, user_id=user.aad, platform="teams")
        for channel in (OUTER, INNER):
            assert (await w.teams.installed(MARIEKE, channel)).status == 202
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


def make_idea(author: Person, text: str) -> dict[str, Any]:
    """What Teams sends when someone picks "Maak er een idee van" under a message (composeExtension/submitAction)."""
    return {"commandId": "idee", "commandContext": "message", "botMessagePreviewAction": None,
            "messagePayload": {"id": MESSAGE_ID, "linkToMessage": LINK, "messageType": "message",
                               "body": {"contentType": "html", "content": f"<p>{text}</p>"},
                               "from": {"user": {"id": author.aad, "displayName": author.name}}}}


def button(content: dict[str, Any], label: str) -> dict[str, Any]:
    return next(b for b in buttons(content) if b["title"] == label)


async def flushed(w: World, conversation: str, count: int) -> list[Sent]:
    await w.bot.outbox.flush()
    await w.fake.wait_for(lambda sent: len([s for s in sent if s.conversation == conversation and not s.targeted
                                            and s.kind != "update"]) >= count)
    return [s for s in w.fake.to(conversation) if not s.targeted and s.kind != "update"]


async def test_an_idea_from_the_message_extension_reaches_the_inner_circle_and_its_author_hears_back(
        world: World, clock: ManualClock) -> None:
    status, _ = await world.teams.invoke(PIET, "composeExtension/submitAction", make_idea(ANNA, IDEA),
                                            conversation=OUTER, kind="channel")
    assert status == 200
    [confirmed] = await flushed(world, OUTER, 1)
    assert (confirmed.kind, confirmed.activity["replyToId"]) == ("reply", MESSAGE_ID)  # in the message's thread
    assert "Genoteerd als idee 1 (#thuiszitters) van Anna" in card_texts(confirmed.card())
    # Teams retries the invoke, and someone else picks the action too: still one idea
    await world.teams.invoke(PIET, "composeExtension/submitAction", make_idea(ANNA, IDEA), conversation=OUTER,
                             kind="channel")
    await world.teams.invoke(MARIEKE, "composeExtension/submitAction", make_idea(ANNA, IDEA), conversation=OUTER,
                             kind="channel")
    assert len(await flushed(world, OUTER, 1)) == 1

    await world.bot.scheduler.plan()
    async with world.bot.db.transaction() as repos:
        due = await repos.occurrences.next_due(DIGEST, clock.now())
    assert due is not None
    clock.set(due)
    await world.bot.scheduler.run_due()
    [digest] = await flushed(world, INNER, 1)
    shown = card_texts(digest.card())
    assert "Idee 1 · Anna" in shown and "vaste contactpersoon" in shown and "<b>" not in shown

    status, _ = await world.teams.press(MARIEKE, button(digest.card(), "Oppakken"), conversation=INNER,
                                        kind="channel")
    assert status == 200
    [form] = [s for s in world.fake.to(INNER) if s.targeted]
    status, refused = await world.teams.press(MARIEKE, button(form.card(), "Oppakken"),
                                              {"due": "1-11-2026", "note": ""}, conversation=INNER, kind="channel")
    assert any("verleden" in e.get("errorMessage", "") for e in refused["value"]["body"])
    status, _ = await world.teams.press(MARIEKE, button(refused["value"], "Oppakken"),
                                           {"due": "15 januari", "note": "Ik bel leerplicht."}, conversation=INNER,
                                           kind="channel")
    assert status == 200
    told = (await flushed(world, OUTER, 2))[-1]
    assert told.activity["replyToId"] == MESSAGE_ID
    news = told.card()
    assert "opgepakt door Marieke in de binnenkring" in card_texts(news)
    assert [m["mentioned"]["id"] for m in news["msteams"]["entities"]] == [ANNA.aad]  # the author, mentioned
    await world.fake.wait_for(lambda sent: any(
        s.kind == "update" and s.conversation == INNER and "opgepakt door Marieke" in
        card_texts(s.activity["attachments"][0]["content"]) for s in sent))


async def test_idee_typed_in_the_outer_circle_is_an_idea_too(world: World) -> None:
    """Typed in a thread of the channel (Teams names the conversation `<channel>;messageid=<root>`)."""
    response = await world.teams.message(ANNA, "idee #gedrag Een rustige plek in elke school",
                                         conversation=f"{OUTER};messageid=1790000000200", kind="channel",
                                         mention=True)
    assert response.status == 202
    await world.bot.outbox.flush()
    answer, confirmed = world.fake.to(f"{OUTER};messageid=1790000000200") + world.fake.to(OUTER)
    assert answer.targeted and "Idee 1 staat genoteerd onder #gedrag." in card_texts(answer.card())
    assert not confirmed.targeted and "Genoteerd als idee 1 (#gedrag) van Anna" in card_texts(confirmed.card())


async def test_the_inner_circle_is_who_the_team_roster_lists(world: World) -> None:
    world.fake.members[INNER] = [MARIEKE, ANNA]
    await world.adapter.sync_circles()
    async with world.bot.db.transaction() as repos:
        for who, inside in ((MARIEKE, True), (ANNA, True), (PIET, False)):
            member = await repos.members.by_identity("teams", who.aad)
            assert member is not None
            assert await repos.circles.is_member("inner_circle", member.id) is inside, who
    world.fake.members[INNER] = [MARIEKE, PIET]  # Anna left the team, Piet joined: Teams says so
    assert (await world.teams.installed(PIET, INNER)).status == 202
    async with world.bot.db.transaction() as repos:
        anna = await repos.members.by_identity("teams", ANNA.aad)
        piet = await repos.members.by_identity("teams", PIET.aad)
        assert anna is not None and piet is not None
        assert not await repos.circles.is_member("inner_circle", anna.id)
        assert await repos.circles.is_member("inner_circle", piet.id)
