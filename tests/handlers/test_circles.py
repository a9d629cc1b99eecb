"""Ideas of the outer circle through the dispatcher: made with /idee or a 💡, never twice, carried to the
inner circle in a digest before its meeting, picked up, parked or finished there, and the author told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.inputs import Action, Actor, Change, ChannelMessage, Command, FormSubmission, Reaction
from bot.core.reply import Audience, Form, FormRejected, Item, Reply, reply_from_json
from handlers.circles.digest import DIGEST
from handlers.circles.ideas import themed
from handlers.context import JobContext
from storage.models import Idea, Occurrence, OutboxMessage
from tests.conftest import AMS, started_bot
from tests.support import actor, add_expertise, add_member, add_organisation, text_of

OUTER, INNER = "C0BUITEN", "C0BINNEN"
JOOST = actor("joost", name="Joost")
ANNE = actor("anne", name="Anne")
MARIEKE = actor("coord", name="Marieke")
# the inner circle meets every six weeks on Thursday 15:30 (config/meetings.toml): 3 December 2026
MEETING = datetime(2026, 12, 3, 15, 30, tzinfo=AMS)


@pytest.fixture
async def circle_bot(database_url: str, clock: ManualClock) -> AsyncIterator[Bot]:
    async with started_bot(database_url, clock, channel_outer_circle=OUTER, channel_inner_circle=INNER) as bot:
        for who in (JOOST, ANNE, MARIEKE):
            await add_member(bot, who.name, user_id=who.user_id)
        yield bot


async def idee(bot: Bot, text: str, who: Actor = JOOST, channel: str = OUTER) -> Reply:
    outcome = await bot.dispatcher.dispatch(Command("idee", text, who, channel=channel))
    assert isinstance(outcome, Reply), outcome
    return outcome


async def bulb(bot: Bot, ts: str, text: str, *, by: Actor = ANNE, author: Actor | None = JOOST,
               channel: str = OUTER, event: str = "") -> Reply | None:
    outcome = await bot.dispatcher.dispatch(Reaction(
        "💡", by, channel, ts, message_text=text, message_author=author,
        link=f"https://swv.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        delivery_id=event or f"Ev{ts}{channel}"))
    assert outcome is None or isinstance(outcome, Reply)
    return outcome


async def ideas(bot: Bot) -> list[Idea]:
    async with bot.db.transaction() as repos:
        return list(await repos.session.scalars(select(Idea).order_by(Idea.id)))


async def outbox(bot: Bot) -> list[OutboxMessage]:
    async with bot.db.transaction() as repos:
        return list(await repos.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def buttons(reply: Reply) -> dict[tuple[str, str], tuple[str, str]]:
    """(idea text, button label) → (action id, value), for every button in a digest."""
    return {(p.title, b.label): (b.action_id, b.value) for p in reply.parts if isinstance(p, Item) for b in p.buttons}


async def digest_now(bot: Bot, clock: ManualClock) -> list[Reply]:
    """Plan, move the clock to the digest's moment and let the scheduler act; the digest's messages."""
    await bot.scheduler.plan()
    async with bot.db.transaction() as repos:
        due = await repos.occurrences.next_due(DIGEST, clock.now())
    assert due is not None
    clock.set(due)
    before = {m.id for m in await outbox(bot)}
    await bot.scheduler.run_due()
    return [reply_from_json(m.body) for m in await outbox(bot) if m.id not in before and m.channel == "inner_circle"]


async def test_an_idea_typed_in_the_outer_circle_is_noted_once(circle_bot: Bot) -> None:
    answer = await idee(circle_bot, "#thuiszitters Een vaste contactpersoon per wijk")
    assert text_of(answer) == "Idee 1 staat genoteerd onder #thuiszitters."
    [confirmation] = await outbox(circle_bot)
    assert confirmation.channel == OUTER and confirmation.key == "idea:1"
    assert "Genoteerd als idee 1 (#thuiszitters) van Joost" in text_of(reply_from_json(confirmation.body))

    again = await idee(circle_bot, "#thuiszitters  een vaste CONTACTPERSOON per wijk", ANNE)
    assert again.is_error and text_of(again) == "! Dat idee is er al: idee 1 (zie /idee 1)."
    assert len(await ideas(circle_bot)) == 1 and len(await outbox(circle_bot)) == 1


async def test_ideas_belong_to_the_outer_circle_and_bad_input_changes_nothing(circle_bot: Bot) -> None:
    elsewhere = await idee(circle_bot, "#gedrag Een time-out plek", channel=INNER)
    assert elsewhere.is_error and "kanaal van de buitenkring" in text_of(elsewhere)
    markup = await idee(circle_bot, "#gedrag <!channel> kijk hier")
    assert markup.is_error
    bare = await idee(circle_bot, "#gedrag")
    assert bare.is_error and "Schrijf het idee erbij" in text_of(bare)
    assert "buitenkring" in text_of(await idee(circle_bot, "help"))
    assert await ideas(circle_bot) == [] and await outbox(circle_bot) == []


async def test_a_hashtag_with_a_typo_finds_the_known_theme(circle_bot: Bot) -> None:
    await idee(circle_bot, "#Thuiszitter Huisbezoek binnen een week")
    [idea] = await ideas(circle_bot)
    assert idea.theme == "thuiszitters"


async def test_without_a_theme_the_bot_asks_and_the_choice_confirms(circle_bot: Bot) -> None:
    asked = await idee(circle_bot, "Een gezamenlijke scholing voor IB-ers")
    assert "Bij welk thema hoort idee 1?" in text_of(asked)
    choices = {b.label: b for p in asked.parts if isinstance(p, Item) for b in p.buttons}
    assert "#groeiklas" in choices and "#gedrag" in choices
    assert await outbox(circle_bot) == []  # confirmed once it has its theme
    chosen = await circle_bot.dispatcher.dispatch(Action("idee.thema", choices["#inclusie"].value, JOOST))
    assert text_of(chosen) == "Idee 1 staat genoteerd onder #inclusie."
    again = await circle_bot.dispatcher.dispatch(Action("idee.thema", choices["#gedrag"].value, JOOST))
    assert text_of(again) == "Idee 1 heeft al een thema: #inclusie."
    assert [i.theme for i in await ideas(circle_bot)] == ["inclusie"] and len(await outbox(circle_bot)) == 1


async def test_a_bulb_makes_the_message_an_idea_once_confirmed_in_its_thread(circle_bot: Bot) -> None:
    said = "Wat als we #groeiklas samen organiseren met de Vlieger?"
    assert await bulb(circle_bot, "1700000000.000100", said) is None
    [idea] = await ideas(circle_bot)
    assert (idea.theme, idea.author_id is not None, idea.thread) == ("groeiklas", True, "1700000000.000100")
    assert idea.link.endswith("/p1700000000000100")
    [confirmation] = await outbox(circle_bot)
    assert confirmation.channel == OUTER and reply_from_json(confirmation.body).thread == "1700000000.000100"
    # a second light bulb, by someone else, on the same message
    second = await bulb(circle_bot, "1700000000.000100", said, by=MARIEKE, event="Ev-second")
    assert second is not None and text_of(second) == "Dat bericht is al idee 1 (zie /idee 1)."
    # a light bulb elsewhere is only a light bulb
    assert await bulb(circle_bot, "1700000000.000200", "Lunch om 12 uur #gedrag", channel=INNER) is None
    assert len(await ideas(circle_bot)) == 1 and len(await outbox(circle_bot)) == 1


async def test_an_edited_message_updates_its_idea_and_a_deleted_one_marks_its_source(circle_bot: Bot) -> None:
    await bulb(circle_bot, "1700000000.000100", "#dyslexie Voorleessoftware voor alle scholen")
    edit = ChannelMessage("#dyslexie Voorleessoftware en spellingshulp voor alle scholen", JOOST, OUTER,
                          "1700000000.000100", change=Change.EDITED, delivery_id="Ev-edit")
    assert await circle_bot.dispatcher.dispatch(edit) is None
    [idea] = await ideas(circle_bot)
    assert idea.text == "#dyslexie Voorleessoftware en spellingshulp voor alle scholen"
    gone = ChannelMessage("", JOOST, OUTER, "1700000000.000100", change=Change.DELETED, delivery_id="Ev-del")
    await circle_bot.dispatcher.dispatch(gone)
    shown = await idee(circle_bot, "1")
    assert "(het oorspronkelijke bericht is verwijderd)" in text_of(shown)


async def test_the_digest_carries_new_ideas_by_theme_once_and_the_author_hears_back(
        circle_bot: Bot, clock: ManualClock) -> None:
    await idee(circle_bot, "#thuiszitters Een vaste contactpersoon per wijk")
    await bulb(circle_bot, "1700000000.000100", "#groeiklas met twee scholen samen")
    await idee(circle_bot, "#gedrag Een rustige plek in elke school", ANNE)
    [digest] = await digest_now(circle_bot, clock)
    assert clock.now() == MEETING - timedelta(hours=24)
    shown = text_of(digest)
    assert shown.startswith("== Ideeën uit de buitenkring voor Binnenkring netwerkgroep, donderdag 3 december ==")
    assert "3 nieuwe ideeën" in shown
    assert shown.index("#gedrag") < shown.index("#groeiklas") < shown.index("#thuiszitters")
    assert "Idee 2 · Joost" in shown and "https://swv.slack.com/archives/C0BUITEN/p1700000000000100" in shown

    # exactly once: another wake-up, or a restart, sends no second digest
    await circle_bot.scheduler.run_due()
    assert [m.channel for m in await outbox(circle_bot)].count("inner_circle") == 1

    pressed = buttons(digest)
    action, value = pressed[("#groeiklas met twee scholen samen", "Oppakken")]
    form = await circle_bot.dispatcher.dispatch(Action(action, value, MARIEKE))
    assert isinstance(form, Form) and [f.name for f in form.fields] == ["due", "note"]
    wrong = await circle_bot.dispatcher.dispatch(FormSubmission(form.form_id, {"due": "ooit", "note": ""}, MARIEKE,
                                                                state=form.state))
    assert isinstance(wrong, FormRejected) and "niet als datum lezen" in wrong.errors["due"]
    done = await circle_bot.dispatcher.dispatch(FormSubmission(form.form_id, {"due": "15 januari", "note": ""},
                                                               MARIEKE, state=form.state))
    assert text_of(done) == "Je hebt idee 2 opgepakt. Ik laat de buitenkring het weten. Streefdatum: 15 januari 2027."
    news = (await outbox(circle_bot))[-1]
    told = reply_from_json(news.body)
    assert news.channel == OUTER and told.thread == "1700000000.000100"
    assert "Je idee 2 is opgepakt door Marieke in de binnenkring." in text_of(told)
    [item] = [p for p in told.parts if isinstance(p, Item)]
    assert item.mention is not None and item.mention.user_id("console") == "joost"

    twice = await circle_bot.dispatcher.dispatch(Action(action, value, ANNE))
    assert isinstance(twice, Reply) and text_of(twice) == "! Idee 2 is al opgepakt door Marieke."
    # the digest message is refreshed to show it
    async with circle_bot.db.transaction() as repos:
        now_shown = await circle_bot.refresher.renderers["digest:"](
            JobContext(repos, circle_bot.catalog, clock.now(), circle_bot.settings), "digest:1:0")
    assert now_shown is not None and "✓ opgepakt door Marieke · streefdatum 15 januari 2027" in text_of(now_shown)


async def test_parked_ideas_come_back_and_finished_ones_tell_their_author(
        circle_bot: Bot, clock: ManualClock) -> None:
    await idee(circle_bot, "#thuiszitters Een vaste contactpersoon per wijk")
    [first] = await digest_now(circle_bot, clock)
    park = buttons(first)[("Een vaste contactpersoon per wijk", "Parkeren")]
    parked = await circle_bot.dispatcher.dispatch(Action(*park, MARIEKE))
    assert text_of(parked) == "Idee 1 staat op de parkeerplaats en komt terug in de volgende samenvatting."
    await idee(circle_bot, "#gedrag Een rustige plek in elke school", ANNE)

    [second] = await digest_now(circle_bot, clock)
    shown = text_of(second)
    assert "1 nieuw idee" in shown and "sinds de vorige samenvatting van 2 december" in shown
    assert shown.index("Een rustige plek") < shown.index("Parkeerplaats") < shown.index("Een vaste contactpersoon")
    finish = buttons(second)[("Een vaste contactpersoon per wijk", "Afgerond")]
    await circle_bot.dispatcher.dispatch(Action(*finish, ANNE))
    news = (await outbox(circle_bot))[-1]
    # an idea typed as a command has no thread until the bot's confirmation was sent: a direct message then
    assert news.channel.startswith("member:")
    assert "Je idee 1 is afgerond door Anne in de binnenkring." in text_of(reply_from_json(news.body))

    [third] = await digest_now(circle_bot, clock)
    assert "Een vaste contactpersoon" not in text_of(third) and "Een rustige plek" not in text_of(third)
    assert "Geen nieuwe of geparkeerde ideeën." in text_of(third)


async def test_the_digest_follows_the_inner_circle_meetings(circle_bot: Bot, clock: ManualClock) -> None:
    await circle_bot.scheduler.plan()
    async with circle_bot.db.transaction() as repos:
        planned = sorted(o.due_at for o in await repos.session.scalars(
            select(Occurrence).where(Occurrence.kind == DIGEST)))
    assert planned[:2] == [MEETING - timedelta(hours=24), datetime(2027, 1, 13, 15, 30, tzinfo=AMS)]


async def test_a_coordinator_can_send_the_digest_now_and_the_planned_one_brings_only_what_is_newer(
        circle_bot: Bot, clock: ManualClock) -> None:
    await idee(circle_bot, "#gedrag Een rustige plek in elke school", ANNE)
    refused = await idee(circle_bot, "samenvatting", JOOST, channel=INNER)
    assert refused.is_error and await outbox(circle_bot) != [] and len(await outbox(circle_bot)) == 1
    posted = await idee(circle_bot, "samenvatting", MARIEKE, channel=INNER)
    assert text_of(posted) == "De samenvatting met 1 idee staat in het kanaal van de binnenkring."
    [now] = [reply_from_json(m.body) for m in await outbox(circle_bot) if m.channel == "inner_circle"]
    assert "Een rustige plek in elke school" in text_of(now)
    again = await idee(circle_bot, "samenvatting", MARIEKE, channel=INNER)  # at the same moment: a second one
    assert text_of(again) == "De samenvatting met 0 ideeën staat in het kanaal van de binnenkring."
    clock.advance(timedelta(hours=1))
    await idee(circle_bot, "#thuiszitters Een vaste contactpersoon per wijk")
    [planned] = await digest_now(circle_bot, clock)
    assert "Een vaste contactpersoon" in text_of(planned) and "Een rustige plek" not in text_of(planned)


async def test_a_question_in_a_listening_channel_gets_its_experts_in_the_thread(
        database_url: str, clock: ManualClock) -> None:
    async with started_bot(database_url, clock, channel_consultants="C0CONSULENT", channel_outer_circle=OUTER,
                           question_channels=frozenset({"consultants"})) as bot:
        people = {name: await add_member(bot, name.title(), user_id=name)
                  for name in ("sandra", "marieke", "pieter", "eva", "joost")}
        for name in ("sandra", "marieke", "pieter", "eva"):
            await add_expertise(bot, people[name], "thuiszitters")
        await add_expertise(bot, await add_organisation(bot, "CJG Alkmaar", kind="organisatie"), "thuiszitters")

        def said(text: str, channel: str = "C0CONSULENT", who: str = "sandra", ts: str = "1700000000.000100",
                 change: Change = Change.NEW) -> ChannelMessage:
            return ChannelMessage(text, actor(who, name=who.title()), channel, ts, change=change,
                                  delivery_id=f"{channel}{ts}{change}")

        answer = await bot.dispatcher.dispatch(said("Wie weet iets van thuiszitters?"))
        assert isinstance(answer, Reply) and answer.audience is Audience.THREAD
        named = [p for p in answer.parts if isinstance(p, Item)]
        assert len(named) == 3 and "Sandra" not in {p.title for p in named}  # never the asker, at most three
        assert all(p.mention is not None and p.mention.user_id("console") for p in named)
        assert "CJG Alkmaar" not in text_of(answer)
        assert "Misschien kunnen deze 3 collega's je helpen met thuiszitters:" in text_of(answer)

        # the same message delivered again, an edit of it, chatter, or a channel that did not opt in: nothing
        assert await bot.dispatcher.dispatch(said("Wie weet iets van thuiszitters?")) is None
        assert await bot.dispatcher.dispatch(said("Wie weet iets van thuiszitters??", change=Change.EDITED)) is None
        assert await bot.dispatcher.dispatch(said("Gisteren een mooi gesprek over thuiszitters gehad.",
                                                  ts="1700000000.000200")) is None
        assert await bot.dispatcher.dispatch(said("Wie neemt de koffie mee?", ts="1700000000.000300")) is None
        assert await bot.dispatcher.dispatch(said("Heeft iemand ervaring met thuiszitters?", channel=OUTER,
                                                  ts="1700000000.000400")) is None


def test_the_theme_is_the_first_real_hashtag() -> None:
    assert themed("Zie <#C0123|algemeen> en &#39;dit&#39; voor #Gedrag-aanpak ideeën") == (
        "Gedrag-aanpak", "Zie <#C0123|algemeen> en &#39;dit&#39; voor ideeën")
    assert themed("geen thema hier") == ("", "geen thema hier")


@pytest.mark.postgres
async def test_the_same_idea_sent_twice_at_once_is_one_idea(postgres_url: str, clock: ManualClock) -> None:
    async with started_bot(postgres_url, clock, channel_outer_circle=OUTER) as bot:
        for who in (JOOST, ANNE):
            await add_member(bot, who.name, user_id=who.user_id)
        answers = await asyncio.gather(*(idee(bot, "#gedrag Een rustige plek in elke school", who)
                                         for who in (JOOST, ANNE, JOOST, ANNE)))
        assert sum(not a.is_error for a in answers) == 1
        [idea] = await ideas(bot)  # its number need not be 1: PostgreSQL does not give back a sequence value
        refused = f"! Dat idee is er al: idee {idea.id} (zie /idee {idea.id})."
        assert {text_of(a) for a in answers if a.is_error} == {refused}
        assert len(await outbox(bot)) == 1
