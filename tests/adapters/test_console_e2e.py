"""The real `netwerkbot console --demo` process, typed at through a pseudo-terminal.

Each test starts the installed console script in its own empty directory, without DATABASE_URL
or NETWERKBOT_* settings, so it makes the default SQLite file there exactly as it would for
someone trying the bot for the first time.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

NETWERKBOT = Path(sys.executable).with_name("netwerkbot")
TIMEOUT = 30
PROMPT = re.compile(r"\r?\n> ")
JOOST = 6  # Joost Visser, leerkracht at Lierenland: no coordinator, no behaviour expertise of his own
MARIEKE, INGRID = 1, 3  # Marieke Bakker, consultant and coordinator; Ingrid Smit, IB-er at Baeken


def as_from_a_terminal() -> None:
    """In the child before exec: Ctrl-C as a person's terminal delivers it, however the tests were started
    (a shell's background job inherits SIGINT ignored, and an ignored signal stays ignored across exec)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Console:
    """One console process, spoken to as a person would: a line typed, the answer read."""

    def __init__(self, folder: Path) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("NETWERKBOT_", "SLACK_")) and k != "DATABASE_URL"}
        self.child = pexpect.spawn(str(NETWERKBOT), ["console", "--demo"], cwd=str(folder), env=env,
                                   encoding="utf-8", timeout=TIMEOUT, dimensions=(50, 200),
                                   preexec_fn=as_from_a_terminal)

    def choose(self, number: int) -> str:
        """Picks a demo member at the "Kies een nummer" prompt; returns the greeting."""
        self.child.expect_exact("Kies een nummer: ")
        self.child.sendline(str(number))
        self.child.expect(PROMPT)
        return self._answer(str(number))

    def say(self, line: str) -> str:
        """Types a line at the chat prompt; returns what the bot printed before the next prompt."""
        self.child.sendline(line)
        self.child.expect(PROMPT)
        return self._answer(line)

    def fill(self, prompt_ending: str, line: str) -> str:
        """Waits for a form question that ends with `prompt_ending`, answers it; returns what came before."""
        self.child.expect_exact(prompt_ending)
        before = self._text(self.child.before)
        self.child.sendline(line)
        return before

    def stop(self) -> int:
        self.child.sendline("/stop")
        self.child.expect_exact("Tot ziens!")
        self.child.expect(pexpect.EOF)
        self.child.close()
        return int(self.child.exitstatus)

    def _answer(self, typed: str) -> str:
        text = self._text(self.child.before).lstrip("\n")  # after a message the bot printed by itself
        echo, _, rest = text.partition("\n")  # the terminal echoes what was typed
        assert typed in echo, text
        return rest

    @staticmethod
    def _text(raw: object) -> str:
        assert isinstance(raw, str)
        return raw.replace("\r\n", "\n")

    def close(self) -> None:
        if self.child.isalive():
            self.child.close(force=True)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    session = Console(tmp_path)
    yield session
    session.close()


def button(text: str, after: str, label: str) -> str:
    """The number of the first button called `label` that follows the line starting with `after`."""
    match = re.search(rf"^{re.escape(after)}.*?\[(\d+)\] {re.escape(label)}", text, re.MULTILINE | re.DOTALL)
    assert match, f"no [n] {label} after {after!r} in:\n{text}"
    return match.group(1)


def found(text: str) -> int:
    match = re.search(r"(\d+) gevonden", text)
    assert match, text
    return int(match.group(1))


def test_a_demo_member_finds_the_behaviour_specialists_and_reaches_one(console: Console) -> None:
    console.child.expect_exact("Wie ben je?")
    console.child.expect_exact("Kies een nummer: ")
    assert "[9] Els van Dijk — expert, SBO De Vlindertuin" in Console._text(console.child.before)
    console.child.sendline("99")
    console.child.expect_exact("Kies een nummer van 1 tot 12.")
    assert "Hallo Joost Visser." in console.choose(JOOST)

    results = console.say("/expertise gedrag")
    assert "== Expertise: gedrag ==" in results
    for specialist in ("Els van Dijk", "Marieke Bakker", "Fatima Bouzid", "Sanne Mulder", "SBO De Vlindertuin"):
        assert f"• {specialist}" in results
    assert "gedragsspecialist: Gedragsspecialist (master SEN)" in results

    conversation = console.say(button(results, "• Els van Dijk", "Stuur bericht"))
    assert "(privégesprek met Els van Dijk)" in conversation
    assert "Joost Visser zoekt contact met Els van Dijk over gedrag." in conversation

    overview = console.say("/expertise")
    assert "== Expertise in huis ==" in overview
    topic = console.say(button(overview, "• thuiszitters", "Toon"))
    assert "== Expertise: thuiszitters ==" in topic
    assert "• Marieke Bakker" in topic and "• Sandra Hoekstra" in topic and "• CJG Alkmaar" in topic
    assert console.stop() == 0


def test_the_meeting_rhythm_and_its_agenda_in_the_terminal(console: Console) -> None:
    """Real time here (the process's own clock): what is asserted holds on any date."""
    console.choose(JOOST)
    overview = console.say("/overleg")
    assert overview.startswith("== Consulentenoverleg ==")
    assert overview.count("• dinsdag ") == 4 and ", 09:00–11:30" in overview
    assert "Elke week op dinsdag 09:00–11:30, afwisselend afstemmingsoverleg / de verdieping" in overview
    assert "Andere reeksen: /overleg binnenkring, /overleg buitenkring, /overleg trimester" in overview

    added = console.say("/overleg agenda Casus groeiklas Lierenland")
    assert added.startswith("Op de agenda van dinsdag ") and "Casus groeiklas Lierenland" in added
    agenda = console.say("/overleg agenda")
    assert "• Casus groeiklas Lierenland" in agenda and "ingebracht door Joost Visser" in agenda
    removed = console.say(button(agenda, "• Casus groeiklas Lierenland", "Schrappen"))
    assert removed.strip() == "Van de agenda gehaald: Casus groeiklas Lierenland"
    assert "Dit kunnen alleen coördinatoren." in console.say("/overleg overslaan 8 december")
    assert console.stop() == 0


def test_markup_is_refused_in_dutch_and_help_shows_the_usage(console: Console) -> None:
    console.choose(JOOST)
    refused = console.say("/expertise toevoegen <!channel>")
    assert refused.startswith("! Je opdracht bevat Slack-opmaak zoals <!channel>")
    assert "Schrijf gewone tekst" in refused
    assert "channel" not in console.say("/expertise mijn")
    usage = console.say("/expertise help")
    assert usage.startswith("Expertise in huis: wie weet wat, en hoe bereik je ze?")
    assert "• /expertise toevoegen gedrag, dyslexie" in usage
    assert "! Typ een opdracht die met / begint" in console.say("expertise gedrag")
    assert console.stop() == 0


def test_expertise_added_through_the_form_is_found_and_survives_a_restart(tmp_path: Path) -> None:
    first = Console(tmp_path)
    try:
        first.choose(JOOST)
        before = first.say("/expertise gedrag")
        first.child.sendline("/expertise toevoegen")
        title = first.fill("bijvoorbeeld: gedrag, dyslexie: ", "schooltuinen")
        assert "== Expertise toevoegen ==  (typ /annuleer om te stoppen)" in title
        first.fill("Hooguit 500 tekens.: ", "Moestuin met groep 5 <!here>")
        refusal = first.fill("Hooguit 500 tekens.: ", "Moestuin en kookles met groep 5")
        assert "! De omschrijving bevat Slack-opmaak" in refusal  # only the wrong field is asked again
        first.child.expect(PROMPT)
        assert "Toegevoegd: schooltuinen." in Console._text(first.child.before)
        mine = first.say("/expertise schooltuinen")
        assert "• Joost Visser" in mine and "schooltuinen: Moestuin en kookles met groep 5" in mine

        added = first.say("/expertise toevoegen vogelhuisjes")
        assert "Toegevoegd: vogelhuisjes." in added
        first.child.sendline(button(added, "Toegevoegd", "Omschrijving toevoegen"))
        first.fill("[vogelhuisjes]: ", "")  # the form opened by the button has the topic filled in
        first.fill("Hooguit 500 tekens.: ", "Timmeren met groep 7")
        first.child.expect(PROMPT)
        assert "weer als actueel bevestigd: vogelhuisjes" in Console._text(first.child.before)
        assert "vogelhuisjes: Timmeren met groep 7" in first.say("/expertise mijn")
        assert first.stop() == 0
    finally:
        first.close()
    assert (tmp_path / "netwerkbot.db").exists()  # the default SQLite file, in the working directory

    second = Console(tmp_path)  # same directory, demo loaded a second time
    try:
        second.choose(JOOST)
        again = second.say("/expertise schooltuinen")
        assert "• Joost Visser" in again and "Moestuin en kookles met groep 5" in again
        after = second.say("/expertise gedrag")
        assert found(after) == found(before) == 6
        assert after.count("• ") == before.count("• ")
        assert after.count("• Els van Dijk") == 1
        assert found(second.say("/expertise thuiszitters")) == 3
        assert second.stop() == 0
    finally:
        second.close()


def expect_all(console: Console, *texts: str) -> None:
    """Wait until each of `texts` has been printed (as often as it is listed), in any order."""
    wanted = list(texts)
    while wanted:
        wanted.pop(console.child.expect_exact(wanted))


def session(folder: Path, member: int) -> Console:
    started = Console(folder)
    started.choose(member)
    return started


def test_a_school_pitches_a_coordinator_starts_a_vote_and_the_school_votes(tmp_path: Path) -> None:
    ingrid = session(tmp_path, INGRID)
    try:
        ingrid.child.sendline("/pitch")
        ingrid.fill("Titel: ", "Samen een groeiklas")
        ingrid.fill("[Baeken]: ", "")  # her own school, filled in
        ingrid.fill("Samenvatting: ", "Een groeiklas voor Baeken en Vlieger.")
        ingrid.fill("werkgebied brengt: ", "Leerlingen blijven in de wijk.")
        ingrid.fill("of 1500,50: ", "1.50")
        ingrid.fill("(optioneel): ", "2.500,-")
        ingrid.fill("groeiklas: ", "groeiklas")
        ingrid.fill("[Ingrid Smit]: ", "")
        refused = ingrid.fill("of 1500,50: ", "€ 12.500")  # only the amount is asked again
        assert "! Gevraagd bedrag: \"1.50\" is geen bedrag" in refused
        ingrid.child.expect_exact("Je pitch is ingediend als #1")
        ingrid.child.expect_exact("[bericht in kanaal proposals]")  # the outbox posts it
        ingrid.child.expect_exact("[1] Agenderen  [2] Stemming starten")
        assert ingrid.stop() == 0
    finally:
        ingrid.close()

    marieke = session(tmp_path, MARIEKE)
    try:
        pitch = marieke.say("/pitch 1")
        assert "[1] Agenderen  [2] Stemming starten" in pitch  # a coordinator's buttons
        marieke.child.sendline("2")
        marieke.fill("[Financieren we pitch #1 (Samen een groeiklas) samen?]: ", "")
        marieke.fill("[voor, tegen, onthouding]: ", "")
        marieke.fill("Soort stemming [één keuze (een knop per keuze)]: ", "")
        marieke.fill("leeg: zoveel als er keuzes zijn: ", "")
        marieke.fill("Wie stemt [één stem per school]: ", "")  # the default for a pitch
        for ending in ("bijvoorbeeld Alkmaar-Noord: ", "[open (na sluiting zichtbaar wie wat koos)]: ",
                       "[zichtbaar tijdens de stemming]: "):
            marieke.fill(ending, "")
        marieke.fill("over 3 dagen: ", "over 3 dagen")
        marieke.fill("geen quorum: ", "")
        marieke.fill("bijvoorbeeld 66: ", "")
        marieke.fill("Keuze die de pitch aanneemt (optioneel) — Een van de keuzes hierboven; leeg: de eerste: ", "")
        marieke.child.expect_exact("Stemming #1 staat in het kanaal en sluit")
        marieke.child.expect_exact("[1] voor  [2] tegen  [3] onthouding")
        assert marieke.stop() == 0
    finally:
        marieke.close()

    ingrid = session(tmp_path, INGRID)
    try:
        vote = ingrid.say("/stemming 1")
        assert "Stemming #1: Financieren we pitch #1 (Samen een groeiklas) samen?" in vote
        assert "één stem per school" in vote and "0 stemmen uitgebracht" in vote
        assert "[1] voor  [2] tegen  [3] onthouding" in vote
        assert ingrid.say("1").startswith("Je stem (voor Baeken): voor. Wijzigen kan tot ")
        ingrid.child.expect_exact("[bericht bijgewerkt in kanaal console]")  # the tally, a moment later
        ingrid.child.expect_exact("1 stem uitgebracht — voor: 1 · tegen: 0")
        ingrid.child.expect_exact("[1] voor  [2] tegen  [3] onthouding")
        assert ingrid.say("2").startswith("Je stem (voor Baeken): tegen.")  # changed: the last counts
        ingrid.child.expect_exact("1 stem uitgebracht — voor: 0 · tegen: 1")
        assert ingrid.stop() == 0
    finally:
        ingrid.close()

    marieke = session(tmp_path, MARIEKE)
    try:
        assert "Stemming #1 is gesloten" in marieke.say("/stemming sluiten 1")
        # three messages, in no fixed order: the result (who chose what, after the close: an open vote),
        # the vote message and the pitch message brought up to date
        expect_all(marieke, "Besluit: tegen.", "Pitch #1 is nu afgewezen.", "tegen: Baeken (Ingrid Smit)",
                   "Besluit: tegen.", "Status: afgewezen", "Voor het werkgebied: Leerlingen blijven in de wijk.")
        assert "Status: afgewezen" in marieke.say("/pitch 1")
        assert marieke.stop() == 0
    finally:
        marieke.close()


def test_an_idea_of_the_outer_circle_is_picked_up_in_the_digest(tmp_path: Path) -> None:
    joost = session(tmp_path, JOOST)
    try:
        assert "Idee 1 staat genoteerd onder #thuiszitters." in joost.say(
            "/idee #thuiszitters Een vaste contactpersoon per wijk")
        joost.child.expect_exact("Genoteerd als idee 1 (#thuiszitters) van Joost Visser")  # the outbox posts it
        joost.child.expect(r"De binnenkring ziet het in de samenvatting van \w+ \d+ \w+\.\r?\n")
        asked = joost.say("/idee Samen scholing voor IB-ers")
        assert "Bij welk thema hoort idee 2?" in asked and "#groeiklas" in asked
        number = re.search(r"\[(\d+)\] #inclusie", asked)
        assert number is not None
        assert "Idee 2 staat genoteerd onder #inclusie." in joost.say(number.group(1))
        joost.child.expect_exact("Genoteerd als idee 2 (#inclusie) van Joost Visser")
        joost.child.expect(r"De binnenkring ziet het in de samenvatting van \w+ \d+ \w+\.\r?\n")
        assert "! Dat idee is er al: idee 1" in joost.say("/idee #thuiszitters een vaste contactpersoon per WIJK")
        assert joost.stop() == 0
    finally:
        joost.close()

    marieke = session(tmp_path, MARIEKE)
    try:
        assert "De samenvatting met 2 ideeën staat in het kanaal van de binnenkring." in marieke.say(
            "/idee samenvatting")
        marieke.child.expect_exact("[bericht in kanaal inner_circle]")
        marieke.child.expect_exact("#inclusie")
        marieke.child.expect_exact("[1] Oppakken  [2] Parkeren  [3] Afgerond")
        marieke.child.expect_exact("#thuiszitters")
        marieke.child.expect_exact("[4] Oppakken  [5] Parkeren  [6] Afgerond")
        marieke.child.sendline("4")
        marieke.fill("leeg laten mag: ", "15 januari")
        marieke.fill("Wat ga je doen? (optioneel) — Een vaste contactpersoon per wijk: ", "Ik bel leerplicht.")
        marieke.child.expect_exact("Je hebt idee 1 opgepakt. Ik laat de buitenkring het weten. Streefdatum: 15 januari")
        # Joost is told, and the digest shows it: two messages that may come in either order
        told, updated = "Je idee 1 is opgepakt door Marieke Bakker in de binnenkring.", "✓ opgepakt door Marieke Bakker"
        seen = {marieke.child.expect_exact([told, updated]) for _ in range(2)}
        assert seen == {0, 1}
        marieke.child.sendline("/idee lijst opgepakt")
        marieke.child.expect_exact("== Ideeën – opgepakt ==")
        marieke.child.expect_exact("Idee 1 · #thuiszitters · Joost Visser · ")
        assert marieke.stop() == 0
    finally:
        marieke.close()


def test_a_question_said_in_the_terminal_gets_its_experts(console: Console) -> None:
    console.choose(JOOST)
    answer = console.say("Wie weet iets van thuiszitters?")
    assert "collega's je helpen met thuiszitters:" in answer
    assert "• Marieke Bakker (@Marieke Bakker)" in answer and "• Sandra" in answer
    assert "• CJG Alkmaar" not in answer  # people, not organisations
    assert "Typ een opdracht die met / begint" in console.say("Goedemorgen allemaal!")  # chatter is left alone


@pytest.mark.parametrize("at_chat_prompt", [True, False], ids=["chat", "choosing"])
def test_ctrl_c_ends_the_console_at_once(console: Console, at_chat_prompt: bool) -> None:
    if at_chat_prompt:
        console.choose(JOOST)
    else:
        console.child.expect_exact("Kies een nummer: ")
    console.child.sendintr()
    console.child.expect_exact("Tot ziens!")
    console.child.expect(pexpect.EOF)
    console.child.close()
    assert console.child.exitstatus == 130
