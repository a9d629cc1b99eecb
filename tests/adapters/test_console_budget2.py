"""The budget round and a vote with several choices in the real `netwerkbot console --demo` process,
typed at through a pseudo-terminal: a ranked ballot is a numbered question per place."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from tests.adapters.test_console_e2e import INGRID, MARIEKE, PROMPT, session


def in_three_days() -> str:
    """When "over 3 dagen" closes, typed today (the process runs on the real clock): 17:00 in Amsterdam."""
    zone = ZoneInfo("Europe/Amsterdam")
    closes = datetime.combine(datetime.now(zone).date() + timedelta(days=3), time(17), tzinfo=zone)
    return format_datetime(closes, "EEEE d MMMM HH:mm", locale="nl")


def test_a_ranked_budget_round_and_a_multiple_choice_vote_in_the_terminal(tmp_path: Path) -> None:
    ingrid = session(tmp_path, INGRID)
    try:
        for title in ("Samen een groeiklas", "Gedragsspecialist delen"):
            ingrid.child.sendline("/pitch")
            ingrid.fill("Titel: ", title)
            ingrid.fill("[Baeken]: ", "")
            ingrid.fill("Samenvatting: ", "Samen met Vlieger.")
            ingrid.fill("werkgebied brengt: ", "Leerlingen blijven in de wijk.")
            ingrid.fill("of 1500,50: ", "€ 12.500")
            ingrid.fill("(optioneel): ", "")
            ingrid.fill("groeiklas: ", "groeiklas")
            ingrid.fill("[Ingrid Smit]: ", "")
            ingrid.child.expect_exact("Je pitch is ingediend als #")
        assert ingrid.stop() == 0
    finally:
        ingrid.close()

    marieke = session(tmp_path, MARIEKE)
    try:
        marieke.child.sendline("/stemming begroting")
        marieke.fill("Budget: ", "€ 20.000")
        marieke.fill("[1, 2]: ", "")
        marieke.fill("Wie stemt [één stem per school]: ", "")
        marieke.fill("bijvoorbeeld Alkmaar-Noord: ", "")
        marieke.fill("Alleen een kring (optioneel): ", "")
        marieke.fill("Soort stembiljet [goedkeuren (vink aan wat je steunt)]: ", "2")  # rangorde
        marieke.fill("Geheim of open [geheim]: ", "")
        marieke.fill("over 3 dagen: ", "over 3 dagen")
        marieke.child.expect_exact("Begrotingsronde #1 staat in het kanaal en sluit")
        marieke.child.sendline("/stemming")
        marieke.fill("Vraag: ", "Welke thema's dit jaar?")
        marieke.fill("[voor, tegen, onthouding]: ", "gedrag, dyslexie, groeiklas")
        marieke.fill("Soort stemming [één keuze (een knop per keuze)]: ", "2")  # meerdere keuzes
        marieke.fill("leeg: zoveel als er keuzes zijn: ", "2")
        marieke.fill("Wie stemt [elk lid één stem]: ", "")
        for ending in ("bijvoorbeeld Alkmaar-Noord: ", "[open (na sluiting zichtbaar wie wat koos)]: ",
                       "[zichtbaar tijdens de stemming]: "):
            marieke.fill(ending, "")
        marieke.fill("over 3 dagen: ", "over 3 dagen")
        marieke.fill("geen quorum: ", "")
        marieke.fill("bijvoorbeeld 66: ", "")
        marieke.child.expect_exact("Stemming #1 staat in het kanaal en sluit")
        assert marieke.stop() == 0
    finally:
        marieke.close()

    ingrid = session(tmp_path, INGRID)
    try:
        shown = ingrid.say("/stemming begroting 1")
        assert "rangorde" in shown and "[1] Stemmen" in shown, shown
        ingrid.child.sendline("1")
        first = ingrid.fill("1e keuze (optioneel) — ", "2")
        assert "[1] #1 Samen een groeiklas" in first and "[2] #2 Gedragsspecialist delen" in first, first
        ingrid.fill("2e keuze (optioneel): ", "1")
        ingrid.child.expect_exact(f"Je steunt: #2 > #1. Je kunt dit wijzigen tot {in_three_days()}")
        ingrid.child.expect_exact("[bericht bijgewerkt in kanaal console]")  # the round's message, kept current
        ingrid.child.expect_exact("1 stem uitgebracht")

        ingrid.child.sendline("/stemming 1")
        ingrid.child.expect_exact("meerdere keuzes (ten hoogste 2)")
        ingrid.child.expect_exact("[1] Stemmen")
        ingrid.child.expect(PROMPT)
        ingrid.child.sendline("1")
        ingrid.fill("Je keuzes (ten hoogste 2)", "1,2,3")  # one too many: asked again
        ingrid.child.expect_exact("Kies er minstens één en ten hoogste 2")
        ingrid.fill("Je keuzes (ten hoogste 2)", "1,3")
        ingrid.child.expect_exact("Je stem: gedrag, groeiklas.")
        assert ingrid.stop() == 0
    finally:
        ingrid.close()
