"""The /expertise feature as a member uses it: register, list, confirm, remove, reach someone."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.reply import Audience, Form, FormRejected, Item, Reply
from tests.support import actor, add_expertise, add_member, add_organisation, press, run, submit, text_of

COORD = actor("coord", name="Carla Coördinator")


def buttons(outcome: object) -> dict[str, tuple[str, str]]:
    """Button label → (action id, value), over the whole reply."""
    assert isinstance(outcome, Reply)
    found = {}
    for part in outcome.parts:
        for button in getattr(part, "buttons", ()):
            found[button.label] = (button.action_id, button.value)
    return found


async def topics_of(bot: Bot, who: str = "U1") -> str:
    return text_of(await run(bot, "/expertise mijn", actor(who)))


async def test_member_adds_topics_and_is_found_by_others(bot: Bot) -> None:
    reply = await run(bot, "/expertise toevoegen gedrag, dyslexie en rekenen", actor("U1", name="Ingrid"))
    assert "Toegevoegd: gedrag, dyslexie, rekenen" in text_of(reply)
    found = text_of(await run(bot, "/expertise dyslexie", actor("U2")))
    assert "Ingrid" in found and "dyslexie" in found


async def test_adding_an_existing_topic_reconfirms_it_instead_of_doubling(bot: Bot, clock: ManualClock) -> None:
    await run(bot, "/expertise toevoegen gedrag")
    clock.advance(timedelta(days=400))
    assert "(mogelijk verouderd)" in await topics_of(bot)
    reply = text_of(await run(bot, "/expertise toevoegen Gedrag"))
    assert "weer als actueel bevestigd: Gedrag" in reply
    mine = await topics_of(bot)
    assert mine.count("• ") == 1 and "verouderd" not in mine


async def test_overview_counts_people_and_organisations_per_topic(bot: Bot) -> None:
    cjg = await add_organisation(bot, "CJG Alkmaar", kind="organisatie")
    await add_expertise(bot, cjg, "thuiszitters")
    await run(bot, "/expertise toevoegen thuiszitters", actor("U1"))
    await run(bot, "/expertise toevoegen thuiszitters, gedrag", actor("U2"))
    text = text_of(await run(bot, "/expertise"))
    assert "Expertise in huis" in text
    assert "thuiszitters\n    2 personen, 1 organisatie" in text
    assert "gedrag\n    1 persoon" in text


async def test_overview_when_nothing_is_registered_says_how_to_start(bot: Bot) -> None:
    assert "/expertise toevoegen" in text_of(await run(bot, "/expertise"))


async def test_results_show_role_school_description_confirmation_and_a_way_to_reach(bot: Bot) -> None:
    school = await add_organisation(bot, "Sterrenwachter")
    fatima = await add_member(bot, "Fatima Bouzid", user_id="fatima", role="ib-er", organisation=school)
    await add_expertise(bot, fatima, "gedragsspecialist", "Observaties en handelingsadviezen")
    reply = await run(bot, "/expertise gedrag", actor("U9"))
    text = text_of(reply)
    assert "Fatima Bouzid" in text and "IB-er · Sterrenwachter · Alkmaar-Noord" in text
    assert "Observaties en handelingsadviezen · bevestigd 24 november 2026" in text
    assert isinstance(reply, Reply)
    item = next(p for p in reply.parts if isinstance(p, Item))
    assert item.mention is not None and item.mention.user_id("console") == "fatima"
    assert buttons(reply)["Stuur bericht"][0] == "expertise.contact"


async def test_stale_entries_are_marked_and_the_holder_can_confirm_them(bot: Bot, clock: ManualClock) -> None:
    ingrid = await add_member(bot, "Ingrid", user_id="U1")
    await add_expertise(bot, ingrid, "dyslexie", confirmed=clock.now() - timedelta(days=400))
    own = await run(bot, "/expertise dyslexie", actor("U1"))
    assert "(mogelijk verouderd)" in text_of(own)
    other = await run(bot, "/expertise dyslexie", actor("U2"))
    assert "dyslexie: nog actueel" not in buttons(other)  # only the holder gets the button
    action, value = buttons(own)["dyslexie: nog actueel"]
    assert "weer als actueel" in text_of(await press(bot, action, value, actor("U1")))
    assert "verouderd" not in text_of(await run(bot, "/expertise dyslexie", actor("U2")))


async def test_someone_else_cannot_confirm_or_remove_your_entry(bot: Bot) -> None:
    await run(bot, "/expertise toevoegen autisme", actor("U1"))
    mine = await run(bot, "/expertise mijn", actor("U1"))
    _, entry_id = buttons(mine)["Verwijderen"]
    refused = await press(bot, "expertise.remove", entry_id, actor("U2"))
    assert isinstance(refused, Reply) and refused.is_error and "niet jouw expertise" in text_of(refused)
    assert "autisme" in await topics_of(bot, "U1")


async def test_remove_by_command_and_by_button(bot: Bot) -> None:
    await run(bot, "/expertise toevoegen autisme, adhd")
    assert "Verwijderd: autisme" in text_of(await run(bot, "/expertise verwijderen autisme"))
    _, entry_id = buttons(await run(bot, "/expertise mijn"))["Verwijderen"]
    assert "Verwijderd: adhd" in text_of(await press(bot, "expertise.remove", entry_id))
    assert "nog geen expertise" in await topics_of(bot)


async def test_removing_an_unknown_topic_says_what_there_is(bot: Bot) -> None:
    await run(bot, "/expertise toevoegen gedrag")
    reply = await run(bot, "/expertise verwijderen dyslexie")
    assert isinstance(reply, Reply) and reply.is_error
    assert "\"dyslexie\" staat niet bij de expertise. Wat er staat: gedrag." in text_of(reply)


async def test_form_without_topics_and_per_field_errors_save_nothing(bot: Bot) -> None:
    form = await run(bot, "/expertise toevoegen")
    assert isinstance(form, Form) and [f.name for f in form.fields] == ["topics", "description"]
    rejected = await submit(bot, "expertise.add", {"topics": "", "description": "x" * 501})
    assert isinstance(rejected, FormRejected)
    assert "Noem minstens één onderwerp" in rejected.errors["topics"]
    assert "te lang: 501 tekens, hooguit 500" in rejected.errors["description"]
    assert "nog geen expertise" in await topics_of(bot)
    ok = await submit(bot, "expertise.add", {"topics": "groeiklas", "description": "Opzet en evaluatie"})
    assert "Toegevoegd: groeiklas" in text_of(ok)
    assert "groeiklas: Opzet en evaluatie" in await topics_of(bot)


async def test_coordinator_enters_expertise_for_an_organisation(bot: Bot) -> None:
    await add_organisation(bot, "CJG Alkmaar", kind="organisatie")
    form = await run(bot, "/expertise toevoegen", COORD)
    assert isinstance(form, Form) and "holder" in [f.name for f in form.fields]
    reply = await run(bot, "/expertise toevoegen voor cjg alkmaar: thuiszitters", COORD)
    assert "Toegevoegd voor CJG Alkmaar: thuiszitters" in text_of(reply)
    assert "CJG Alkmaar" in text_of(await run(bot, "/expertise verzuim"))


async def test_members_cannot_enter_expertise_for_others(bot: Bot) -> None:
    await add_organisation(bot, "CJG Alkmaar", kind="organisatie")
    reply = await run(bot, "/expertise toevoegen voor CJG Alkmaar: thuiszitters", actor("U1"))
    assert isinstance(reply, Reply) and reply.is_error and "Alleen coördinatoren" in text_of(reply)
    assert "Niemand" in text_of(await run(bot, "/expertise thuiszitters"))
    form = await run(bot, "/expertise toevoegen", actor("U1"))
    assert isinstance(form, Form) and "holder" not in [f.name for f in form.fields]


async def test_coordinator_naming_an_unknown_or_ambiguous_holder_gets_told(bot: Bot) -> None:
    await add_member(bot, "Sanne Mulder")
    await add_member(bot, "Sanne Mulders")
    unknown = text_of(await run(bot, "/expertise toevoegen voor Pietje Puk: gedrag", COORD))
    assert "Ik ken geen school, organisatie of lid met de naam \"Pietje Puk\"" in unknown
    ambiguous = text_of(await run(bot, "/expertise toevoegen voor Sanne Mulde: gedrag", COORD))
    assert "Sanne Mulder, Sanne Mulders" in ambiguous


async def test_send_message_opens_a_conversation_with_an_introduction(bot: Bot) -> None:
    els = await add_member(bot, "Els van Dijk", user_id="els")
    await add_expertise(bot, els, "gedrag")
    results = await run(bot, "/expertise gedrag", actor("U1", name="Joost"))  # a question: Joost is no member yet
    action, value = buttons(results)["Stuur bericht"]
    reply = await press(bot, action, value, actor("U1", name="Joost"))
    assert isinstance(reply, Reply) and reply.audience is Audience.GROUP
    assert [m.user_id("console") for m in reply.group] == ["els"]
    assert "Joost zoekt contact met Els van Dijk over gedrag" in text_of(reply)


async def test_more_pages_of_results(bot: Bot) -> None:
    for n in range(11):
        member = await add_member(bot, f"Lid {n:02d}", user_id=f"L{n}")
        await add_expertise(bot, member, "gedrag")
    first = await run(bot, "/expertise gedrag")
    assert "11 gevonden · 1–8 getoond" in text_of(first)
    action, value = buttons(first)["Meer"]
    second = await press(bot, action, value)
    assert isinstance(second, Reply) and second.replace_original
    assert "11 gevonden · 9–11 getoond" in text_of(second) and "Meer" not in buttons(second)


async def test_bad_input_gets_a_dutch_explanation_and_changes_nothing(bot: Bot) -> None:
    cases = {
        "/expertise toevoegen <!channel>": "Slack-opmaak",
        "/expertise toevoegen gedrag, <@U123>": "Slack-opmaak",
        "/expertise <http://x|y>": "Slack-opmaak",
        "/expertise toevoegen gedrag\x07": "stuurtekens",
        "/expertise toevoegen " + "a" * 2001: "te lang",
        "/expertise toevoegen " + "x" * 61: "te lang: hooguit 60",
        "/expertise toevoegen voor: gedrag": "Schrijf het zo",
        "/expertise verwijderen": "Noem één onderwerp",
        "/expertise ???": "kan ik niet zoeken",
        "/expertise toevoegen ,,,": "Noem minstens één onderwerp",
    }
    for command, expected in cases.items():
        reply = await run(bot, command)
        assert isinstance(reply, Reply) and reply.is_error, command
        assert expected in text_of(reply), (command, text_of(reply))
    assert "nog geen expertise" in await topics_of(bot)


async def test_every_command_answers_help_in_dutch(bot: Bot) -> None:
    for name in bot.registry.commands:
        reply = await run(bot, f"/{name} help")
        assert isinstance(reply, Reply) and not reply.is_error
        assert f"/{name}" in text_of(reply)


async def test_a_search_asked_again_shows_an_entry_turning_stale_the_moment_it_does(bot: Bot,
                                                                                   clock: ManualClock) -> None:
    """The items of a page are made once for everyone but its holders (issue 19); they hold only until the
    first entry on them turns stale, and a holder still gets their own buttons."""
    ingrid = await add_member(bot, "Ingrid", user_id="U1")
    await add_expertise(bot, ingrid, "dyslexie", confirmed=clock.now() - timedelta(days=365) + timedelta(hours=2))
    first = await run(bot, "/expertise dyslexie", actor("U2"))
    assert "(mogelijk verouderd)" not in text_of(first)
    clock.advance(timedelta(hours=1))
    assert "(mogelijk verouderd)" not in text_of(await run(bot, "/expertise dyslexie", actor("U2")))
    clock.advance(timedelta(hours=2))  # 365 days and an hour after the confirmation: twelve months ago
    again = await run(bot, "/expertise dyslexie", actor("U2"))
    assert "(mogelijk verouderd)" in text_of(again)
    assert "dyslexie: nog actueel" not in buttons(again) and "Stuur bericht" in buttons(again)
    own = await run(bot, "/expertise dyslexie", actor("U1"))
    assert "dyslexie: nog actueel" in buttons(own) and "Stuur bericht" not in buttons(own)
