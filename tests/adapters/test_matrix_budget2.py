"""On Matrix (a real Synapse): an open approval budget round is a native poll with `max_selections`, whose
answers are the whole ballot; a ranked `/stemming` is filled in as a dialog in the direct room."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bot.core.clock import ManualClock
from bot.core.inputs import Actor, FormSubmission
from storage.proposals import PitchDraft
from tests.adapters.test_matrix_votes import END_TYPES, POLL_TYPES, answer, from_bot_elsewhere
from tests.conftest import AMS
from tests.matrix_support import MatrixWorld, body, content, matrix_world
from tests.support import add_member, add_organisation

world = pytest.fixture(matrix_world, name="world")
FRIDAY = datetime(2026, 11, 27, 17, 0, tzinfo=AMS)


async def test_an_open_approval_round_is_a_poll_with_max_selections(world: MatrixWorld, clock: ManualClock) -> None:
    marieke = await world.person("marieke", "Marieke")
    anna, bert = [await world.person(n) for n in ("anna", "bert")]
    coordinator = world.user_id("marieke")
    async with world.bot(coordinators=frozenset({f"matrix:{coordinator}"})) as (bot, _):
        regenboog, zeester = await add_organisation(bot, "De Regenboog"), await add_organisation(bot, "De Zeester")
        members = [await add_member(bot, p.localpart, user_id=p.user_id, platform="matrix", organisation=org)
                   for p, org in ((anna, regenboog), (bert, zeester))]
        async with bot.db.transaction() as repos:
            for title, cents in (("Groeiklas", 60_00), ("Gedrag", 40_00), ("Thuiszitters", 40_00)):
                await repos.pitches.create(PitchDraft(title, "", "", "", "", cents, 0, (regenboog.id,)),
                                           submitter=members[0].id, meeting=None, now=clock.now())
        room = await world.room_with_bot(marieke, anna, bert)
        await bot.dispatcher.dispatch(FormSubmission(
            "begroting.form", {"budget": "€ 100", "pitches": "1, 2, 3", "electorate": "schools", "secret": "nee",
                               "kind": "approval", "deadline": "vrijdag 17:00"},
            Actor("matrix", coordinator, "Marieke"), channel=room))
        await bot.outbox.flush()
        poll = await anna.wait(lambda r, e: r == room and e.get("type") in POLL_TYPES, what="the poll")
        start = content(poll)["org.matrix.msc3381.poll.start"]
        assert start["max_selections"] == 3 and content(poll)["m.poll"]["max_selections"] == 3
        assert [a["org.matrix.msc1767.text"] for a in start["answers"]] == [
            "#1 Groeiklas (€\xa060,00)", "#2 Gedrag (€\xa040,00)", "#3 Thuiszitters (€\xa040,00)"]
        ids = [a["id"] for a in start["answers"]]
        tally = await anna.reply_from(world.bot_id, room, contains="0 stemmen uitgebracht")

        def response(*answers: str) -> dict[str, Any]:
            return {"m.relates_to": {"rel_type": "m.reference", "event_id": poll["event_id"]},
                    "m.selections": list(answers)}

        await anna.send_event(room, "m.poll.response", response(ids[0], ids[1]))
        await anna.wait(from_bot_elsewhere(world, room, "Je steunt: #1, #2."), what="Anna's ballot")
        await bert.send_event(room, "m.poll.response", response(ids[2]))
        await bert.wait(from_bot_elsewhere(world, room, "Je steunt: #3."), what="Bert's ballot")
        await anna.send_event(room, "m.poll.response", response(ids[0]))  # she changes it: the last counts
        await anna.wait(from_bot_elsewhere(world, room, "Je steunt: #1."), what="Anna's second ballot")
        await anna.wait(lambda r, e: r == room and e.get("sender") == world.bot_id
                        and content(e).get("m.relates_to", {}).get("event_id") == tally["event_id"]
                        and "2 stemmen uitgebracht" in content(e).get("m.new_content", {}).get("body", ""),
                        what="the count edited")
        async with bot.db.transaction() as repos:
            ballots = {b.voter: b.choices for b in await repos.budget.ballots(1)}
        assert ballots == {f"s:{regenboog.id}": (1,), f"s:{zeester.id}": (3,)}

        clock.set(FRIDAY)
        await bot.scheduler.run_due()
        await bot.outbox.flush()
        await anna.wait(lambda r, e: r == room and e.get("type") in END_TYPES, what="the poll's end")
        result = await anna.reply_from(world.bot_id, room, contains="Uitslag begrotingsronde #1")
        image = await anna.wait(lambda r, e: r == room and content(e).get("msgtype") == "m.image", what="the chart")
    assert "#1 Groeiklas" in body(result) and content(image)["info"]["mimetype"] == "image/png"


async def test_a_ranked_vote_is_a_dialog_in_the_direct_room(world: MatrixWorld, clock: ManualClock) -> None:
    marieke = await world.person("marieke", "Marieke")
    anna = await world.person("anna")
    coordinator = world.user_id("marieke")
    async with world.bot(coordinators=frozenset({f"matrix:{coordinator}"})) as (bot, _):
        await add_member(bot, "anna", user_id=anna.user_id, platform="matrix")
        room = await world.room_with_bot(marieke, anna)
        await bot.dispatcher.dispatch(FormSubmission(
            "stemming.form", {"question": "Waar beginnen we?", "options": "gedrag, dyslexie, groeiklas",
                              "kind": "ranked", "electorate": "members", "secret": "ja", "visible": "ja",
                              "deadline": "vrijdag 17:00"}, Actor("matrix", coordinator, "Marieke"), channel=room))
        await bot.outbox.flush()
        await anna.send(room, "!stemming 1")
        shown = await anna.reply_from(world.bot_id, room, contains="Stemming #1")
        assert "!1 Stemmen" in body(shown) and "rangorde" in body(shown), body(shown)
        await anna.send(room, "!1")
        for asked, typed in (("1e keuze", "2"), ("2e keuze", "2"), ("3e keuze", "leeg")):
            await answer(anna, world, room, asked, typed)
        again = await anna.wait(from_bot_elsewhere(world, room, "die je nog niet eerder noemde"), what="asked again")
        dm = next(r for r, e in anna.events if e is again)
        await anna.send(dm, "1")
        done = await anna.wait(from_bot_elsewhere(world, room, "Je stem: dyslexie > gedrag"), what="her ranking")
    assert "Je stem" in body(done)


async def test_an_open_vote_of_several_choices_is_a_poll_with_its_maximum(world: MatrixWorld,
                                                                        clock: ManualClock) -> None:
    marieke = await world.person("marieke", "Marieke")
    anna = await world.person("anna")
    coordinator = world.user_id("marieke")
    async with world.bot(coordinators=frozenset({f"matrix:{coordinator}"})) as (bot, _):
        await add_member(bot, "anna", user_id=anna.user_id, platform="matrix")
        room = await world.room_with_bot(marieke, anna)
        await bot.dispatcher.dispatch(FormSubmission(
            "stemming.form", {"question": "Welke thema's?", "options": "gedrag, dyslexie, groeiklas",
                              "kind": "multiple", "max": "2", "electorate": "members", "secret": "nee",
                              "visible": "ja", "deadline": "vrijdag 17:00"},
            Actor("matrix", coordinator, "Marieke"), channel=room))
        await bot.outbox.flush()
        poll = await anna.wait(lambda r, e: r == room and e.get("type") in POLL_TYPES, what="the poll")
        assert content(poll)["m.poll"]["max_selections"] == 2
        ids = [a["id"] for a in content(poll)["org.matrix.msc3381.poll.start"]["answers"]]
        relates = {"rel_type": "m.reference", "event_id": poll["event_id"]}
        await anna.send_event(room, "m.poll.response", {"m.relates_to": relates, "m.selections": ids})
        await anna.wait(from_bot_elsewhere(world, room, "ten hoogste 2"), what="three of at most two refused")
        await anna.send_event(room, "m.poll.response", {"m.relates_to": relates, "m.selections": [ids[0], ids[2]]})
        await anna.wait(from_bot_elsewhere(world, room, "Je stem: gedrag, groeiklas."), what="her ballot")
