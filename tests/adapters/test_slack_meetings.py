"""Meetings over Slack: `/overleg` in the ack, reminders through the outbox to a failing Web API, the
iCalendar feed over HTTP. The real bolt app and aiohttp server; Slack's servers are the fake."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import icalendar
import pytest

from bot.adapters.slack import SlackAdapter
from bot.core.clock import ManualClock
from bot.core.reply import Reply
from bot.outbox import DeliveryDelayed, DeliveryRefused
from tests.adapters.test_slack_e2e import World, running, texts
from tests.conftest import AMS, started_bot
from tests.fake_slack import User, block_problems

CONSULTANTS = "C0CONSULT"
TOKEN = "feed-secret-0123456789"
COORDINATOR = User("UCOORD", "coordinator")


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, channel_consultants=CONSULTANTS, calendar_token=TOKEN) as w:
        w.bot.outbox.sender = w.adapter
        yield w


async def test_overleg_in_december_shows_four_meetings_held_with_christmas_in_one_line(
        world: World, clock: ManualClock) -> None:
    clock.set(datetime(2026, 12, 14, 12, 0, tzinfo=AMS))
    answer = await world.slack.command("/overleg", "", User("U0IB", "ib"), channel=CONSULTANTS)
    assert answer.status == 200
    blocks = answer.json["blocks"]
    assert block_problems(blocks) == []
    shown = texts(blocks)
    assert shown.index("*dinsdag 15 december 2026, 09:00–11:30*\nafstemmingsoverleg") \
        < shown.index("Geen overleg op 22 en 29 december: kerstvakantie") \
        < shown.index("*dinsdag 5 januari 2027, 09:00–11:30*\nde verdieping") \
        < shown.index("*dinsdag 12 januari 2027, 09:00–11:30*\nafstemmingsoverleg") \
        < shown.index("*dinsdag 19 januari 2027, 09:00–11:30*\nde verdieping")
    assert shown.count("Geen overleg") == 1 and shown.count("09:00–11:30*") == 4


async def test_a_reminder_reaches_slack_once_through_429_and_500(world: World, clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=AMS))
    await world.bot.scheduler.plan()
    clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=AMS))
    world.fake.fail("chat.postMessage", 429)
    world.fake.fail("chat.postMessage", 500)
    await world.bot.scheduler.run_due()

    assert await world.bot.outbox.flush() == 0  # 429: Slack said to wait a second
    clock.advance(timedelta(seconds=1))
    assert await world.bot.outbox.flush() == 0  # 500: backoff
    assert await world.bot.outbox.flush() == 0  # not before the backoff has passed
    clock.advance(timedelta(seconds=4))
    assert await world.bot.outbox.flush() == 1

    [posted] = world.fake.ok_calls("chat.postMessage")
    assert posted.params["channel"] == CONSULTANTS
    assert "Morgen: dinsdag 1 december, 09:00–11:30." in texts(posted.params["blocks"])
    assert block_problems(posted.params["blocks"]) == []
    assert len(world.fake.attempts("chat.postMessage")) == 3
    assert await world.bot.scheduler.run_due() == 0 and await world.bot.outbox.flush() == 0


async def test_a_channel_that_is_not_set_is_reported_to_coordinators(sqlite_url: str, clock: ManualClock) -> None:
    async with running(sqlite_url, clock) as w:  # NETWERKBOT_CHANNEL_CONSULTANTS not set
        w.bot.outbox.sender = w.adapter
        clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=AMS))
        await w.bot.scheduler.plan()
        clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=AMS))
        await w.bot.scheduler.run_due()
        await w.bot.outbox.flush()
        assert not w.fake.attempts("chat.postMessage")
        answer = await w.slack.command("/overleg", "gemist", COORDINATOR)
        assert "Bericht naar consultants" in answer.text and "NETWERKBOT_CHANNEL" in answer.text


async def test_the_calendar_feed_opens_in_a_calendar_parser(world: World, clock: ManualClock) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{world.base}/agenda/{TOKEN}/consulenten.ics") as response:
            assert response.status == 200
            assert response.content_type == "text/calendar"
            feed = icalendar.Calendar.from_ical(await response.read())
        for wrong in (f"/agenda/not-{TOKEN}/consulenten.ics", f"/agenda/{TOKEN}/onbekend.ics"):
            async with session.get(world.base + wrong) as response:
                assert response.status == 404
    events = {str(e["SUMMARY"]): e for e in feed.walk("VEVENT")}
    christmas = [e for e in feed.walk("VEVENT") if e.decoded("DTSTART").date() == datetime(2026, 12, 22).date()]
    assert [str(e["STATUS"]) for e in christmas] == ["CANCELLED"]
    assert "Consulentenoverleg – afstemmingsoverleg" in events
    first = min(feed.walk("VEVENT"), key=lambda e: e.decoded("DTSTART"))
    assert first.decoded("DTSTART").astimezone(AMS).hour == 9


async def test_an_unreachable_slack_delays_a_message_and_a_refusal_is_final(sqlite_url: str,
                                                                           clock: ManualClock) -> None:
    with socket.socket() as probe:  # a port nobody listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    async with started_bot(sqlite_url, clock, slack_bot_token="xoxb-test", slack_signing_secret="s",
                           slack_api_url=f"http://127.0.0.1:{closed}/api/", channel_consultants=CONSULTANTS) as bot:
        adapter = SlackAdapter(bot)
        with pytest.raises(DeliveryDelayed, match="Slack unreachable"):
            await adapter.send("consultants", Reply.text("Morgen overleg"))
        with pytest.raises(DeliveryRefused, match="geen Slack-kanaal ingesteld voor inner_circle"):
            await adapter.send("inner_circle", Reply.text("Morgen binnenkring"))


async def test_slack_refusing_a_channel_is_final_and_other_errors_are_retried(world: World) -> None:
    world.fake.fail("chat.postMessage", 503)
    with pytest.raises(DeliveryDelayed, match="Slack 503"):
        await world.adapter.send("consultants", Reply.text("Morgen overleg"))
    world.fake.deleted_channels.add("C0GONE")
    with pytest.raises(DeliveryRefused, match="channel_not_found"):
        await world.adapter.send("C0GONE", Reply.text("Morgen overleg"))
