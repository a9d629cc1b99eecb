"""Issue 13 over signed Slack HTTP, on SQLite and PostgreSQL: a coordinator skips or moves this morning's
meeting by its date, the reminders follow the change at once, and a skipped meeting is told once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from bot.core.clock import ManualClock
from tests.adapters.test_slack_e2e import World, running, texts
from tests.conftest import AMS
from tests.fake_slack import User

CONSULTANTS = "C0CONSULT"
COORDINATOR = User("UCOORD", "coordinator")


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(database_url, clock, channel_consultants=CONSULTANTS) as w:
        w.bot.outbox.sender = w.adapter
        clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=AMS))  # Monday; the consultants meet Tuesday 09:00
        await w.bot.scheduler.plan()
        yield w


async def at(w: World, clock: ManualClock, moment: datetime) -> list[str]:
    """Let time pass to `moment` as the timekeeper would (without its hourly planning); what the
    consultants' channel has received so far."""
    clock.set(moment)
    await w.bot.scheduler.run_due()
    await w.bot.outbox.flush()
    calls = w.fake.ok_calls("chat.postMessage")
    return [texts(c.params["blocks"]) for c in calls if c.params["channel"] == CONSULTANTS]


async def test_this_mornings_meeting_is_moved_by_its_date_and_the_reminder_follows_at_once(
        world: World, clock: ManualClock) -> None:
    day_before = await at(world, clock, datetime(2026, 11, 30, 16, 0, tzinfo=AMS))
    assert len(day_before) == 1 and "Morgen: dinsdag 1 december, 09:00–11:30." in day_before[0]

    clock.set(datetime(2026, 12, 1, 7, 0, tzinfo=AMS))
    moved = await world.slack.command("/overleg", "verplaatsen 1 december naar 1 december 10:20", COORDINATOR,
                                      channel=CONSULTANTS)
    assert moved.json["text"].startswith("Verplaatst naar dinsdag 1 december 2026, 10:20–12:50")
    await world.bot.outbox.flush()

    at_old_time = await at(world, clock, datetime(2026, 12, 1, 8, 30, tzinfo=AMS))
    assert len(at_old_time) == 2 and "is verplaatst naar dinsdag 1 december 2026, 10:20–12:50" in at_old_time[1]
    at_new_time = await at(world, clock, datetime(2026, 12, 1, 9, 50, tzinfo=AMS))
    assert len(at_new_time) == 3
    assert "Over 30 minuten begint het overleg: dinsdag 1 december, 10:20–12:50." in at_new_time[2]


async def test_a_skipped_meeting_with_two_reminders_is_told_once(world: World, clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 30, 12, 0, tzinfo=AMS))
    skipped = await world.slack.command("/overleg", "overslaan 1 december: ziekte", COORDINATOR, channel=CONSULTANTS)
    assert skipped.json["text"].startswith("Het overleg van dinsdag 1 december 2026, 09:00–11:30 is overgeslagen")
    await at(world, clock, datetime(2026, 11, 30, 16, 0, tzinfo=AMS))
    posted = await at(world, clock, datetime(2026, 12, 1, 8, 30, tzinfo=AMS))
    assert sum(p.count("Reden: ziekte.") for p in posted) == 1
    assert sum(p.count("gaat niet door: ziekte") for p in posted) == 1
    assert not [p for p in posted if "Over 30 minuten" in p]


async def test_this_mornings_meeting_is_skipped_by_todays_date(world: World, clock: ManualClock) -> None:
    await at(world, clock, datetime(2026, 11, 30, 16, 0, tzinfo=AMS))
    clock.set(datetime(2026, 12, 1, 7, 0, tzinfo=AMS))
    skipped = await world.slack.command("/overleg", "overslaan 1 december: ziekte", COORDINATOR, channel=CONSULTANTS)
    assert skipped.json["text"].startswith("Het overleg van dinsdag 1 december 2026, 09:00–11:30 is overgeslagen")
    posted = await at(world, clock, datetime(2026, 12, 1, 8, 30, tzinfo=AMS))
    assert len(posted) == 2 and "gaat niet door: ziekte" in posted[1]  # no reminder of it after the notice


async def test_an_ambiguous_day_is_refused_with_the_question(world: World, clock: ManualClock) -> None:
    answer = await world.slack.command("/overleg", "overslaan volgende dinsdag: ziekte", COORDINATOR,
                                       channel=CONSULTANTS)
    assert answer.json["text"] == ("\"volgende dinsdag\" kan twee dagen zijn: dinsdag 1 december of dinsdag "
                                   "8 december. Schrijf aanstaande …, volgende week … of de datum.")
    async with world.bot.db.transaction() as repos:
        assert await repos.meetings.changes("consulenten") == []
