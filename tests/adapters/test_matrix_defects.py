"""Issue 13 on a real Synapse: the pitch message in the proposals room follows the pitch (an edit of the
message, not a new one) with only the numbered buttons that still apply, and "Stemming starten" pressed
with !2 under a withdrawn pitch is refused in Dutch."""

from __future__ import annotations

import pytest

from bot.core.clock import ManualClock
from bot.core.inputs import Actor, FormSubmission
from tests.matrix_support import MatrixWorld, body, content, matrix_world
from tests.support import add_member, add_organisation
from tests.synapse import Match, joined

world = pytest.fixture(matrix_world, name="world")

PITCH = {"title": "Samen een groeiklas", "schools": "Baeken", "summary": "Een groeiklas.",
         "benefit": "Voor de wijk.", "amount": "€ 12.500", "theme": "groeiklas", "contact": "Ingrid"}


async def test_the_pitch_message_is_edited_as_the_pitch_moves(world: MatrixWorld, clock: ManualClock) -> None:
    marieke, ingrid = await world.person("marieke", "Marieke"), await world.person("ingrid", "Ingrid")
    room = await marieke.create_room(invite=(world.bot_id, ingrid.user_id))
    async with world.bot(coordinators=frozenset({f"matrix:{world.user_id('marieke')}"}),
                         matrix_room_proposals=room) as (bot, adapter):
        await joined(marieke, room, world.bot_id)
        await joined(ingrid, room, ingrid.user_id)
        bot.connect(adapter)  # the refresher edits what the outbox sent
        baeken = await add_organisation(bot, "Baeken")
        await add_member(bot, "Ingrid", user_id=ingrid.user_id, platform="matrix", organisation=baeken)
        await bot.dispatcher.dispatch(FormSubmission("pitch.form", PITCH, Actor("matrix", ingrid.user_id, "Ingrid")))
        await bot.outbox.flush()
        pitch = await marieke.reply_from(world.bot_id, room, contains="Pitch #1: Samen een groeiklas")
        assert "Status: ingediend" in body(pitch) and "!1 Agenderen" in body(pitch), body(pitch)

        def edit_with(text: str) -> Match:
            return lambda r, e: (r == room and content(e).get("m.relates_to", {}).get("event_id") == pitch["event_id"]
                                 and text in content(e).get("m.new_content", {}).get("body", ""))

        await marieke.send(room, "!1")  # Agenderen
        scheduled = await marieke.wait(edit_with("Status: geagendeerd"), what="the pitch message edited")
        await ingrid.send(room, "!pitch intrekken 1")
        withdrawn = await marieke.wait(edit_with("Status: ingetrokken"), what="the withdrawn pitch")
        await marieke.send(room, "!2")  # the button Marieke saw before: Stemming starten
        refused = await marieke.reply_from(world.bot_id, room, contains="Pitch 1 is ingetrokken")
    assert content(scheduled)["m.relates_to"]["rel_type"] == "m.replace"
    assert "Agenderen" not in content(scheduled)["m.new_content"]["body"]
    assert "Stemming starten" in content(scheduled)["m.new_content"]["body"]
    assert "Stemming starten" not in content(withdrawn)["m.new_content"]["body"]
    assert "alleen over een ingediende of geagendeerde pitch kan een stemming starten" in body(refused)
