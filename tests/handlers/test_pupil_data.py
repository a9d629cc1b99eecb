"""No pupil data in the network: the check's floors on the labelled set, and every path that stores or posts
a member's text holding it back (a BSN refused; otherwise a private warning, nothing stored until the author
chose "Aanpassen" or "Toch delen")."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bench.pupil_data import FALSE_ALARM_GOAL, RECALL_GOAL, load, measure
from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.inputs import Action, Change, ChannelMessage, Command, FormSubmission, Reaction
from bot.core.reply import Actions, Audience, Reply
from handlers.pupils.check import screen
from storage.models import AgendaItem, Expertise, Idea, PendingShare, Pitch
from tests.conftest import started_bot
from tests.support import actor, add_expertise, add_member, add_organisation, text_of

OUTER = "C0BUITEN"
JOOST = actor("joost", name="Joost")
ANNE = actor("anne", name="Anne")
PUPIL_IDEA = "#gedrag Een time-outplek zoals voor leerling Sem de Vries uit groep 5"
BSN_IDEA = "#thuiszitters BSN 367418253 staat al in het dossier, graag een plek"


@pytest.mark.parametrize("part", ["tuned", "held_out"])
def test_the_check_finds_pupil_data_and_leaves_network_talk_alone(part: str) -> None:
    score = measure(load()[part])
    assert score.labelled >= 30 and score.ordinary >= 30
    assert score.recall >= RECALL_GOAL, score.misses
    assert score.false_alarm_rate <= FALSE_ALARM_GOAL, score.alarms


def test_a_bsn_is_a_number_that_passes_the_eleven_proof() -> None:
    today = date(2026, 12, 4)
    assert screen("Ordernummer 123456789 voor de boeken", today).kinds == ()  # fails the 11-proof
    assert screen("Ordernummer 123456782 voor de boeken", today).refused  # passes it: a BSN, whatever it is called
    assert screen("Het BSN is 1234.56.782", today).refused
    assert not screen("Leerling Noor uit groep 5 heeft hulp nodig", today).refused


@pytest.fixture
async def pupil_bot(database_url: str, clock: ManualClock) -> AsyncIterator[Bot]:
    async with started_bot(database_url, clock, channel_outer_circle=OUTER) as bot:
        for who in (JOOST, ANNE):
            await add_member(bot, who.name, user_id=who.user_id)
        yield bot


async def count(bot: Bot, model: type[object]) -> int:
    async with bot.db.transaction() as repos:
        return int(await repos.session.scalar(select(func.count()).select_from(model)) or 0)


def warning_buttons(outcome: object) -> dict[str, str]:
    """The warning's buttons by action id → value; asserts it is a private warning."""
    assert isinstance(outcome, Reply), outcome
    assert outcome.audience is Audience.ACTOR
    assert "leerlinggegevens" in text_of(outcome)
    [actions] = [p for p in outcome.parts if isinstance(p, Actions)]
    return {b.action_id: b.value for b in actions.buttons}


async def test_an_idea_naming_a_pupil_waits_for_the_author_and_share_anyway_stores_it(pupil_bot: Bot) -> None:
    outcome = await pupil_bot.dispatcher.dispatch(Command("idee", PUPIL_IDEA, JOOST, channel=OUTER))
    buttons = warning_buttons(outcome)
    assert "de naam van een leerling" in text_of(outcome)
    assert await count(pupil_bot, Idea) == 0 and await count(pupil_bot, PendingShare) == 1

    # someone else cannot use the author's button
    other = await pupil_bot.dispatcher.dispatch(Action("leerling.toch", buttons["leerling.toch"], ANNE))
    assert isinstance(other, Reply) and other.is_error and await count(pupil_bot, Idea) == 0

    shared = await pupil_bot.dispatcher.dispatch(Action("leerling.toch", buttons["leerling.toch"], JOOST))
    assert "Idee 1" in text_of(shared)
    assert await count(pupil_bot, Idea) == 1 and await count(pupil_bot, PendingShare) == 0
    again = await pupil_bot.dispatcher.dispatch(Action("leerling.toch", buttons["leerling.toch"], JOOST))
    assert isinstance(again, Reply) and again.is_error and await count(pupil_bot, Idea) == 1


async def test_edit_stores_nothing_and_gives_the_text_back(pupil_bot: Bot) -> None:
    outcome = await pupil_bot.dispatcher.dispatch(Command("idee", PUPIL_IDEA, JOOST, channel=OUTER))
    edit = warning_buttons(outcome)["leerling.aanpassen"]
    back = await pupil_bot.dispatcher.dispatch(Action("leerling.aanpassen", edit, JOOST))
    assert "Niets opgeslagen" in text_of(back) and "Sem de Vries" in text_of(back)
    assert await count(pupil_bot, Idea) == 0 and await count(pupil_bot, PendingShare) == 0


async def test_a_bsn_is_refused_and_nothing_is_kept(pupil_bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    outcome = await pupil_bot.dispatcher.dispatch(Command("idee", BSN_IDEA, JOOST, channel=OUTER))
    assert isinstance(outcome, Reply) and outcome.is_error and "BSN" in text_of(outcome)
    assert not any(isinstance(p, Actions) for p in outcome.parts)
    assert await count(pupil_bot, Idea) == 0 and await count(pupil_bot, PendingShare) == 0
    assert "367418253" not in caplog.text and "dossier" not in caplog.text  # logs never hold the text


async def test_ordinary_ideas_pass_untouched(pupil_bot: Bot) -> None:
    outcome = await pupil_bot.dispatcher.dispatch(Command(
        "idee", "#cjg Een vaste contactpersoon bij het CJG, Marieke de Vries van De Regenboog wil trekken", JOOST,
        channel=OUTER))
    assert "Idee 1" in text_of(outcome) and await count(pupil_bot, Idea) == 1


async def test_a_bulb_under_a_message_about_a_pupil_is_held_back_for_who_pressed_it(pupil_bot: Bot) -> None:
    reaction = Reaction("💡", ANNE, OUTER, "1700000000.000100", message_text="Noor (groep 5) zit thuis, #thuiszitters",
                        message_author=JOOST, link="https://x/p1", delivery_id="Ev1")
    buttons = warning_buttons(await pupil_bot.dispatcher.dispatch(reaction))
    assert await count(pupil_bot, Idea) == 0
    await pupil_bot.dispatcher.dispatch(Action("leerling.toch", buttons["leerling.toch"], ANNE))
    async with pupil_bot.db.transaction() as repos:
        [idea] = await repos.session.scalars(select(Idea))
    assert idea.source == f"console:{OUTER}:1700000000.000100" and idea.link == "https://x/p1"


async def test_an_agenda_point_about_a_pupil_is_held_back(pupil_bot: Bot) -> None:
    outcome = await pupil_bot.dispatcher.dispatch(Command("overleg", "agenda Casus Julia de Boer (groep 8)", JOOST))
    buttons = warning_buttons(outcome)
    assert await count(pupil_bot, AgendaItem) == 0
    await pupil_bot.dispatcher.dispatch(Action("leerling.toch", buttons["leerling.toch"], JOOST))
    assert await count(pupil_bot, AgendaItem) == 1


async def test_an_expertise_description_with_a_family_phone_is_held_back(pupil_bot: Bot) -> None:
    form = FormSubmission("expertise.add", {"topics": "gedrag", "description":
                                                   "Ik help de ouders van Liam, bereikbaar op 06-12345678"}, JOOST)
    warning_buttons(await pupil_bot.dispatcher.dispatch(form))
    assert await count(pupil_bot, Expertise) == 0
    fine = FormSubmission("expertise.add", {"topics": "gedrag", "description": "Gedragsspecialist, bel 06-11223344"},
                          JOOST)
    assert "gedrag" in text_of(await pupil_bot.dispatcher.dispatch(fine))
    assert await count(pupil_bot, Expertise) == 1


async def test_a_pitch_with_a_birth_date_is_held_back_until_shared(pupil_bot: Bot) -> None:
    school = await add_organisation(pupil_bot, "De Regenboog")
    values = {"title": "Rustige werkplek", "schools": school.name,
              "summary": "Voor een leerling, geboren 12-03-2016, die snel overprikkeld raakt.",
              "benefit": "Minder thuiszitters", "amount": "2500", "cofunding": "", "theme": "gedrag",
              "contact": "Joost"}
    form = FormSubmission("pitch.form", values, JOOST)
    outcome = await pupil_bot.dispatcher.dispatch(form)
    assert "een geboortedatum" in text_of(outcome)
    buttons = warning_buttons(outcome)
    assert await count(pupil_bot, Pitch) == 0
    await pupil_bot.dispatcher.dispatch(Action("leerling.toch", buttons["leerling.toch"], JOOST))
    assert await count(pupil_bot, Pitch) == 1


async def test_held_back_texts_are_forgotten_by_the_housekeeping(pupil_bot: Bot, clock: ManualClock) -> None:
    await pupil_bot.dispatcher.dispatch(Command("idee", PUPIL_IDEA, JOOST, channel=OUTER))
    clock.advance(timedelta(minutes=59))
    await pupil_bot.scheduler.housekeeping()
    assert await count(pupil_bot, PendingShare) == 1
    clock.advance(timedelta(minutes=2))
    await pupil_bot.scheduler.housekeeping()
    assert await count(pupil_bot, PendingShare) == 0


async def test_a_question_about_a_named_pupil_is_answered_only_when_shared_anyway(
        database_url: str, clock: ManualClock) -> None:
    async with started_bot(database_url, clock, channel_consultants="C0CONSULENT",
                           question_channels=frozenset({"consultants"})) as bot:
        sandra = await add_member(bot, "Sandra", user_id="sandra")
        await add_expertise(bot, await add_member(bot, "Eva", user_id="eva"), "thuiszitters")
        question = ChannelMessage("Wie weet iets van thuiszitters? Het gaat om Noor (groep 5).", actor("sandra"),
                                  "C0CONSULENT", "1700000000.000100", delivery_id="q1")
        warned = await bot.dispatcher.dispatch(question)
        buttons = warning_buttons(warned)
        assert "Eva" not in text_of(warned)
        answered = await bot.dispatcher.dispatch(Action("leerling.toch", buttons["leerling.toch"], actor("sandra")))
        assert isinstance(answered, Reply) and answered.audience is Audience.THREAD and "Eva" in text_of(answered)
        assert sandra.name == "Sandra"


async def test_an_idea_edited_to_name_a_pupil_keeps_its_text_until_the_author_chose(pupil_bot: Bot) -> None:
    reaction = Reaction("💡", ANNE, OUTER, "1700000000.000100", message_text="#gedrag Een vaste time-outplek",
                        message_author=JOOST, delivery_id="Ev1")
    await pupil_bot.dispatcher.dispatch(reaction)
    edited = ChannelMessage("#gedrag Een vaste time-outplek, zoals voor leerling Daan", JOOST, OUTER,
                            "1700000000.000100", change=Change.EDITED, delivery_id="Ev2")
    warning_buttons(await pupil_bot.dispatcher.dispatch(edited))
    async with pupil_bot.db.transaction() as repos:
        [idea] = await repos.session.scalars(select(Idea))
    assert "Daan" not in idea.text
    # an edit of a message that is no idea is nobody's business
    other = ChannelMessage("Leerling Daan uit groep 3", JOOST, OUTER, "1700000000.000900", change=Change.EDITED,
                           delivery_id="Ev3")
    assert await pupil_bot.dispatcher.dispatch(other) is None
