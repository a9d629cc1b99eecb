"""Privacy on a real Synapse: `!netwerkbot mijn gegevens`, and `!netwerkbot vergeet mij` confirmed with `!1`;
the member's account and direct room are gone from the bot afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Identity, MatrixDirectRoom, Member
from tests.matrix_support import MatrixWorld, body, matrix_world
from tests.support import add_expertise, add_member

world = pytest.fixture(matrix_world, name="world")


async def test_a_member_sees_their_data_and_is_forgotten_with_a_numbered_button(world: MatrixWorld) -> None:
    anna = await world.person("anna", "Anna de Wit")  # the Matrix display name becomes the member's name
    async with world.bot() as (bot, _):
        member = await add_member(bot, "Anna de Wit", user_id=anna.user_id, platform="matrix")
        await add_expertise(bot, member, "dyslexie")
        room = await world.room_with_bot(anna)

        await anna.send(room, "!netwerkbot mijn gegevens")
        mine = await anna.reply_from(world.bot_id, room, contains="Jouw gegevens")
        assert "Anna de Wit" in body(mine) and "Expertise: 1" in body(mine)

        await anna.send(room, "!netwerkbot vergeet mij")
        question = await anna.reply_from(world.bot_id, room, contains="Wil je dat ik je vergeet?")
        assert "!1 Ja, vergeten" in body(question) and "!2 Nee, laat maar" in body(question), body(question)
        await anna.send(room, "!1")
        done = await anna.reply_from(world.bot_id, room, contains="Ik heb je vergeten")
        assert "voormalig lid" in body(done)

        async with bot.db.transaction() as repos:
            assert not list(await repos.session.scalars(select(Identity).where(Identity.user_id == anna.user_id)))
            assert not list(await repos.session.scalars(
                select(MatrixDirectRoom).where(MatrixDirectRoom.user_id == anna.user_id)))
            row = await repos.session.get(Member, member.id)
        assert row is not None and row.name == "een voormalig lid"
