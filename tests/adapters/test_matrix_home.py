"""`!netwerkbot overzicht` on a real Synapse: the member's overview, and its buttons as numbered commands."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.conftest import AMS
from tests.matrix_support import MatrixWorld, body, matrix_world
from tests.support import add_expertise, add_member

world = pytest.fixture(matrix_world, name="world")


async def test_the_overview_on_matrix_and_nog_actueel_pressed_from_it(world: MatrixWorld) -> None:
    anna = await world.person("anna", "Anna")
    async with world.bot() as (bot, _):
        member = await add_member(bot, "Anna de Vries", user_id=anna.user_id, platform="matrix")
        await add_expertise(bot, member, "gedrag", confirmed=datetime(2025, 12, 10, tzinfo=AMS))
        room = await world.room_with_bot(anna)
        await anna.send(room, "!netwerkbot overzicht")
        shown = body(await anna.reply_from(world.bot_id, room, contains="Overzicht voor"))
        assert "Overzicht voor Anna" in shown and "Je expertise" in shown and "bijna verouderd" in shown
        assert "Voor coördinatoren" not in shown
        found = re.search(r"(!\d+)\D{0,12}gedrag: nog actueel", shown)
        assert found, shown
        await anna.send(room, found.group(1))
        confirmed = body(await anna.reply_from(world.bot_id, room, contains="gedrag"))
        assert "gedrag" in confirmed and "Overzicht" not in confirmed
        await anna.send(room, "!netwerkbot overzicht")
        again = body(await anna.reply_from(world.bot_id, room, contains="Overzicht voor"))
    assert "gedrag: nog actueel" not in again and "bijna verouderd" not in again
