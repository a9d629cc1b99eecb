"""On the real Synapse: `!stemming export N` is an `m.file` (the CSV uploaded to the media repository), and
a person is named by their Matrix display name from their first command on."""

from __future__ import annotations

import aiohttp
import pytest

from bot.core.clock import ManualClock
from storage.proposals import VoteDraft
from tests.matrix_support import MatrixWorld, matrix_world
from tests.support import add_member

world = pytest.fixture(matrix_world, name="world")


async def test_a_vote_export_is_a_file_in_the_room(world: MatrixWorld, clock: ManualClock) -> None:
    marieke = await world.person("marieke", "Marieke de Vries")
    async with world.bot(coordinators=frozenset({f"matrix:{world.user_id('marieke')}"})) as (bot, _):
        coordinator = await add_member(bot, "Marieke de Vries", user_id=marieke.user_id, platform="matrix")
        async with bot.db.transaction() as repos:
            vote_id = await repos.votes.create(
                VoteDraft(question="Financieren we de groeiklas?", options=("voor", "tegen"), electorate="members",
                          werkgebied="", secret=False, show_while_open=True, deadline=clock.now(), quorum=0,
                          threshold=0, accepting_option=0, time_filled=False),
                pitch_id=None, channel="", by=coordinator.id, now=clock.now())
        room = await world.room_with_bot(marieke)
        await marieke.send(room, f"!stemming export {vote_id}")
        shared = await marieke.wait(lambda r, e: r == room and e.get("sender") == world.bot_id
                                    and (e.get("content") or {}).get("msgtype") == "m.file", what="the CSV file")
        file = shared["content"]
        assert file["filename"] == f"stemming-{vote_id}.csv" and file["info"]["mimetype"] == "text/csv"
        assert file["url"].startswith("mxc://localhost/")
        server, _, media = file["url"].removeprefix("mxc://").partition("/")
        async with aiohttp.ClientSession() as session, session.get(  # authenticated media (Matrix 1.11)
                f"{world.synapse.url}/_matrix/client/v1/media/download/{server}/{media}",
                headers={"Authorization": f"Bearer {marieke.client.access_token}"}) as response:
            assert response.status == 200, await response.text()
            data = await response.read()
        assert "Financieren we de groeiklas?;voor;0" in data.decode("utf-8-sig")
        assert file["info"]["size"] == len(data)


async def test_a_new_person_is_named_by_their_display_name_from_the_first_command(world: MatrixWorld) -> None:
    dirk = await world.person("dirk", "Dirk Visser")
    async with world.bot() as (bot, _):
        room = await world.room_with_bot(dirk)
        await dirk.send(room, "!stemming export 1")  # refused: only coordinators
        await dirk.reply_from(world.bot_id, room, contains="coördinatoren")
        async with bot.db.transaction() as repos:
            member = await repos.members.by_identity("matrix", dirk.user_id)
        assert member is not None and member.name == "Dirk Visser"
