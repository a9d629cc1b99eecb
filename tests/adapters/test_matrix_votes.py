"""Votes on Matrix: an open vote is a native poll (MSC3381), a secret one is cast in the direct room."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bot.core.clock import ManualClock
from bot.core.inputs import Actor, FormSubmission
from tests.conftest import AMS
from tests.matrix_support import MatrixWorld, body, content, matrix_world
from tests.support import add_member, add_organisation
from tests.synapse import Person

POLL_TYPES = ("m.poll.start", "org.matrix.msc3381.poll.start")
END_TYPES = ("m.poll.end", "org.matrix.msc3381.poll.end")


world = pytest.fixture(matrix_world, name="world")


def from_bot_elsewhere(world: MatrixWorld, room: str, text: str) -> Any:
    """A message of the bot in another room than `room` (the person's direct room) containing `text`."""
    return lambda r, e: (r != room and e.get("sender") == world.bot_id and e.get("type") == "m.room.message"
                         and text in body(e))


async def answer(person: Person, world: MatrixWorld, room: str, asked: str, typed: str) -> None:
    """Wait for the question `asked` in the direct room and answer it."""
    question = await person.wait(from_bot_elsewhere(world, room, asked), what=f"the question {asked!r}")
    dm = next(r for r, e in person.events if e is question)
    await person.send(dm, typed)


async def test_an_open_vote_is_a_native_poll_closed_at_the_deadline(world: MatrixWorld, clock: ManualClock) -> None:
    marieke = await world.person("marieke", "Marieke")
    anna, bert, carl = [await world.person(n) for n in ("anna", "bert", "carl")]
    async with world.bot(coordinators=frozenset({f"matrix:{world.user_id('marieke')}"})) as (bot, _):
        noord = await add_organisation(bot, "De Regenboog", werkgebied="Alkmaar-Noord")
        elders = await add_organisation(bot, "De Zeester", werkgebied="Den Helder")
        for person, org in ((anna, noord), (bert, noord), (carl, elders)):
            await add_member(bot, person.localpart, user_id=person.user_id, platform="matrix", organisation=org)
        room = await world.room_with_bot(marieke, anna, bert, carl)

        # the form, as a dialog in Marieke's direct room; a wrong deadline is asked again
        await marieke.send(room, "!stemming")
        for asked, typed in (("Vraag", "Financieren we de groeiklas?"), ("Keuzes", "ok"), ("Soort stemming", "ok"),
                             ("Hoeveel keuzes", "leeg"), ("Wie stemt", "1"),
                             ("Alleen werkgebied", "Alkmaar-Noord"), ("Geheim of open", "ok"), ("Tussenstand", "ok"),
                             ("Sluit op", "zomaar ergens"), ("Quorum", "leeg"), ("Drempel", "leeg")):
            await answer(marieke, world, room, asked, typed)
        again = await marieke.wait(from_bot_elsewhere(world, room, "Die datum begrijp ik niet"),
                                   what="the deadline asked again")
        dm = next(r for r, e in marieke.events if e is again)
        await marieke.send(dm, "vrijdag 17:00")
        await marieke.reply_from(world.bot_id, dm, contains="Stemming #1 staat in het kanaal")

        poll = await anna.wait(lambda r, e: r == room and e.get("type") in POLL_TYPES, what="the poll")
        start = content(poll)["org.matrix.msc3381.poll.start"]
        assert start["question"]["org.matrix.msc1767.text"] == "Stemming #1: Financieren we de groeiklas?"
        assert [a["org.matrix.msc1767.text"] for a in start["answers"]] == ["voor", "tegen", "onthouding"]
        assert [a["m.text"][0]["body"] for a in content(poll)["m.poll"]["answers"]] == ["voor", "tegen", "onthouding"]
        ids = [a["id"] for a in start["answers"]]
        tally = await anna.reply_from(world.bot_id, room, contains="0 stemmen uitgebracht")

        def response(answer_id: str, *, stable: bool) -> tuple[str, dict[str, Any]]:
            relates = {"rel_type": "m.reference", "event_id": poll["event_id"]}
            if stable:
                return "m.poll.response", {"m.relates_to": relates, "m.selections": [answer_id]}
            return "org.matrix.msc3381.poll.response", {
                "m.relates_to": relates, "org.matrix.msc3381.poll.response": {"answers": [answer_id]}}

        await anna.send_event(room, *response(ids[0], stable=True))
        await anna.wait(from_bot_elsewhere(world, room, "Je stem: voor"), what="Anna's confirmation")
        await bert.send_event(room, *response(ids[1], stable=False))
        await bert.wait(from_bot_elsewhere(world, room, "Je stem: tegen"), what="Bert's first choice")
        await bert.send_event(room, *response(ids[0], stable=False))  # changes his mind: the last counts
        await bert.wait(from_bot_elsewhere(world, room, "Je stem: voor"), what="Bert's second choice")
        await carl.send_event(room, *response(ids[0], stable=True))
        refused = await carl.wait(from_bot_elsewhere(world, room, "Je mag niet meestemmen"), what="the refusal")
        edited = await anna.wait(lambda r, e: r == room and e.get("sender") == world.bot_id
                                 and content(e).get("m.relates_to", {}).get("event_id") == tally["event_id"]
                                 and "voor: 2 · tegen: 0" in content(e).get("m.new_content", {}).get("body", ""),
                                 what="the tally edited")

        clock.set(datetime(2026, 11, 27, 17, 0, tzinfo=AMS))
        await bot.scheduler.run_due()
        await bot.outbox.flush()
        end = await anna.wait(lambda r, e: r == room and e.get("type") in END_TYPES, what="the poll's end")
        result = await anna.reply_from(world.bot_id, room, contains="Uitslag stemming #1")
    assert "werkgebied Alkmaar-Noord" in body(refused)
    assert content(edited)["m.relates_to"]["rel_type"] == "m.replace"
    assert end["sender"] == world.bot_id
    assert content(end)["m.relates_to"] == {"rel_type": "m.reference", "event_id": poll["event_id"]}
    assert "org.matrix.msc3381.poll.end" in content(end) and content(end)["m.text"]
    assert "voor: 2" in body(end) and "Besluit: voor." in body(end)
    assert "voor: 2" in body(result) and "tegen: 0" in body(result) and "Besluit: voor." in body(result)


async def test_a_secret_vote_is_cast_in_the_direct_room(world: MatrixWorld, clock: ManualClock) -> None:
    marieke = await world.person("marieke", "Marieke")
    anna = await world.person("anna")
    coordinator = world.user_id("marieke")
    async with world.bot(coordinators=frozenset({f"matrix:{coordinator}"})) as (bot, adapter):
        room = await world.room_with_bot(marieke, anna)
        await bot.dispatcher.dispatch(FormSubmission(
            "stemming.form", {"question": "Zelfde tijd volgend jaar?", "options": "ja, nee", "electorate": "members",
                              "secret": "ja", "visible": "nee", "deadline": "vrijdag 17:00"},
            Actor("matrix", coordinator, "Marieke"), channel=room))
        await bot.outbox.flush()
        vote = await anna.reply_from(world.bot_id, room, contains="Stemming #1")
        assert not [e for r, e in anna.events if e.get("type") in POLL_TYPES]  # no poll: its answers are public
        lines = [line.split() for line in body(vote).splitlines() if line.startswith("!stem ")]
        assert [line[3] for line in lines] == ["ja", "nee"], body(vote)
        code = lines[0][1]

        await anna.send(room, f"!stem {code} 1")  # in the shared room: not accepted there
        warned = await anna.wait(from_bot_elsewhere(world, room, "direct bericht"), what="the warning")
        dm = next(r for r, e in anna.events if e is warned)
        await anna.send(dm, f"!stem {code} 2")
        first = await anna.reply_from(world.bot_id, dm, contains="Je stem")
        await anna.send(dm, f"!stem {code} 1")
        second = await anna.reply_from(world.bot_id, dm, contains="Je stem")
        await anna.send(dm, f"!stem {int(code) + 50} 1")
        unknown = await anna.reply_from(world.bot_id, dm)
        await anna.send(room, "!stemming 1")  # shown on request: still no numbers to type in the room
        shown = await anna.reply_from(world.bot_id, room, contains="Stemming #1")
        async with bot.db.transaction() as repos:
            counts = await repos.votes.tally(1)
    assert "Je stem: nee." in body(first) and "Je stem: ja." in body(second)
    assert "Die stemming ken ik niet" in body(unknown)
    assert counts == {0: 1}
    assert "!stem " in body(shown) and "!1" not in body(shown)
    assert adapter.user_id in body(vote)  # tells whom to write to
