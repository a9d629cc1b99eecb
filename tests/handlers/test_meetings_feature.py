"""`/overleg` through the dispatcher: what members and coordinators see, and bad input refused in Dutch."""

from __future__ import annotations

from datetime import datetime

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.reply import Form, FormRejected
from tests.conftest import AMS
from tests.support import actor, press, run, submit, text_of

COORD = actor("coord")
ANNA, BERT = actor("anna", name="Anna"), actor("bert", name="Bert")


async def test_overleg_shows_the_next_four_and_names_the_other_series(sqlite_bot: Bot) -> None:
    shown = text_of(await run(sqlite_bot, "/overleg", ANNA))  # the clock: Tuesday 24 November, 09:00
    assert shown.splitlines()[:5] == ["== Consulentenoverleg ==", "• dinsdag 24 november 2026, 09:00–11:30",
                                      "    de verdieping", "• dinsdag 1 december 2026, 09:00–11:30",
                                      "    afstemmingsoverleg"]
    assert "/overleg binnenkring" in shown
    inner = text_of(await run(sqlite_bot, "/overleg binnenkring", ANNA))
    assert inner.startswith("== Binnenkring netwerkgroep ==\n• donderdag 3 december 2026, 15:30–17:00")
    assert "Elke 6 weken op donderdag" in inner


async def test_agenda_points_are_added_listed_and_removed_only_by_their_author_or_a_coordinator(
        sqlite_bot: Bot) -> None:
    assert "Nog geen agendapunten" in text_of(await run(sqlite_bot, "/overleg agenda", ANNA))
    added = text_of(await run(sqlite_bot, "/overleg agenda Monitoring thuiszitters", ANNA))
    assert added.startswith("Op de agenda van dinsdag 24 november 2026, 09:00–11:30 (de verdieping): Monitoring")
    number = added.rsplit(" ", 1)[1]
    assert "• dinsdag 24 november 2026, 09:00–11:30\n    de verdieping\n    1 agendapunt\n" in \
        text_of(await run(sqlite_bot, "/overleg", BERT))
    refused = text_of(await run(sqlite_bot, f"/overleg schrappen {number}", BERT))
    assert f"Agendapunt {number} is van iemand anders" in refused
    listed = await run(sqlite_bot, "/overleg agenda", BERT)
    assert "Schrappen" not in text_of(listed)  # not Bert's to remove: no button
    assert "Monitoring thuiszitters" in text_of(await run(sqlite_bot, "/overleg agenda", ANNA))
    assert text_of(await press(sqlite_bot, "overleg.schrappen", number, COORD)) == \
        "Van de agenda gehaald: Monitoring thuiszitters"
    assert "bestaat niet (meer)" in text_of(await run(sqlite_bot, f"/overleg schrappen {number}", ANNA))
    assert "Nog geen agendapunten" in text_of(await run(sqlite_bot, "/overleg agenda", ANNA))


async def test_bad_input_gets_a_dutch_explanation_and_changes_nothing(sqlite_bot: Bot) -> None:
    cases = {
        "/overleg vergaderen": "\"vergaderen\" ken ik niet bij /overleg",
        "/overleg agenda <!channel> kom allemaal": "Slack-opmaak",
        "/overleg agenda " + "x" * 301: "te lang: 301 tekens, hooguit 300",
        "/overleg schrappen twaalf": "Schrijf het nummer erbij",
    }
    for typed, expected in cases.items():
        assert expected in text_of(await run(sqlite_bot, typed, ANNA)), typed
    assert "Dit kunnen alleen coördinatoren." in text_of(await run(sqlite_bot, "/overleg overslaan 1 december", ANNA))
    assert "Schrijf het zo: /overleg overslaan 8 december" in text_of(await run(sqlite_bot, "/overleg overslaan",
                                                                                COORD))
    assert "Op woensdag 2 december 2026 is er geen Consulentenoverleg. De volgende zijn op: 24 november, " \
           "1 december, 8 december, 15 december." in text_of(await run(sqlite_bot, "/overleg overslaan 2 december",
                                                                          COORD))
    assert "al voorbij" in text_of(await run(sqlite_bot, "/overleg verplaatsen 1 december naar 20-11-2026 10:00",
                                             COORD))
    assert "Schrijf het zo: /overleg verplaatsen" in text_of(await run(sqlite_bot, "/overleg verplaatsen morgen",
                                                                         COORD))
    assert "Nog geen agendapunten" in text_of(await run(sqlite_bot, "/overleg agenda", ANNA))
    overview = text_of(await run(sqlite_bot, "/overleg", ANNA))
    assert "Geen overleg" not in overview and "verplaatst" not in overview


async def test_a_coordinator_moves_a_meeting_without_naar_and_skips_one(sqlite_bot: Bot) -> None:
    moved = text_of(await run(sqlite_bot, "/overleg verplaatsen 1 december 3 december 13:00", COORD))
    assert moved.startswith("Verplaatst naar donderdag 3 december 2026, 13:00–15:30")
    await run(sqlite_bot, "/overleg overslaan 8 december studiedag", COORD)
    overview = text_of(await run(sqlite_bot, "/overleg", ANNA))
    assert "• donderdag 3 december 2026, 13:00–15:30\n    afstemmingsoverleg\n    verplaatst" in overview
    assert "\nGeen overleg op 8 december: studiedag\n" in overview


async def test_a_coordinator_changes_the_series_with_a_form_checked_field_by_field(
        sqlite_bot: Bot, clock: ManualClock) -> None:
    assert "alleen coördinatoren" in text_of(await run(sqlite_bot, "/overleg instellen", ANNA))
    form = await run(sqlite_bot, "/overleg instellen", COORD)
    assert isinstance(form, Form)
    initial = {f.name: f.initial for f in form.fields}
    assert initial == {"title": "Consulentenoverleg", "weekday": "dinsdag", "time": "09:00-11:30", "interval": "1",
                       "types": "afstemmingsoverleg, de verdieping", "anchor": "2026-08-25", "region": "noord",
                       "alternation": "weken"}
    wrong = {"weekday": "dinsdg", "time": "11:30-09:00", "interval": "0", "region": "oost"}
    bad = await submit(sqlite_bot, "overleg.instellen", initial | wrong, COORD, form.state)
    assert isinstance(bad, FormRejected)
    assert set(bad.errors) == {"weekday", "time", "interval", "region"}
    assert bad.errors["time"].startswith("Schrijf de tijd als van-tot")
    assert "dinsdag 1 december 2026, 09:00–11:30" in text_of(await run(sqlite_bot, "/overleg", ANNA))

    saved = await submit(sqlite_bot, "overleg.instellen", initial | {
        "weekday": "woensdag", "time": "10:00-12:00", "interval": "2", "anchor": "2 september 2026",
        "alternation": "overleggen"}, COORD, form.state)
    assert "Consulentenoverleg is bijgewerkt" in text_of(saved)
    overview = text_of(await run(sqlite_bot, "/overleg", ANNA))
    assert "• woensdag 25 november 2026, 10:00–12:00\n    afstemmingsoverleg" in overview
    assert "• woensdag 9 december 2026, 10:00–12:00" in overview
    assert "Elke 2 weken op woensdag 10:00–12:00" in overview
    clock.set(datetime(2026, 12, 8, 15, 0, tzinfo=AMS))
    await sqlite_bot.scheduler.plan()
    await sqlite_bot.scheduler.run_due()  # what the save planned for the two weeks in between
    clock.set(datetime(2026, 12, 8, 16, 0, tzinfo=AMS))
    assert await sqlite_bot.scheduler.run_due() == 1  # the day before Wednesday 9 December
