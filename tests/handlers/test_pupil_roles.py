"""Roles and circles inside the bot: coordinators in the database (the environment only seeds them), a log of
what they did, and circle membership from the platform limiting the digest's buttons and circle votes."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.inputs import Action, Command, FormSubmission, MembershipChanged
from bot.core.reply import File, Form, Reply
from tests.conftest import started_bot
from tests.support import actor, add_member, run, text_of

OUTER, INNER = "C0BUITEN", "C0BINNEN"
BOSS = actor("coord", name="Marieke")  # in NETWERKBOT_COORDINATORS (tests/conftest.py)
ANNA = actor("anna", name="Anna")
JOOST = actor("joost", name="Joost")


@pytest.fixture
async def roles_bot(database_url: str, clock: ManualClock) -> AsyncIterator[Bot]:
    async with started_bot(database_url, clock, channel_outer_circle=OUTER, channel_inner_circle=INNER) as bot:
        for who in (BOSS, ANNA, JOOST):
            await add_member(bot, who.name, user_id=who.user_id)
        yield bot


async def is_coordinator(bot: Bot, who: str) -> bool:
    outcome = await run(bot, "/netwerkbot instellingen", actor(who))
    return isinstance(outcome, Reply) and not outcome.is_error


async def test_coordinators_are_managed_in_the_bot_and_the_environment_only_seeds(
        roles_bot: Bot, clock: ManualClock) -> None:
    assert not await is_coordinator(roles_bot, "anna")
    refused = await run(roles_bot, "/netwerkbot coordinatoren toevoegen Anna", JOOST)
    assert isinstance(refused, Reply) and refused.is_error and "coördinatoren" in text_of(refused)

    added = await run(roles_bot, "/netwerkbot coordinatoren toevoegen Anna", BOSS)
    assert text_of(added) == "Anna is nu coördinator."
    assert await is_coordinator(roles_bot, "anna")
    assert "Anna" in text_of(await run(roles_bot, "/netwerkbot coordinatoren", JOOST))

    clock.advance(timedelta(minutes=1))
    removed = await run(roles_bot, "/netwerkbot coordinatoren verwijderen Marieke", ANNA)
    assert text_of(removed) == "Marieke is geen coördinator meer."
    # the environment still names Marieke: a removal in the bot sticks
    assert not await is_coordinator(roles_bot, "coord")
    last = await run(roles_bot, "/netwerkbot coordinatoren verwijderen Anna", ANNA)
    assert isinstance(last, Reply) and last.is_error and "laatste" in text_of(last)


async def test_a_slack_mention_names_the_account(roles_bot: Bot) -> None:
    boss = actor("UCOORD", platform="slack", name="Marieke")
    await add_member(roles_bot, "Sven", user_id="U0SVEN", platform="slack")
    added = await roles_bot.dispatcher.dispatch(Command("netwerkbot", "coordinatoren toevoegen <@U0SVEN|sven>", boss))
    assert text_of(added) == "Sven is nu coördinator."
    assert await is_coordinator_on(roles_bot, "slack", "U0SVEN")


async def is_coordinator_on(bot: Bot, platform: str, user_id: str) -> bool:
    async with bot.db.transaction() as repos:
        return await repos.coordinators.is_coordinator(platform, user_id)


async def test_every_coordinator_action_is_logged_and_exported(roles_bot: Bot, clock: ManualClock) -> None:
    await run(roles_bot, "/netwerkbot coordinatoren toevoegen Anna", BOSS)
    clock.advance(timedelta(minutes=5))
    await run(roles_bot, "/netwerkbot instellingen", ANNA)
    await run(roles_bot, "/netwerkbot instellingen", JOOST)  # refused: not a coordinator action, not logged
    await run(roles_bot, "/netwerkbot profiel rol ib-er", ANNA)  # no right needed: not logged
    log = await run(roles_bot, "/netwerkbot logboek", BOSS)
    shown = text_of(log)
    assert "Marieke: /netwerkbot coordinatoren toevoegen Anna → Anna is nu coördinator." in shown
    assert "Anna: /netwerkbot instellingen" in shown
    assert "Joost" not in shown and "profiel" not in shown
    assert "24 nov 2026 09:05" in shown

    exported = await run(roles_bot, "/netwerkbot logboek export", BOSS)
    assert isinstance(exported, Reply)
    [file] = [p for p in exported.parts if isinstance(p, File)]
    rows = list(csv.reader(io.StringIO(file.data.decode())))
    assert rows[0] == ["tijdstip", "wie", "wat", "uitkomst"]
    assert [r[1:3] for r in rows[1:4]] == [["Marieke", "/netwerkbot coordinatoren toevoegen Anna"],
                                           ["Anna", "/netwerkbot instellingen"],
                                           ["Marieke", "/netwerkbot logboek"]]
    refused = await run(roles_bot, "/netwerkbot logboek", JOOST)
    assert isinstance(refused, Reply) and refused.is_error


async def inner_circle(bot: Bot, *user_ids: str) -> None:
    await bot.dispatcher.membership(MembershipChanged("console", INNER, members=user_ids))


async def test_the_digest_buttons_are_for_the_inner_circle(roles_bot: Bot) -> None:
    await roles_bot.dispatcher.dispatch(Command("idee", "#gedrag Een vaste time-outplek per school", JOOST,
                                                channel=OUTER))
    await inner_circle(roles_bot, "anna")
    refused = await roles_bot.dispatcher.dispatch(Action("idee.parkeren", "1", JOOST))
    assert isinstance(refused, Reply) and refused.is_error and "binnenkring" in text_of(refused)
    refused_form = await roles_bot.dispatcher.dispatch(FormSubmission("idee.oppakken", {}, JOOST, state="1"))
    assert isinstance(refused_form, Reply) and refused_form.is_error
    assert isinstance(await roles_bot.dispatcher.dispatch(Action("idee.oppakken", "1", ANNA)), Form)

    # Joost joins the inner circle's channel; Anna leaves it
    await roles_bot.dispatcher.membership(MembershipChanged("console", INNER, "joost", joined=True, delivery_id="j1"))
    await roles_bot.dispatcher.membership(MembershipChanged("console", INNER, "anna", joined=False, delivery_id="l1"))
    parked = await roles_bot.dispatcher.dispatch(Action("idee.parkeren", "1", JOOST))
    assert isinstance(parked, Reply) and not parked.is_error
    assert (await roles_bot.dispatcher.dispatch(Action("idee.afgerond", "1", ANNA))).is_error  # type: ignore[union-attr]


async def test_a_vote_of_the_inner_circle_counts_its_members_only(roles_bot: Bot) -> None:
    await inner_circle(roles_bot, "anna", "coord")
    form = await run(roles_bot, "/stemming", BOSS)
    assert isinstance(form, Form)
    values = {"question": "Doen we mee met de pilot?", "options": "voor, tegen", "electorate": "inner_circle",
              "werkgebied": "", "secret": "nee", "visible": "ja", "deadline": "vrijdag 17:00", "quorum": "",
              "threshold": ""}
    made = await roles_bot.dispatcher.dispatch(FormSubmission("stemming.form", values, BOSS, state=form.state))
    assert isinstance(made, Reply) and not made.is_error, made
    async with roles_bot.db.transaction() as repos:
        [vote] = await repos.votes.listing()
        assert sorted(await repos.votes.electorate(vote)) == sorted(
            [f"m:{m.id}" for m in await repos.members.all() if m.name in ("Anna", "Marieke")])
    refused = await roles_bot.dispatcher.dispatch(Action("stemming.stem", f"{vote.id}:0", JOOST))
    assert isinstance(refused, Reply) and refused.is_error and "binnenkring" in text_of(refused)
    cast = await roles_bot.dispatcher.dispatch(Action("stemming.stem", f"{vote.id}:0", ANNA))
    assert isinstance(cast, Reply) and not cast.is_error


async def test_acting_for_another_member_is_a_coordinator_action_too(roles_bot: Bot) -> None:
    await run(roles_bot, "/expertise toevoegen voor Anna: dyslexie", BOSS)
    await run(roles_bot, "/expertise toevoegen gedrag", BOSS)  # for herself: no right needed
    shown = text_of(await run(roles_bot, "/netwerkbot logboek", BOSS))
    assert "Marieke: /expertise toevoegen voor Anna: dyslexie" in shown
    assert "toevoegen gedrag" not in shown
