"""`/netwerkbot overzicht` in the real `netwerkbot console --demo` process: the overview and its buttons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.test_console_e2e import INGRID, MARIEKE, Console, button


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    session = Console(tmp_path)
    yield session
    session.close()


def test_the_overview_in_the_terminal_and_punt_inbrengen_from_it(console: Console) -> None:
    console.choose(INGRID)
    overview = console.say("/netwerkbot overzicht")
    assert "== Overzicht voor Ingrid Smit ==" in overview
    assert "== Je volgende overleggen ==" in overview and "== Je expertise ==" in overview
    assert "Expertise toevoegen" in overview and "Voor coördinatoren" not in overview
    console.child.sendline(button(overview, "• Consulentenoverleg", "Punt inbrengen"))
    console.fill(": ", "Voortgang thuiszitters")
    console.child.expect(r"\r?\n> ")
    again = console.say("/netwerkbot overzicht")
    assert "• Voortgang thuiszitters" in again
    assert console.stop() == 0


def test_a_coordinator_sees_what_waits_for_them(console: Console) -> None:
    console.choose(MARIEKE)
    overview = console.say("/netwerkbot overzicht")
    assert "== Voor coördinatoren ==" in overview
    assert console.stop() == 0
