"""The circles on a real Synapse: a 💡 under a message in the outer circle's room makes it an idea, the
digest reaches the inner circle's room, `!1` picks the idea up through a dialog in the direct room, and
the author hears back in the thread of their message; a question gets its experts in its thread."""

from __future__ import annotations

from typing import Any

import pytest

from tests.matrix_support import MatrixWorld, body, content, matrix_world
from tests.support import add_expertise, add_member
from tests.synapse import joined

world = pytest.fixture(matrix_world, name="world")


def thread_of(event: dict[str, Any]) -> str:
    relation = content(event).get("m.relates_to") or {}
    return str(relation.get("event_id", "")) if relation.get("rel_type") == "m.thread" else ""


async def test_an_idea_from_a_bulb_is_picked_up_in_the_inner_circle_and_its_author_hears_back(
        world: MatrixWorld) -> None:
    anna, bert, marieke = (await world.person("anna", "Anna"), await world.person("bert", "Bert"),
                           await world.person("marieke", "Marieke"))
    outer = await anna.create_room(invite=(world.bot_id, bert.user_id))
    inner = await marieke.create_room(invite=(world.bot_id,))
    async with world.bot(matrix_room_outer_circle=outer, matrix_room_inner_circle=inner,
                         coordinators=frozenset({f"matrix:{marieke.user_id}"})) as (bot, _):
        await joined(anna, outer, world.bot_id)
        await joined(bert, outer, bert.user_id)
        await joined(marieke, inner, world.bot_id)
        said = await anna.send(outer, "Wat als de #thuiszitters van onze wijk een vaste contactpersoon krijgen?")
        for who in (bert, anna):  # a second 💡 on the same message makes nothing twice
            await who.send_event(outer, "m.reaction", {"m.relates_to": {
                "rel_type": "m.annotation", "event_id": said, "key": "💡"}})
        confirmed = await anna.reply_from(world.bot_id, outer, contains="Genoteerd als idee 1 (#thuiszitters)")
        assert thread_of(confirmed) == said and "van Anna" in body(confirmed)

        await marieke.send(inner, "!idee samenvatting")
        digest = await marieke.reply_from(world.bot_id, inner, contains="Ideeën uit de buitenkring")
        assert "Idee 1 · Anna" in body(digest) and f"https://matrix.to/#/{outer}/{said}" in body(digest)
        assert "!1 Oppakken" in body(digest), body(digest)
        await marieke.send(inner, "!1")
        first = await marieke.wait(lambda r, e: r not in (inner, outer) and e.get("sender") == world.bot_id
                                   and "Streefdatum" in body(e), what="the dialog's first question")
        dm = next(r for r, e in marieke.events if e is first)
        await marieke.send(dm, "ooit")
        await marieke.reply_from(world.bot_id, dm, contains="Wat ga je doen?")
        await marieke.send(dm, "leeg")
        await marieke.reply_from(world.bot_id, dm, contains="niet als datum lezen")  # only that field again
        await marieke.send(dm, "15 januari")
        await marieke.reply_from(world.bot_id, dm, contains="Je hebt idee 1 opgepakt")
        told = await anna.reply_from(world.bot_id, outer, contains="Je idee 1 is opgepakt door Marieke")

        # an idea typed as a command: its author hears back in the thread of the bot's confirmation
        await anna.send(outer, "!idee #gedrag Een rustige plek in elke school")
        await anna.reply_from(world.bot_id, outer, contains="Idee 2 staat genoteerd onder #gedrag")
        noted = await anna.reply_from(world.bot_id, outer, contains="Genoteerd als idee 2 (#gedrag)")
        await marieke.send(inner, "!idee samenvatting")
        second = await marieke.reply_from(world.bot_id, inner, contains="Ideeën uit de buitenkring")
        assert "Een rustige plek" in body(second) and "vaste contactpersoon" not in body(second)
        await marieke.send(inner, "!3")  # Afgerond
        finished = await anna.reply_from(world.bot_id, outer, contains="Je idee 2 is afgerond door Marieke")
        async with bot.db.transaction() as repos:
            ideas = await repos.ideas.listing()
    assert thread_of(told) == said
    assert content(told)["m.mentions"] == {"user_ids": [anna.user_id]}
    assert thread_of(finished) == noted["event_id"]
    assert [(i.id, i.status, i.owner_name) for i in ideas] == [(2, "afgerond", ""), (1, "opgepakt", "Marieke")]


async def test_a_question_in_a_listening_room_gets_its_experts_in_its_thread(world: MatrixWorld) -> None:
    anna = await world.person("anna", "Anna")
    room = await anna.create_room(invite=(world.bot_id,))
    async with world.bot(question_channels=frozenset({"consultants"}), matrix_room_consultants=room) as (bot, _):
        await joined(anna, room, world.bot_id)
        sandra = await add_member(bot, "Sandra de Wit", user_id=world.user_id("sandra"), platform="matrix")
        await add_expertise(bot, sandra, "thuiszitters", "Verzuim en schoolweigering.")
        asked = await anna.send(room, "Heeft iemand ervaring met thuiszitters?")
        answer = await anna.reply_from(world.bot_id, room, contains="helpen met thuiszitters")
        await anna.send(room, "Fijn overleg vandaag, tot dinsdag!")
        quiet = await anna.quiet(world.bot_id, room)
    assert thread_of(answer) == asked and "Sandra de Wit" in body(answer)
    assert content(answer)["m.mentions"] == {"user_ids": [world.user_id("sandra")]}
    assert quiet == []
