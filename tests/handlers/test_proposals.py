"""Pitches and votes through the dispatcher: a school pitches, a coordinator starts a one-vote-per-school
vote, members vote and change their vote, the deadline closes it with nobody touching it, the pitch follows."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.inputs import Action, Actor, FormSubmission
from bot.core.reply import Actions, File, Form, FormRejected, Reply, reply_from_json
from storage.models import OutboxMessage
from tests.conftest import AMS, started_bot
from tests.support import actor, add_member, add_organisation, press, run, submit, text_of

COORD = actor("coord", name="Marieke")
PITCH = {"title": "Samen een groeiklas", "schools": "Baeken, vlieger", "summary": "Een groeiklas voor twee scholen.",
         "benefit": "Leerlingen blijven in de wijk.", "amount": "€ 12.500", "cofunding": "2.500,-",
         "theme": "groeiklas", "contact": "Ingrid Smit"}
VOTE = {"question": "Financieren we de groeiklas samen?", "options": "voor, tegen, onthouding",
        "electorate": "schools", "werkgebied": "", "secret": "nee", "visible": "ja", "deadline": "vrijdag 17:00",
        "quorum": "", "threshold": ""}
FRIDAY = datetime(2026, 11, 27, 17, 0, tzinfo=AMS)


async def network(bot: Bot) -> dict[str, Actor]:
    """Two schools with two members each, one member without a school, and the coordinator."""
    baeken, vlieger = await add_organisation(bot, "Baeken"), await add_organisation(bot, "Vlieger")
    people = {"ingrid": baeken, "bart": baeken, "thomas": vlieger, "vera": vlieger, "piet": None}
    for name, school in people.items():
        await add_member(bot, name.title(), user_id=name, organisation=school)
    await add_member(bot, "Marieke", user_id="coord")
    return {name: actor(name, name=name.title()) for name in people}


async def outbox(bot: Bot) -> list[OutboxMessage]:
    async with bot.db.transaction() as repos:
        return list(await repos.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def buttons(reply: Reply) -> dict[str, tuple[str, str]]:
    return {b.label: (b.action_id, b.value) for p in reply.parts if isinstance(p, Actions) for b in p.buttons}


async def pitch_and_vote(bot: Bot, people: dict[str, Actor]) -> int:
    form = await run(bot, "/pitch", people["ingrid"])
    assert isinstance(form, Form) and {f.name: f.initial for f in form.fields}["schools"] == "Baeken"
    await submit(bot, "pitch.form", PITCH, people["ingrid"])
    announcement = reply_from_json((await outbox(bot))[-1].body)
    action, value = buttons(announcement)["Stemming starten"]
    vote_form = await press(bot, action, value, COORD)
    assert isinstance(vote_form, Form) and vote_form.fields[0].initial.startswith("Financieren we pitch #1")
    started = await bot.dispatcher.dispatch(FormSubmission("stemming.form", VOTE, COORD, state=vote_form.state,
                                                           channel="C0VOORSTEL"))
    assert text_of(started) == "Stemming #1 staat in het kanaal en sluit vrijdag 27 november 17:00."
    return 1


async def test_a_pitch_is_numbered_posted_with_the_coordinators_buttons_and_goes_to_the_next_meeting(
        sqlite_bot: Bot, clock: ManualClock) -> None:
    people = await network(sqlite_bot)
    clock.set(datetime(2027, 1, 20, 9, 0, tzinfo=AMS))  # after the deadline of 2 February (19 January)
    answer = text_of(await submit(sqlite_bot, "pitch.form", PITCH, people["ingrid"]))
    assert "Je pitch is ingediend als #1" in answer
    assert "Hij gaat naar het trimesteroverleg van dinsdag 1 juni 2027" in answer
    assert "De deadline voor het overleg van dinsdag 2 februari 2027 is al voorbij" in answer
    [posted] = await outbox(sqlite_bot)
    assert posted.channel == "proposals"
    shown = text_of(reply_from_json(posted.body))
    assert "== Pitch #1: Samen een groeiklas ==" in shown
    assert "School of scholen: Baeken, Vlieger" in shown and "Gevraagd bedrag: €\u00a012.500,00" in shown
    assert "Eigen bijdrage van de scholen: €\u00a02.500,00" in shown
    assert set(buttons(reply_from_json(posted.body))) == {"Agenderen", "Stemming starten", "Begrotingsronde"}
    listed = text_of(await run(sqlite_bot, "/pitch lijst ingediend", people["piet"]))
    assert "• #1 Samen een groeiklas" in listed and "€\u00a012.500,00 · ingediend" in listed


async def test_a_bad_pitch_gets_a_message_per_field_and_nothing_is_saved(sqlite_bot: Bot) -> None:
    people = await network(sqlite_bot)
    bad = await submit(sqlite_bot, "pitch.form", PITCH | {"amount": "1.50", "cofunding": "veel", "schools": "Bakken",
                                                          "title": ""}, people["ingrid"])
    assert isinstance(bad, FormRejected)
    assert set(bad.errors) == {"amount", "cofunding", "schools", "title"}
    assert "\"1.50\" is geen bedrag. Schrijf het als € 1.500, 1500,50 of 1.500,-" in bad.errors["amount"]
    assert bad.errors["schools"] == "Ik ken geen school met de naam \"Bakken\". Bedoel je Baeken?"
    assert await outbox(sqlite_bot) == []
    assert "Er zijn (nog) geen pitches" in text_of(await run(sqlite_bot, "/pitch lijst", people["ingrid"]))


async def test_only_the_submitter_withdraws_and_the_school_edits_until_the_deadline(
        sqlite_bot: Bot, clock: ManualClock) -> None:
    people = await network(sqlite_bot)
    await submit(sqlite_bot, "pitch.form", PITCH, people["ingrid"])
    assert "niet van jou" in text_of(await run(sqlite_bot, "/pitch intrekken 1", people["bart"]))
    edit = await run(sqlite_bot, "/pitch wijzigen 1", people["bart"])  # same school: may edit
    assert isinstance(edit, Form) and edit.state == "1"
    assert text_of(await submit(sqlite_bot, "pitch.form", PITCH | {"amount": "10000"}, people["bart"], "1")) == \
        "Pitch #1 is bijgewerkt."
    assert "€\u00a010.000,00" in text_of(await run(sqlite_bot, "/pitch 1", people["piet"]))
    assert "niet van jou" in text_of(await run(sqlite_bot, "/pitch wijzigen 1", people["piet"]))
    clock.set(datetime(2027, 1, 19, 17, 1, tzinfo=AMS))  # the deadline of the February meeting has passed
    assert "wijzigen kan niet meer" in text_of(await run(sqlite_bot, "/pitch wijzigen 1", people["bart"]))
    assert text_of(await run(sqlite_bot, "/pitch intrekken 1", people["ingrid"])) == "Pitch #1 is ingetrokken."
    shown = text_of(await run(sqlite_bot, "/pitch 1", people["piet"]))
    assert "Status: ingetrokken" in shown and "ingediend (Ingrid)" in shown and "ingetrokken (Ingrid)" in shown


async def test_one_vote_per_school_the_last_ballot_counts_and_the_deadline_closes_it(
        bot: Bot, clock: ManualClock) -> None:
    people = await network(bot)
    vote = await pitch_and_vote(bot, people)
    assert "in stemming" in text_of(await run(bot, "/pitch 1", people["piet"]))

    assert text_of(await press(bot, "stemming.stem", f"{vote}:0", people["ingrid"])) == \
        "Je stem (voor Baeken): voor. Wijzigen kan tot vrijdag 27 november 17:00."
    await press(bot, "stemming.stem", f"{vote}:1", people["bart"])  # Baeken's ballot is now "tegen"
    await press(bot, "stemming.stem", f"{vote}:0", people["thomas"])
    await press(bot, "stemming.stem", f"{vote}:0", people["ingrid"])  # and back to "voor": the last counts
    refused = text_of(await press(bot, "stemming.stem", f"{vote}:0", people["piet"]))
    assert "één stem per school en je profiel noemt geen school" in refused
    shown = text_of(await run(bot, f"/stemming {vote}", people["piet"]))
    assert "2 stemmen uitgebracht — voor: 2 · tegen: 0 · onthouding: 0" in shown

    clock.set(FRIDAY)  # nobody touches anything
    assert await bot.scheduler.run_due() >= 1
    result = text_of(reply_from_json((await outbox(bot))[-1].body))
    assert "== Uitslag stemming #1: Financieren we de groeiklas samen? ==" in result
    assert "• voor: 2" in result and "Opkomst: 2 van 2." in result and "Besluit: voor." in result
    assert "voor: Baeken (Ingrid), Vlieger (Thomas)" in result  # an open vote: which school, cast by whom
    assert "Status: aangenomen" in text_of(await run(bot, "/pitch 1", people["piet"]))
    late = text_of(await press(bot, "stemming.stem", f"{vote}:1", people["vera"]))
    assert late.startswith("! Deze stemming is gesloten (vrijdag 27 november 17:00)")
    assert "Besluit: voor" in text_of(await run(bot, "/stemming lijst", people["piet"]))


async def test_a_deadline_that_passed_while_the_bot_was_down_closes_at_start_up(
        database_url: str, clock: ManualClock) -> None:
    async with started_bot(database_url, clock) as first:
        people = await network(first)
        vote = await pitch_and_vote(first, people)
        await press(first, "stemming.stem", f"{vote}:1", people["thomas"])
    clock.set(FRIDAY + timedelta(days=3))  # down all weekend
    async with started_bot(database_url, clock) as second:
        await second.scheduler.run_due()
        async with second.db.transaction() as repos:
            closed = await repos.votes.get(vote)
        assert closed is not None and closed.closed_at == FRIDAY  # the result as of the deadline
        assert closed.result["counts"] == [0, 1, 0] and closed.result["winner"] == 1
        assert "Status: afgewezen" in text_of(await run(second, "/pitch 1", people["piet"]))


async def test_a_secret_vote_never_shows_who_voted_what(sqlite_bot: Bot, clock: ManualClock) -> None:
    people = await network(sqlite_bot)
    form = VOTE | {"secret": "ja", "electorate": "members", "visible": "nee"}
    await submit(sqlite_bot, "stemming.form", form, COORD)
    for name in ("ingrid", "thomas", "piet"):
        await press(sqlite_bot, "stemming.stem", "1:0", people[name])
    assert "voor: 0" not in text_of(await run(sqlite_bot, "/stemming 1", people["piet"]))  # hidden until the close
    assert text_of(await run(sqlite_bot, "/stemming sluiten 1", COORD)) == \
        "Stemming #1 is gesloten; de uitslag staat in het kanaal."
    everything = "\n".join(text_of(reply_from_json(m.body)) for m in await outbox(sqlite_bot))
    export = await run(sqlite_bot, "/stemming export 1", COORD)
    assert isinstance(export, Reply)
    exported = next(p.data for p in export.parts if isinstance(p, File)).decode("utf-8-sig")  # sent as a file
    shown = text_of(await run(sqlite_bot, "/stemming 1", people["piet"]))
    for seen in (everything, exported, shown):
        assert not any(name in seen for name in ("Ingrid", "Thomas", "Piet"))
    assert "1;Financieren we de groeiklas samen?;voor;3" in exported
    assert "alleen coördinatoren" in text_of(await run(sqlite_bot, "/stemming export 1", people["piet"]))
    assert "al gesloten" in text_of(await run(sqlite_bot, "/stemming sluiten 1", COORD))
    assert await sqlite_bot.scheduler.run_due() == 0  # the close at the deadline was taken by the early close


async def test_those_who_have_not_voted_are_nudged_a_day_before(sqlite_bot: Bot, clock: ManualClock) -> None:
    people = await network(sqlite_bot)
    await pitch_and_vote(sqlite_bot, people)
    await press(sqlite_bot, "stemming.stem", "1:0", people["ingrid"])  # Baeken has voted; Vlieger has not
    clock.set(FRIDAY - timedelta(hours=24))
    await sqlite_bot.scheduler.run_due()
    nudged = [m for m in await outbox(sqlite_bot) if m.channel.startswith("member:")]
    async with sqlite_bot.db.transaction() as repos:
        members = await repos.members.many(int(m.channel.split(":")[1]) for m in nudged)
    assert {m.name for m in members.values()} == {"Thomas", "Vera"}
    nudge = text_of(reply_from_json(nudged[0].body))
    assert nudge.startswith("Je hebt nog niet gestemd over \"Financieren we de groeiklas samen?\" (stemming #1)")


async def test_bad_vote_settings_are_refused_field_by_field(sqlite_bot: Bot) -> None:
    assert "alleen coördinatoren" in text_of(await run(sqlite_bot, "/stemming", actor("someone")))
    bad = await submit(sqlite_bot, "stemming.form", VOTE | {"options": "ja", "deadline": "ooit",
                                                            "threshold": "150", "quorum": "veel"}, COORD)
    assert isinstance(bad, FormRejected) and set(bad.errors) == {"options", "deadline", "threshold", "quorum"}
    assert "Schrijf bijvoorbeeld vrijdag 17:00" in bad.errors["deadline"]
    assert "Er zijn nog geen stemmingen geweest." in text_of(await run(sqlite_bot, "/stemming lijst", COORD))


async def test_the_same_member_pressing_at_once_and_many_members_at_once_count_exactly(
        postgres_url: str, clock: ManualClock) -> None:
    async with started_bot(postgres_url, clock) as bot:
        school = await add_organisation(bot, "Baeken")
        voters = [actor(f"lid{n}", name=f"Lid {n}") for n in range(40)]
        for who in voters:
            await add_member(bot, who.name, user_id=who.user_id, organisation=school)
        await add_member(bot, "Marieke", user_id="coord")
        await submit(bot, "stemming.form", VOTE | {"electorate": "members"}, COORD)
        presses = [press(bot, "stemming.stem", f"1:{n % 2}", who) for n, who in enumerate(voters[1:], start=1)]
        presses += [press(bot, "stemming.stem", "1:2", voters[0]) for _ in range(5)]  # one member, five at once
        answers = await asyncio.gather(*presses)
        assert all(text_of(a).startswith("Je stem: ") for a in answers)
        async with bot.db.transaction() as repos:
            tally = await repos.votes.tally(1)
        assert sum(tally.values()) == 40
        assert tally == {0: 19, 1: 20, 2: 1}


async def test_of_two_presses_handled_out_of_order_the_later_press_counts(sqlite_bot: Bot, clock: ManualClock) -> None:
    people = await network(sqlite_bot)
    await submit(sqlite_bot, "stemming.form", VOTE | {"electorate": "members"}, COORD)
    first, second = clock.now() - timedelta(seconds=2), clock.now() - timedelta(seconds=1)
    await sqlite_bot.dispatcher.dispatch(Action("stemming.stem", "1:1", people["thomas"], pressed_at=second))
    late = await sqlite_bot.dispatcher.dispatch(Action("stemming.stem", "1:0", people["thomas"], pressed_at=first))
    assert text_of(late).startswith("Je stem: tegen.")  # the earlier press, handled last, changes nothing
    async with sqlite_bot.db.transaction() as repos:
        assert await repos.votes.tally(1) == {1: 1}


async def test_no_nudge_when_the_setting_is_zero(sqlite_url: str, clock: ManualClock) -> None:
    async with started_bot(sqlite_url, clock, vote_nudge_hours=0) as bot:
        people = await network(bot)
        await pitch_and_vote(bot, people)
        clock.set(FRIDAY - timedelta(hours=1))
        await bot.scheduler.run_due()
        assert not [m for m in await outbox(bot) if m.channel.startswith("member:")]
