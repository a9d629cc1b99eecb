"""A budget round through the dispatcher (as in the terminal): opened by a coordinator, ballots changed
until the deadline (the last counts, one per school), closed by the occurrence, exported as Pabulib."""

from __future__ import annotations

from datetime import datetime

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.reply import Actions, FieldKind, File, Form, FormRejected, Reply, reply_from_json
from tests.conftest import AMS
from tests.handlers.test_proposals import COORD, PITCH, outbox
from tests.support import actor, add_member, add_organisation, press, run, submit, text_of

FRIDAY = datetime(2026, 11, 27, 17, 0, tzinfo=AMS)


async def test_open_vote_change_close_and_export(sqlite_bot: Bot, clock: ManualClock) -> None:
    bot = sqlite_bot
    baeken, vlieger = await add_organisation(bot, "Baeken"), await add_organisation(bot, "Vlieger")
    for name, school in (("ingrid", baeken), ("bart", baeken), ("thomas", vlieger)):
        await add_member(bot, name.title(), user_id=name, organisation=school)
    await add_member(bot, "Piet", user_id="piet")
    await add_member(bot, "Marieke", user_id="coord")
    for title, amount in (("Groeiklas", "€ 30.000"), ("Gedrag", "20.000,-"), ("Thuiszitters", "€ 25.000")):
        await submit(bot, "pitch.form", PITCH | {"title": title, "amount": amount}, actor("ingrid"))

    refused = await run(bot, "/stemming begroting", actor("ingrid"))
    assert "coördinator" in text_of(refused).lower()
    form = await run(bot, "/stemming begroting", COORD)
    assert isinstance(form, Form) and {f.name: f.initial for f in form.fields}["pitches"] == "1, 2, 3"
    values = {"budget": "€ 50.000", "pitches": "1, 2, 3", "electorate": "schools", "werkgebied": "",
              "secret": "ja", "deadline": "vrijdag 17:00"}
    bad = await submit(bot, "begroting.form", values | {"budget": "veel", "pitches": "1, 9"}, COORD)
    assert isinstance(bad, FormRejected) and set(bad.errors) == {"budget", "pitches"}
    started = await submit(bot, "begroting.form", values, COORD)
    assert text_of(started) == "Begrotingsronde #1 staat in het kanaal en sluit vrijdag 27 november 17:00."
    message = reply_from_json((await outbox(bot))[-1].body)
    [row] = [p for p in message.parts if isinstance(p, Actions)]
    ballot = await press(bot, row.buttons[0].action_id, row.buttons[0].value, actor("ingrid"))
    assert isinstance(ballot, Form) and ballot.fields[0].kind is FieldKind.MULTI_CHOICE
    assert [c.value for c in ballot.fields[0].choices] == ["1", "2", "3"]

    assert "Je steunt: #1, #2." in text_of(await submit(bot, "begroting.stembiljet", {"pitches": "1,2"},
                                                        actor("ingrid"), state="1"))
    # Bart votes for the same school: it replaces Ingrid's ballot (one per school, the last counts)
    await submit(bot, "begroting.stembiljet", {"pitches": "1"}, actor("bart"), state="1")
    again = await press(bot, "begroting.stem", "1", actor("ingrid"))
    assert isinstance(again, Form) and again.fields[0].initial == "1"
    await submit(bot, "begroting.stembiljet", {"pitches": "3, 2"}, actor("thomas"), state="1")
    wrong = await submit(bot, "begroting.stembiljet", {"pitches": "7"}, actor("thomas"), state="1")
    assert isinstance(wrong, FormRejected) and "1, 2, 3" in wrong.errors["pitches"]
    assert "school" in text_of(await press(bot, "begroting.stem", "1", actor("piet")))  # Piet has no school
    assert "nog open" in text_of(await run(bot, "/stemming begroting export 1", COORD))

    clock.set(FRIDAY)
    assert await bot.scheduler.run_due() == 1
    late = await submit(bot, "begroting.stembiljet", {"pitches": "1"}, actor("bart"), state="1")
    assert "gesloten" in text_of(late)
    result = reply_from_json((await outbox(bot))[-1].body)
    text = text_of(result).replace("\xa0", " ")
    # a share of € 25.000 per school: Vlieger ({2, 3}) pays #2 (€ 20.000; #2 before #3 on the tie), then
    # has € 5.000 left, too little for #3; Baeken ({1}) cannot pay #1 (€ 30.000) from € 25.000 until the
    # completion raises the shares to € 30.000: #1 and #2 fill the budget, #3 no longer fits
    assert "€ 30.000,00 · steun: 1 van 2 · toegekend" in text
    assert "€ 20.000,00 · steun: 1 van 2 · toegekend" in text
    assert "€ 25.000,00 · steun: 1 van 2 · niet toegekend: het budget was op" in text
    assert "Toegekend: € 50.000,00 van € 50.000,00; over: € 0,00." in text
    export = await run(bot, "/stemming begroting export 1", COORD)
    assert isinstance(export, Reply)
    [file] = [p for p in export.parts if isinstance(p, File)]
    assert file.name == "begrotingsronde-1.pb" and b"Baeken" not in file.data and b"budget;5000000" in file.data
    assert "Status: toegekend" in text_of(await run(bot, "/pitch 1", COORD))
    assert "Status: niet toegekend" in text_of(await run(bot, "/pitch 3", COORD))


async def test_the_button_under_a_pitch_opens_the_form_with_that_meetings_pitches(sqlite_bot: Bot) -> None:
    await add_member(sqlite_bot, "Marieke", user_id="coord")
    await add_organisation(sqlite_bot, "Baeken")
    await add_organisation(sqlite_bot, "Vlieger")
    for title in ("Groeiklas", "Gedrag"):
        await submit(sqlite_bot, "pitch.form", PITCH | {"title": title}, COORD)
    await run(sqlite_bot, "/pitch intrekken 2", COORD)
    announcement = reply_from_json((await outbox(sqlite_bot))[0].body)
    [row] = [p for p in announcement.parts if isinstance(p, Actions)]
    button = next(b for b in row.buttons if b.label == "Begrotingsronde")
    assert "coördinator" in text_of(await press(sqlite_bot, button.action_id, button.value, actor("ingrid"))).lower()
    form = await press(sqlite_bot, button.action_id, button.value, COORD)
    assert isinstance(form, Form) and {f.name: f.initial for f in form.fields}["pitches"] == "1"  # #2 withdrawn
