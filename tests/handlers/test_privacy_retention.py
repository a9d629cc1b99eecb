"""Retention (PRIVACY.md): one occurrence a day applies every period, exactly once, also with two bots on
one PostgreSQL; what it forgets and what it keeps, by the ManualClock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.inputs import Action, Command
from bot.core.reply import Reply, reply_from_json, reply_to_json
from handlers.privacy import RETENTION
from storage.models import Ballot, Delivery, Idea, Occurrence, OutboxMessage
from tests.conftest import AMS, started_bot
from tests.handlers.test_privacy_erasure import BART, COORD, VERA, ballot, start_vote
from tests.support import actor, add_member, run, text_of

OUTER = "C0BUITEN"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=AMS)


@pytest.fixture
async def bot(database_url: str, clock: ManualClock) -> AsyncIterator[Bot]:
    async with started_bot(database_url, clock, channel_outer_circle=OUTER) as instance:
        for who in (BART, VERA, COORD):
            await add_member(instance, who.name, user_id=who.user_id, platform="slack")
        yield instance


async def retention_on(bot: Bot, clock: ManualClock, day: date) -> int:
    """Plan the day before, then let the scheduler act at 03:30 of `day`; how many retention runs it made."""
    clock.set(datetime.combine(day - timedelta(days=1), datetime.min.time(), AMS).replace(hour=12))
    await bot.scheduler.plan()
    clock.set(datetime.combine(day, datetime.min.time(), AMS).replace(hour=3, minute=30))
    return await run_retention(bot)


async def run_retention(*bots: Bot) -> int:
    """Let every bot act on what is due (at once); how many retention occurrences that settled. Other
    features' occurrences (a holiday check) may fall due too: they are not counted."""
    before = await settled(bots[0])
    await asyncio.gather(*(b.scheduler.run_due() for b in bots))
    return await settled(bots[0]) - before


async def settled(bot: Bot) -> int:
    return sum(o.state != "pending" for o in await retention_rows(bot))


async def retention_rows(bot: Bot) -> list[Occurrence]:
    async with bot.db.transaction() as repos:
        return list(await repos.session.scalars(select(Occurrence).where(Occurrence.kind == RETENTION)
                                                .order_by(Occurrence.due_at)))


async def test_the_retention_run_happens_once_a_day_at_its_time(bot: Bot, clock: ManualClock) -> None:
    await bot.scheduler.plan()
    planned = await retention_rows(bot)
    assert [o.key for o in planned] == [f"{RETENTION}:2026-11-25", f"{RETENTION}:2026-11-26"]
    assert planned[0].due_at == datetime(2026, 11, 25, 3, 30, tzinfo=AMS)
    clock.set(datetime(2026, 11, 25, 3, 29, tzinfo=AMS))
    assert await run_retention(bot) == 0
    clock.set(datetime(2026, 11, 25, 3, 30, tzinfo=AMS))
    assert await run_retention(bot) == 1
    await bot.scheduler.plan()
    assert await run_retention(bot) == 0  # the same day again: nothing
    clock.set(datetime(2026, 11, 26, 3, 30, tzinfo=AMS))
    await bot.scheduler.plan()
    assert await run_retention(bot) == 1
    done = [o for o in await retention_rows(bot) if o.state == "done"]
    assert [o.key for o in done] == [f"{RETENTION}:2026-11-25", f"{RETENTION}:2026-11-26"]


async def test_days_that_passed_while_the_bot_was_down_run_once_each_at_the_start(
        bot: Bot, clock: ManualClock) -> None:
    await bot.scheduler.plan()
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=AMS))  # down since Tuesday: the 25th and 26th passed
    assert await run_retention(bot) == 2
    assert await run_retention(bot) == 0
    states = {o.key.rsplit(":", 1)[1]: o.state for o in await retention_rows(bot)}
    assert states == {"2026-11-25": "late", "2026-11-26": "late"}


async def test_two_bots_on_one_postgres_run_each_day_once(postgres_url: str, clock: ManualClock) -> None:
    async with started_bot(postgres_url, clock) as one, started_bot(postgres_url, clock) as two:
        for day in (25, 26, 27):
            clock.set(datetime(2026, 11, day - 1, 12, 0, tzinfo=AMS))
            await asyncio.gather(one.scheduler.plan(), two.scheduler.plan())
            clock.set(datetime(2026, 11, day, 3, 30, tzinfo=AMS))
            assert await run_retention(one, two) == 1, day
        assert [o.state for o in await retention_rows(one)][:3] == ["done", "done", "done"]


async def outbox(bot: Bot) -> list[OutboxMessage]:
    async with bot.db.transaction() as repos:
        return list(await repos.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_what_retention_forgets_and_what_it_keeps(bot: Bot, clock: ManualClock) -> None:
    piet = await add_member(bot, "Piet Smit", user_id="UPIET0001", platform="slack")
    # an idea that is finished, one that is not; a vote per kind; a delivery; a sent message
    for text in ("#gedrag Een time-out plek", "#dyslexie Voorleessoftware delen"):
        await bot.dispatcher.dispatch(Command("idee", text, BART, channel=OUTER))
    async with bot.db.transaction() as repos:
        assert await repos.ideas.move(1, "afgerond", by=piet.id, now=clock.now(), from_status=("nieuw",))
    secret, open_vote, running = await start_vote(bot, secret="ja"), await start_vote(bot), await start_vote(bot)
    for number in (secret, open_vote, running):
        await ballot(bot, BART, number, 0)
        await ballot(bot, VERA, number, 1)
    for number in (secret, open_vote):
        await run(bot, f"/stemming sluiten {number}", COORD)
    await bot.dispatcher.dispatch(Action("privacy.annuleer", "", BART, delivery_id="Ev-old"))
    async with bot.db.transaction() as repos:
        await repos.outbox.enqueue("outer_circle", reply_to_json(Reply.text("Vertrouwelijk bericht")), clock.now(),
                                   key="old")
        message = await repos.outbox.by_key("old")
        assert message is not None
        await repos.outbox.sent(message.id, clock.now(), "1700000000.1")

    def texts(rows: list[OutboxMessage]) -> str:
        return " ".join(text_of(reply_from_json(m.body)) for m in rows if m.body)

    async def ballots() -> dict[int, int]:
        async with bot.db.transaction() as repos:
            rows = list(await repos.session.scalars(select(Ballot)))
        return {n: sum(1 for b in rows if b.vote_id == n) for n in (secret, open_vote, running)}

    export_before = text_of(await run(bot, f"/stemming export {open_vote}", COORD))
    assert await retention_on(bot, clock, date(2026, 11, 25)) >= 1
    assert await ballots() == {secret: 0, open_vote: 2, running: 2}  # a secret vote keeps its counts only
    shown = text_of(await run(bot, f"/stemming {secret}", COORD))
    assert "• voor: 1" in shown and "• tegen: 1" in shown and "Opkomst: 2 van" in shown  # from the result
    assert "Vertrouwelijk bericht" in texts(await outbox(bot))

    await retention_on(bot, clock, date(2027, 3, 1))  # three months on; the third vote closed on Friday 27th
    assert await ballots() == {secret: 0, open_vote: 0, running: 0}
    assert "Opkomst: 2 van" in text_of(await run(bot, f"/stemming {open_vote}", COORD))
    export_after = text_of(await run(bot, f"/stemming export {open_vote}", COORD))
    assert export_before.splitlines()[:5] == export_after.splitlines()[:5]  # the counts survive the ballots
    assert "Vertrouwelijk bericht" not in texts(await outbox(bot))  # the copy of what was sent is gone
    async with bot.db.transaction() as repos:
        assert "Ev-old" not in {d.delivery_id for d in await repos.session.scalars(select(Delivery))}
        ideas = {i.id: i.text for i in await repos.session.scalars(select(Idea))}
    assert ideas[2] == "Voorleessoftware delen"  # not finished: kept
    assert ideas[1] == "Een time-out plek"  # finished, but not yet a year

    await retention_on(bot, clock, date(2027, 11, 26))
    async with bot.db.transaction() as repos:
        ideas = {i.id: i.text for i in await repos.session.scalars(select(Idea))}
    assert ideas == {1: "(tekst na de bewaartermijn verwijderd)", 2: "Voorleessoftware delen"}


async def test_members_long_unseen_are_listed_for_coordinators_never_deleted(bot: Bot, clock: ManualClock) -> None:
    await add_member(bot, "Piet Smit", user_id="UPIET0001", platform="slack")
    await run(bot, "/netwerkbot profiel", BART)  # Bart is seen today; Piet never came
    clock.set(datetime(2028, 6, 1, 9, 0, tzinfo=AMS))
    await run(bot, "/netwerkbot profiel", VERA)
    await run(bot, "/netwerkbot profiel", COORD)
    await retention_on(bot, clock, date(2028, 11, 24))
    await retention_on(bot, clock, date(2028, 11, 25))  # 24 months after Tuesday 24 November 2026, 09:00
    await retention_on(bot, clock, date(2028, 11, 26))
    notices = [m for m in await outbox(bot) if m.key and ":inactive:" in m.key]
    assert len(notices) == 1  # once, the day they crossed the line, to the coordinator
    async with bot.db.transaction() as repos:
        coordinator = await repos.members.by_identity("slack", "UCOORD")
    assert coordinator is not None and notices[0].channel == f"member:{coordinator.id}"
    assert "2 leden zijn nu 24 maanden niet gezien" in text_of(reply_from_json(notices[0].body))
    listed = text_of(await run(bot, "/netwerkbot inactief", COORD))
    assert "2 leden zijn al 24 maanden niet gezien" in listed
    assert "Piet Smit" in listed and "Bart" in listed and "Vera" not in listed
    assert "Laatst gezien: 24 november 2026" in listed
    async with bot.db.transaction() as repos:
        assert {m.name for m in await repos.members.all()} >= {"Piet Smit", BART.name}  # nobody deleted
    assert "alleen coördinatoren" in text_of(await run(bot, "/netwerkbot inactief", actor("UPIET0001", "slack")))
