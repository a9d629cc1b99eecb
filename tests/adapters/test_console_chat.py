"""The terminal chat's own rules, driven in-process (the pty test covers the real process)."""

from __future__ import annotations

from bot.adapters.console import ConsoleChat, render
from bot.app import Bot
from bot.core.reply import Button, Item, Reply, Text
from config.i18n import Catalog
from tests.support import actor


def chat(bot: Bot) -> tuple[ConsoleChat, list[str]]:
    said: list[str] = []
    return ConsoleChat(bot, actor("U1", name="Anna"), write=said.append), said


async def test_a_number_without_buttons_says_there_is_nothing_to_press(sqlite_bot: Bot) -> None:
    console, said = chat(sqlite_bot)
    await console.handle("3")
    assert said == ["! Er zijn hier geen knoppen om te kiezen. Typ een opdracht, bijvoorbeeld /expertise gedrag."]


async def test_text_without_slash_is_explained(sqlite_bot: Bot) -> None:
    console, said = chat(sqlite_bot)
    await console.handle("expertise gedrag")
    assert said[0].startswith("! Typ een opdracht die met / begint")


def test_terminal_escape_sequences_in_user_text_are_removed() -> None:
    reply = Reply((Item(title="Anna\x1b[2J\x1b]0;gehackt\x07", lines=("regel\x1b[31m rood",),
                        buttons=(Button("Toon\x1b[5m", "x"),)),))
    text, buttons = render(reply, Catalog("nl"))
    assert "\x1b" not in text and "\x07" not in text
    assert "• Anna" in text and "regel rood" in text and "[1] Toon" in text and len(buttons) == 1


async def test_a_message_for_a_thread_is_shown_as_a_thread_answer(sqlite_bot: Bot) -> None:
    console, said = chat(sqlite_bot)

    await console.send("buitenkring", Reply((Text("Samenvatting van de week"),)))
    await console.send("buitenkring", Reply((Text("Dank voor je idee"),), thread="1700000000.000100"))

    assert said[0] == "[bericht in kanaal buitenkring]\nSamenvatting van de week"
    assert said[1] == "↳ [bericht in kanaal buitenkring]\nDank voor je idee"
