"""The shared adapter base: a part or outcome an adapter cannot render is an error naming it, never a silently
empty or partial message (Slack, Matrix, the terminal)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.adapters import console, slack
from bot.adapters.base import CannotRender
from bot.adapters.console import ConsoleChat
from bot.adapters.matrix import render as matrix
from bot.app import Bot
from bot.core.reply import File, Reply, Text
from config.i18n import Catalog
from tests.support import actor


@dataclass(frozen=True)
class Chart:
    """A part some future feature might add before any adapter learned to show it."""

    title: str


UNKNOWN = Reply((Text("Hier is de grafiek:"), Chart("groei")))  # type: ignore[arg-type]


def test_every_renderer_names_the_part_it_cannot_render() -> None:
    t = Catalog("nl")
    for render in (lambda: slack.render(UNKNOWN, t), lambda: matrix.render(UNKNOWN, t),
                   lambda: console.render(UNKNOWN, t)):
        with pytest.raises(CannotRender, match="cannot render Chart"):
            render()


async def test_an_unknown_outcome_is_refused_loudly_by_the_delivery_table(sqlite_bot: Bot, tmp_path: Path) -> None:
    said: list[str] = []
    chat = ConsoleChat(sqlite_bot, actor("U1", name="Anna"), write=said.append, files=tmp_path)
    with pytest.raises(CannotRender, match="cannot render Chart"):
        await chat.deliver(Chart("groei"), None)  # type: ignore[arg-type]
    with pytest.raises(CannotRender, match="cannot render Chart"):
        await chat.deliver(UNKNOWN, None)
    await chat.deliver(Reply.text("gewoon tekst"), None)
    assert said == ["gewoon tekst"]


async def test_the_terminal_writes_a_file_into_its_folder_and_shows_the_path(sqlite_bot: Bot, tmp_path: Path) -> None:
    said: list[str] = []
    chat = ConsoleChat(sqlite_bot, actor("U1", name="Anna"), write=said.append, files=tmp_path / "bestanden")
    reply = Reply((Text("De uitslag:"), File("stemming-1.csv", "text/csv", b"a;b\n1;2\n", "Stemming #1 (CSV)")))
    await chat.deliver(reply, None)
    await chat.deliver(reply, None)  # a second export never overwrites the first
    first, second = tmp_path / "bestanden" / "stemming-1.csv", tmp_path / "bestanden" / "stemming-1-2.csv"
    assert first.read_bytes() == second.read_bytes() == b"a;b\n1;2\n"
    assert said == [f"De uitslag:\n📎 bestand opgeslagen: {first}", f"De uitslag:\n📎 bestand opgeslagen: {second}"]
