"""The daily holiday check: coordinators get a direct message (through the outbox) when the school
holiday data run out within three months, at most once a week; with data far enough ahead, nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.app import Bot
from bot.core.clock import ManualClock
from tests.conftest import AMS, started_bot
from tests.support import add_member

SHORT = """
[[vakantie]]
naam = "kerstvakantie"
noord = [2026-12-19, 2027-01-03]
midden = [2026-12-19, 2027-01-03]
zuid = [2026-12-19, 2027-01-03]
"""


async def warnings(bot: Bot) -> dict[str, list[str]]:
    async with bot.db.transaction() as repos:
        queued = await repos.outbox.heads()
    found: dict[str, list[str]] = {}
    for message in queued:
        if "vakantiebestand" in message.body:
            found.setdefault(message.channel, []).append(message.body)
    return found


async def day(bot: Bot, clock: ManualClock, moment: datetime) -> None:
    """Plan as the bot does every hour, then let the clock reach `moment` and act on what fell due."""
    await bot.scheduler.plan()
    clock.set(moment)
    await bot.scheduler.run_due()


async def test_coordinators_hear_once_a_week_when_the_holidays_run_out(database_url: str, clock: ManualClock,
                                                                      tmp_path: Path) -> None:
    short = tmp_path / "vakanties.toml"
    short.write_text(SHORT, encoding="utf-8")
    async with started_bot(database_url, clock, school_holidays_file=short) as bot:
        coordinator = await add_member(bot, "Marieke", user_id="UCOORD", platform="slack")
        other = await add_member(bot, "Piet", user_id="UPIET", platform="slack")
        console = await add_member(bot, "Beheer", user_id="coord", platform="console")

        await day(bot, clock, datetime(2026, 11, 25, 8, 31, tzinfo=AMS))  # Wednesday
        first = await warnings(bot)
        await day(bot, clock, datetime(2026, 11, 26, 8, 31, tzinfo=AMS))  # the same week
        same_week = await warnings(bot)
        await day(bot, clock, datetime(2026, 11, 30, 8, 31, tzinfo=AMS))  # Monday: a new week
        next_week = await warnings(bot)

    assert set(first) == {f"member:{coordinator.id}", f"member:{console.id}"}
    assert f"member:{other.id}" not in first  # not a coordinator
    assert "lopen maar tot 2027-01-03 (nog 39 dagen)" in first[f"member:{coordinator.id}"][0]
    assert "netwerkbot vakanties bijwerken" in first[f"member:{coordinator.id}"][0]
    assert same_week == first
    assert len(next_week[f"member:{coordinator.id}"]) == 1  # heads: one per destination; the second waits behind
    async with started_bot(database_url, clock, school_holidays_file=short) as bot, bot.db.transaction() as repos:
        assert await repos.outbox.by_key(f"holiday_check:2026-49:{coordinator.id}") is not None
        assert await repos.outbox.by_key(f"holiday_check:2026-48:{coordinator.id}") is not None


async def test_no_warning_with_data_far_enough_ahead(sqlite_bot: Bot, clock: ManualClock) -> None:
    await add_member(sqlite_bot, "Marieke", user_id="UCOORD", platform="slack")

    await day(sqlite_bot, clock, clock.now() + timedelta(days=1))

    assert await warnings(sqlite_bot) == {}
    async with sqlite_bot.db.transaction() as repos:
        assert await repos.outbox.by_key("holiday_check:2026-48:1") is None
