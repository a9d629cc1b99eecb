"""Over signed Slack HTTP against tests/fake_slack.py: a person is named by their Slack name from their very
first input, also when it was refused (issue 13, item 7), and `/stemming export` is a file (files.uploadV2)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.clock import ManualClock
from storage.proposals import VoteDraft
from tests.adapters.test_slack_e2e import World, running
from tests.fake_slack import User
from tests.support import add_member

CARLA = User("U0CARLA", "carla.bakker")
COORDINATOR = User("UCOORD", "marieke")


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, channel_outer_circle="C0BUITEN") as w:
        w.fake.add_user(CARLA.id, "Carla Bakker", email="carla@example.org")
        w.fake.add_user(COORDINATOR.id, "Marieke de Vries")
        yield w


async def name_of(w: World, user_id: str) -> str | None:
    async with w.bot.db.transaction() as repos:
        member = await repos.members.by_identity("slack", user_id)
    return member.name if member else None


async def test_a_first_command_that_is_refused_still_names_the_person_by_their_slack_name(world: World) -> None:
    refused = await world.slack.command("/stemming", "export 1", CARLA)  # only coordinators: refused
    assert refused.status == 200 and "coördinator" in refused.json["text"]
    assert await name_of(world, CARLA.id) == "Carla Bakker"  # not "carla.bakker", also after a refusal
    await world.adapter.drain()
    assert len(world.fake.ok_calls("users.info")) == 1  # once, not again after the answer


async def test_a_first_ever_idea_is_announced_with_the_real_name(world: World) -> None:
    answer = await world.slack.command("/idee", "#leesplezier Een leesclub voor de bovenbouw", CARLA,
                                       channel="C0BUITEN")
    assert answer.status == 200
    await world.adapter.drain()
    await world.bot.outbox.flush()
    said = answer.text + " ".join(str(c.params.get("text", "")) + str(c.params.get("blocks", ""))
                                  for c in world.fake.ok_calls("chat.postMessage"))
    assert "carla.bakker" not in said
    assert await name_of(world, CARLA.id) == "Carla Bakker"


async def test_a_vote_export_is_uploaded_as_a_csv_file(world: World) -> None:
    coordinator = await add_member(world.bot, "Marieke de Vries", user_id=COORDINATOR.id, platform="slack")
    async with world.bot.db.transaction() as repos:
        now = world.bot.clock.now()
        vote_id = await repos.votes.create(
            VoteDraft(question="Financieren we de groeiklas?", options=("voor", "tegen"), electorate="members",
                      werkgebied="", secret=False, show_while_open=True, deadline=now, quorum=0, threshold=0,
                      accepting_option=0, time_filled=False),
            pitch_id=None, channel="C0NETWERK", by=coordinator.id, now=now)
    answer = await world.slack.command("/stemming", f"export {vote_id}", COORDINATOR)
    assert answer.status == 200 and f"Stemming #{vote_id} (CSV)" in answer.json["text"]
    await world.adapter.drain()
    [shared] = world.fake.files
    assert shared["name"] == f"stemming-{vote_id}.csv" and shared["channel"].startswith("D")  # the coordinator's DM
    assert "Financieren we de groeiklas?;voor;0" in shared["data"].decode("utf-8-sig")
    assert [c.method for c in world.fake.calls if c.method.startswith(("files.", "upload"))] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
