"""Issue 15 in the terminal: the pupil-data warning's buttons are numbers to type, a coordinator is added by
name (the terminal has no mentions), and the log shows it."""

from __future__ import annotations

from bot.adapters.console import ConsoleChat
from bot.app import Bot
from tests.support import actor, add_member


async def test_pupil_data_and_coordinators_in_the_terminal(sqlite_bot: Bot) -> None:
    said: list[str] = []
    console = ConsoleChat(sqlite_bot, actor("coord", name="Marieke"), write=said.append)  # a seeded coordinator
    await add_member(sqlite_bot, "Anna de Wit", user_id="anna")

    await console.handle("/idee #gedrag Een rustige plek voor leerling Sem de Vries (groep 5)")
    assert "leerlinggegevens" in said[-1] and "[1] Aanpassen" in said[-1] and "[2] Toch delen" in said[-1]
    async with sqlite_bot.db.transaction() as repos:
        assert await repos.ideas.listing() == []
    await console.handle("2")
    assert "Idee 1 staat genoteerd onder #gedrag" in said[-1]

    await console.handle("/netwerkbot coordinatoren toevoegen Anna de Wit")
    assert said[-1] == "Anna de Wit is nu coördinator."
    await console.handle("/netwerkbot logboek")
    assert "Marieke: /netwerkbot coordinatoren toevoegen Anna de Wit → Anna de Wit is nu coördinator." in said[-1]
