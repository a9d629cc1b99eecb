"""Privacy in the real `netwerkbot console --demo` process: a member sees their data, keeps it when they
press "Nee", and is forgotten when they press "Ja"; talking again afterwards starts as a new member."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.test_console_e2e import INGRID, Console, button


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    session = Console(tmp_path)
    yield session
    session.close()


def test_a_member_sees_their_data_and_has_themselves_forgotten_in_the_terminal(console: Console) -> None:
    assert "Hallo Ingrid Smit." in console.choose(INGRID)
    mine = console.say("/netwerkbot mijn gegevens")
    assert "== Jouw gegevens bij netwerkbot ==" in mine
    assert "Naam: Ingrid Smit" in mine and "School of organisatie: Baeken" in mine
    assert "JSON-bestand" in mine

    question = console.say("/netwerkbot vergeet mij")
    assert "== Wil je dat ik je vergeet? ==" in question and "een voormalig lid" in question
    assert "Goed, ik heb niets gewist." in console.say(button(question, "Ik wis", "Nee, laat maar"))
    assert "Naam: Ingrid Smit" in console.say("/netwerkbot profiel")

    question = console.say("/netwerkbot vergeet mij")
    assert "Ik heb je vergeten" in console.say(button(question, "Ik wis", "Ja, vergeten"))
    again = console.say("/netwerkbot profiel")  # a new first contact: nothing of before is known
    assert "School of organisatie: -" in again and "Rol: -" in again
    assert console.stop() == 0
