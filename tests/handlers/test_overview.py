"""`/netwerkbot overzicht`: what waits for the member looking at it, through the dispatcher."""

from __future__ import annotations

from datetime import datetime

from bot.app import Bot
from bot.core.reply import Actions, Form, Item, Reply
from tests.conftest import AMS
from tests.handlers.test_proposals import COORD, PITCH, VOTE, network, pitch_and_vote
from tests.support import actor, add_expertise, add_member, press, run, submit, text_of


def buttons(reply: Reply) -> dict[str, tuple[str, str]]:
    found = [b for p in reply.parts if isinstance(p, Actions | Item) for b in p.buttons]
    return {b.label: (b.action_id, b.value) for b in found}


async def overview(bot: Bot, who: object) -> Reply:
    reply = await run(bot, "/netwerkbot overzicht", who)  # type: ignore[arg-type]
    assert isinstance(reply, Reply)
    return reply


async def test_a_member_sees_open_votes_with_buttons_then_their_choice(bot: Bot) -> None:
    people = await network(bot)
    await pitch_and_vote(bot, people)  # a vote per school, open, not secret
    before = await overview(bot, people["ingrid"])
    text = text_of(before)
    assert "Stemming #1: Financieren we de groeiklas samen?" in text and "Nog niet gestemd" in text
    assert buttons(before)["voor"] == ("stemming.stem", "1:0")
    assert "Pitch #1: Samen een groeiklas" in text and "in stemming op 24 november" in text  # her own
    await press(bot, *buttons(before)["voor"], people["ingrid"])  # the button on the overview votes
    after = await overview(bot, people["ingrid"])
    assert "Je keuze: voor" in text_of(after) and "voor" not in buttons(after)
    assert "Je keuze: voor" in text_of(await overview(bot, people["bart"]))  # Baeken's ballot, open vote
    assert "Stemming #1" not in text_of(await overview(bot, people["piet"]))  # no school: may not vote


async def test_a_secret_ballot_cast_by_someone_else_is_never_shown(sqlite_bot: Bot) -> None:
    people = await network(sqlite_bot)
    await submit(sqlite_bot, "stemming.form", VOTE | {"secret": "ja", "visible": "nee"}, COORD)
    await press(sqlite_bot, "stemming.stem", "1:1", people["ingrid"])  # "tegen", for Baeken
    assert "Je keuze: tegen" in text_of(await overview(sqlite_bot, people["ingrid"]))
    bart = text_of(await overview(sqlite_bot, people["bart"]))
    assert "Er is al gestemd voor je school (geheime stemming)" in bart and "tegen" not in bart


async def test_expertise_about_to_go_stale_has_nog_actueel_and_adding_opens_the_form(sqlite_bot: Bot) -> None:
    people = await network(sqlite_bot)
    async with sqlite_bot.db.transaction() as repos:
        ingrid = await repos.members.by_identity("console", "ingrid")
    assert ingrid is not None
    await add_expertise(sqlite_bot, ingrid, "gedrag", confirmed=datetime(2025, 12, 10, tzinfo=AMS))  # 11½ months
    await add_expertise(sqlite_bot, ingrid, "dyslexie")
    reply = await overview(sqlite_bot, people["ingrid"])
    assert "gedrag: nog actueel" in buttons(reply) and "dyslexie: nog actueel" not in buttons(reply)
    assert "bijna verouderd" in text_of(reply)
    confirmed = await press(sqlite_bot, *buttons(reply)["gedrag: nog actueel"], people["ingrid"])
    assert "gedrag" in text_of(confirmed)
    assert "gedrag: nog actueel" not in buttons(await overview(sqlite_bot, people["ingrid"]))
    assert isinstance(await press(sqlite_bot, *buttons(reply)["Expertise toevoegen"], people["ingrid"]), Form)


async def test_punt_inbrengen_puts_a_point_on_the_next_meeting(sqlite_bot: Bot) -> None:
    people = await network(sqlite_bot)
    reply = await overview(sqlite_bot, people["ingrid"])
    assert "Je volgende overleggen" in text_of(reply) and "Nog niets op de agenda." in text_of(reply)
    action, series = next(v for k, v in buttons(reply).items() if k == "Punt inbrengen")
    form = await press(sqlite_bot, action, series, people["ingrid"])
    assert isinstance(form, Form)
    added = await submit(sqlite_bot, form.form_id, {"item": "Voortgang thuiszitters"}, people["ingrid"],
                         state=form.state)
    assert "Voortgang thuiszitters" in text_of(added)
    assert "• Voortgang thuiszitters" in text_of(await overview(sqlite_bot, people["ingrid"]))
    unknown = await submit(sqlite_bot, form.form_id, {"item": "x"}, people["ingrid"], state="nergens")
    assert "Die overlegreeks ken ik niet" in text_of(unknown)


async def test_coordinators_see_what_waits_for_them_and_members_do_not(sqlite_bot: Bot) -> None:
    people = await network(sqlite_bot)
    await run(sqlite_bot, "/pitch", people["ingrid"])
    await submit(sqlite_bot, "pitch.form", PITCH, people["ingrid"])
    await run(sqlite_bot, "/idee #thuiszitters Een vaste contactpersoon per school", people["thomas"])
    coordinator = text_of(await overview(sqlite_bot, COORD))
    assert "Voor coördinatoren" in coordinator
    assert "1 pitch staat nog niet op een agenda" in coordinator and "/pitch lijst ingediend" in coordinator
    assert "1 idee wacht op de binnenkring" in coordinator
    thomas = text_of(await overview(sqlite_bot, people["thomas"]))
    assert "Voor coördinatoren" not in thomas and "Idee #1: Een vaste contactpersoon per school" in thomas


async def test_long_lists_end_in_meer_with_the_command(sqlite_bot: Bot) -> None:
    member = await add_member(sqlite_bot, "Veelweter", user_id="veel")
    for number in range(12):
        await add_expertise(sqlite_bot, member, f"onderwerp{number}")
    text = text_of(await overview(sqlite_bot, actor("veel")))
    assert "meer…: /expertise mijn" in text and text.count("bevestigd") == 8
