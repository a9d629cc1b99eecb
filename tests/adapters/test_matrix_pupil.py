"""Issue 15 on a real Synapse: pupil data in `!idee` gets its warning in the direct room (never in the shared
room) and `!2` there shares it anyway; the inner circle's room membership (joined_members at start, then
m.room.member events) is kept in the database and limits the digest's numbered buttons."""

from __future__ import annotations

import pytest

from bot.app import Bot
from tests.matrix_support import MatrixWorld, body, direct_room, matrix_world
from tests.synapse import joined

world = pytest.fixture(matrix_world, name="world")


async def inner_members(bot: Bot) -> set[str]:
    async with bot.db.transaction() as repos:
        return {name for name in [m.name for m in await repos.members.all()
                                  if m.id in await repos.circles.member_ids("inner_circle")]}


async def test_pupil_data_is_warned_about_in_the_direct_room_and_shared_only_when_chosen(world: MatrixWorld) -> None:
    anna = await world.person("anna", "Anna")
    outer = await anna.create_room(invite=(world.bot_id,))
    async with world.bot(matrix_room_outer_circle=outer) as (bot, _):
        await joined(anna, outer, world.bot_id)
        await anna.send(outer, "!idee #gedrag Een rustige plek voor leerling Sem de Vries (groep 5)")
        warning = await anna.wait(lambda r, e: r != outer and e.get("sender") == world.bot_id
                                  and "leerlinggegevens" in body(e), what="the warning in the direct room")
        assert "!2 Toch delen" in body(warning), body(warning)
        dm = direct_room(anna, world.bot_id)
        assert not [e for e in await anna.quiet(world.bot_id, outer, seconds=0.5) if "leerlinggegevens" in body(e)]
        async with bot.db.transaction() as repos:
            assert await repos.ideas.listing() == []
        await anna.send(dm, "!2")
        await anna.reply_from(world.bot_id, dm, contains="Idee 1 staat genoteerd onder #gedrag")
        async with bot.db.transaction() as repos:
            assert [i.id for i in await repos.ideas.listing()] == [1]


async def test_the_inner_circle_is_who_is_in_its_room(world: MatrixWorld) -> None:
    anna, marieke = await world.person("anna", "Anna"), await world.person("marieke", "Marieke")
    outer = await anna.create_room(invite=(world.bot_id,))
    inner = await marieke.create_room(invite=(world.bot_id,))
    async with world.bot(matrix_room_outer_circle=outer, matrix_room_inner_circle=inner,
                         coordinators=frozenset({f"matrix:{marieke.user_id}"})) as (bot, _):
        await joined(anna, outer, world.bot_id)
        await joined(marieke, inner, world.bot_id)
        await marieke.send(inner, "!netwerkbot")  # Marieke's first contact makes her a member
        await marieke.reply_from(world.bot_id, inner, contains="netwerkbot")
        assert await inner_members(bot) == {"Marieke"}  # read from the room when the bot started

        await anna.send(outer, "!idee #gedrag Een vaste time-outplek per school")
        await anna.reply_from(world.bot_id, outer, contains="Idee 1 staat genoteerd")
        await marieke.client.room_invite(inner, anna.user_id)
        await joined(anna, inner, anna.user_id)  # Anna's client accepts the invitation: m.room.member join
        await marieke.send(inner, "!idee samenvatting")
        digest = await marieke.reply_from(world.bot_id, inner, contains="Ideeën uit de buitenkring")
        assert "!2 Parkeren" in body(digest)
        await anna.send(inner, "!2")
        await anna.reply_from(world.bot_id, inner, contains="parkeerplaats")
        assert await inner_members(bot) == {"Marieke", "Anna"}

        await anna.client.room_leave(inner)
        await marieke.wait(lambda r, e: r == inner and e.get("type") == "m.room.member"
                           and e.get("state_key") == anna.user_id
                           and (e.get("content") or {}).get("membership") == "leave", what="Anna leaving")
        await marieke.send(inner, "!netwerkbot profiel")  # a later event: the leave was handled before it
        await marieke.reply_from(world.bot_id, inner, contains="Marieke")
        assert await inner_members(bot) == {"Marieke"}
