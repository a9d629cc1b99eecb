"""Slack's Home tab over signed HTTP against the fake Web API: app_home_opened publishes the member's
overview (views.publish), every button on it works, and it is kept current — at most once a second per
member, and only for members who opened it recently."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.adapters.slack.home import home
from bot.core.clock import ManualClock
from bot.core.inputs import Action, Actor
from bot.core.reply import Item, Reply
from config.i18n import Catalog
from tests.adapters.test_slack_e2e import World, running, texts
from tests.conftest import AMS
from tests.fake_slack import User, block_problems
from tests.handlers.test_proposals import PITCH, VOTE
from tests.support import add_expertise, add_member, add_organisation, submit

ANNA, BART, MARIEKE = User("U0ANNA", "anna"), User("U0BART", "bart"), User("UCOORD", "marieke")


def slack(user: User) -> Actor:
    return Actor("slack", user.id, user.name.title())


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock) as w:
        w.bot.connect(w.adapter)  # the refresher runs; the timekeeper does not (the test says when time passes)
        school = await add_organisation(w.bot, "Baeken")
        for user in (ANNA, BART, MARIEKE):
            w.fake.add_user(user.id, user.name.title())
            await add_member(w.bot, user.name.title(), user_id=user.id, platform="slack",
                             organisation=school if user is not MARIEKE else None)
        anna = await add_member_record(w, ANNA)
        await add_expertise(w.bot, anna, "gedrag", confirmed=datetime(2025, 12, 10, tzinfo=AMS))  # nearly stale
        await submit(w.bot, "stemming.form", VOTE | {"electorate": "members"}, slack(MARIEKE))
        await submit(w.bot, "pitch.form", PITCH | {"schools": "Baeken"}, slack(BART))
        async with w.bot.db.transaction() as repos:  # a budget round over Bart's pitch, open until Friday
            await repos.budget.create(budget_cents=20_000_00, pitches=[1], electorate="members", werkgebied="",
                                      secret=True, kind="approval", deadline=datetime(2026, 11, 27, 17, tzinfo=AMS),
                                      channel="C0VOORSTEL", by=None, now=w.bot.clock.now())
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


async def add_member_record(w: World, user: User) -> Any:
    async with w.bot.db.transaction() as repos:
        return await repos.members.by_identity("slack", user.id)


async def published(w: World, user: User, count: int = 1) -> list[dict[str, Any]]:
    """The Home views published for `user`, once there are `count`."""
    views: list[dict[str, Any]] = await w.fake.wait_for(lambda: len(homes(w, user)) >= count and homes(w, user))
    return views


def homes(w: World, user: User) -> list[dict[str, Any]]:
    return [c.params["view"] for c in w.fake.ok_calls("views.publish") if c.params["user_id"] == user.id]


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_opening_home_publishes_the_members_overview(world: World) -> None:
    assert (await world.slack.home_opened(ANNA.id, "EvHome1")).status == 200
    [view] = await published(world, ANNA)
    assert view["type"] == "home" and block_problems(view["blocks"], max_blocks=100) == []
    shown = texts(view["blocks"])
    assert "Overzicht voor Anna" in shown and "Nog niet gestemd" in shown
    assert "Stemming #1: Financieren we de groeiklas samen?" in shown and "Je expertise" in shown
    assert {b["text"]["text"] for b in buttons(view)} >= {"voor", "tegen", "onthouding", "gedrag: nog actueel",
                                                          "Expertise toevoegen", "Punt inbrengen"}
    assert "Voor coördinatoren" not in shown
    await world.slack.home_opened(MARIEKE.id, "EvHome2")
    assert "Voor coördinatoren" in texts((await published(world, MARIEKE))[0]["blocks"])
    await world.slack.home_opened(BART.id, "EvHome3", tab="messages")  # the Messages tab: no Home to publish
    await world.slack.home_opened(ANNA.id, "EvHome4")  # opened again, nothing changed: not published again
    await world.slack.home_opened(BART.id, "EvHome5")
    await published(world, BART)
    assert len(homes(world, ANNA)) == 1 and len(homes(world, BART)) == 1


async def test_a_new_person_opening_home_becomes_a_member_named_by_their_profile(world: World) -> None:
    world.fake.add_user("U0NIEUW", "Noor Nieuw")
    await world.slack.home_opened("U0NIEUW", "EvNew1")
    [view] = await published(world, User("U0NIEUW", "noor"))
    shown = texts(view["blocks"])
    assert "Overzicht voor Noor Nieuw" in shown and "Je hebt nog geen expertise" in shown
    async with world.bot.db.transaction() as repos:
        member = await repos.members.by_identity("slack", "U0NIEUW")
    assert member is not None and member.name == "Noor Nieuw"


async def test_every_button_on_home_works(world: World) -> None:
    await world.slack.home_opened(ANNA.id, "EvHome1")
    await published(world, ANNA)
    view = world.fake.homes[ANNA.id]  # as Slack keeps it, with its id
    for button in buttons(view):
        before = len(world.fake.ok_calls("views.open")), len(world.fake.ok_calls("chat.postMessage"))
        answer = await world.slack.press_in_view(button, ANNA, view)
        assert answer.status == 200, button
        await world.adapter.drain()
        opened, told = (len(world.fake.ok_calls("views.open")) - before[0],
                        len(world.fake.ok_calls("chat.postMessage")) - before[1])
        assert opened + told == 1, button  # a modal, or an answer in her direct conversation with the bot
        if told:
            said = world.fake.ok_calls("chat.postMessage")[-1].params
            assert said["channel"] == ANNA.id and ":warning:" not in texts(said["blocks"]), (button, said)
        else:
            modal = world.fake.ok_calls("views.open")[-1].params["view"]
            assert modal["callback_id"] in ("overzicht.punt", "expertise.add", "begroting.stembiljet"), button
    assert {"Stemmen", "voor", "Punt inbrengen", "Expertise toevoegen"} <= {b["text"]["text"] for b in buttons(view)}
    forms = [c.params["view"] for c in world.fake.ok_calls("views.open")]
    punt = next(f for f in forms if f["callback_id"] == "overzicht.punt")
    assert (await world.slack.submit(punt, {"item": "Voortgang thuiszitters"}, ANNA)).status == 200
    await world.adapter.drain()
    await world.fake.wait_for(lambda: "Voortgang thuiszitters" in texts(homes(world, ANNA)[-1]["blocks"]))
    ballot = next(f for f in forms if f["callback_id"] == "begroting.stembiljet")
    assert (await world.slack.submit(ballot, {"pitches": "1"}, ANNA)).status == 200
    await world.fake.wait_for(lambda: "Je keuze: #1" in texts(homes(world, ANNA)[-1]["blocks"]))


async def test_home_is_republished_when_what_it_shows_changes_at_most_once_a_second(world: World) -> None:
    interval = world.bot.refresher.interval
    await world.slack.home_opened(ANNA.id, "EvHome1")
    await published(world, ANNA)
    for option, shown in ((0, "Je keuze: voor"), (1, "Je keuze: tegen")):  # each change shows, a second apart
        await world.bot.dispatcher.dispatch(Action("stemming.stem", f"1:{option}", slack(ANNA)))
        await world.fake.wait_for(lambda shown=shown: shown in texts(homes(world, ANNA)[-1]["blocks"]))  # type: ignore[misc]
    at = datetime.now(AMS)
    for number, option in enumerate((0, 1, 0, 1, 2)):  # a burst of five ballots: one view, the last counts
        pressed = Action("stemming.stem", f"1:{option}", slack(ANNA), pressed_at=at + timedelta(milliseconds=number))
        await world.bot.dispatcher.dispatch(pressed)
    await world.fake.wait_for(lambda: "Je keuze: onthouding" in texts(homes(world, ANNA)[-1]["blocks"]))
    times = [c.at for c in world.fake.ok_calls("views.publish") if c.params["user_id"] == ANNA.id]
    assert len(times) <= 5  # the opening, the two changes, the burst in at most two
    assert all(later - earlier >= interval * 0.95 for earlier, later in itertools.pairwise(times)), times


async def test_only_members_who_opened_home_recently_are_kept_current(world: World, clock: ManualClock) -> None:
    await world.slack.home_opened(ANNA.id, "EvHome1")
    await published(world, ANNA)
    clock.advance(timedelta(minutes=16))  # Anna looked a while ago; Bart opens Home now
    await world.slack.home_opened(BART.id, "EvHome2")
    await published(world, BART)
    await submit(world.bot, "stemming.form", VOTE | {"electorate": "members", "question": "Nog een vraag?"},
                 slack(MARIEKE))  # a second vote: both would see it
    await world.fake.wait_for(lambda: "Nog een vraag?" in texts(homes(world, BART)[-1]["blocks"]))
    await world.bot.dispatcher.dispatch(Action("stemming.stem", "2:1", slack(BART)))
    await world.fake.wait_for(lambda: "Je keuze: tegen" in texts(homes(world, BART)[-1]["blocks"]))
    assert len(homes(world, ANNA)) == 1  # not rendered, not published: she is not looking
    await world.slack.home_opened(ANNA.id, "EvHome3")  # when she opens Home again, it is current
    await world.fake.wait_for(lambda: "Nog een vraag?" in texts(homes(world, ANNA)[-1]["blocks"]))


def test_a_home_view_keeps_within_100_blocks_and_says_where_the_rest_is() -> None:
    t = Catalog("nl")
    view = home(Reply(tuple(Item(f"punt {n}") for n in range(150))), t)
    assert len(view["blocks"]) == 100 and block_problems(view["blocks"], max_blocks=100) == []
    assert "/netwerkbot overzicht" in texts(view["blocks"][-1:])


async def test_the_fake_refuses_a_home_of_more_than_100_blocks_as_slack_does(world: World) -> None:
    too_many = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 101}
    refused = world.fake.views_publish({"user_id": ANNA.id, "view": too_many})
    assert refused["error"] == "invalid_arguments"
    assert "more than 100 blocks" in refused["response_metadata"]["messages"]
    assert world.fake.views_publish({"user_id": ANNA.id, "view": {"type": "modal", "blocks": []}})["ok"] is False
    assert world.fake.views_update({"view_id": "V404", "view": {}})["error"] == "not_found"
