"""Reminders exactly once and on time: planning, claiming, catch-up, restarts, two instances, DST.

Time comes from the ManualClock; the scheduler is asked to act (`run_due`) where APScheduler would
wake it, except in the test of the Timekeeper itself, which runs the real AsyncIOScheduler.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import Bot, build
from bot.core.clock import ManualClock, SystemClock
from bot.core.reply import Reply, reply_from_json, reply_to_json
from bot.outbox import DeliveryDelayed
from handlers.context import JobContext
from storage.models import Occurrence, OutboxMessage
from storage.records import PlannedOccurrence
from tests.conftest import AMS, make_settings, started_bot
from tests.support import actor, run, text_of

COORD = actor("coord")
MONDAY_BEFORE = datetime(2026, 11, 30, 10, 0, tzinfo=AMS)  # the day before Tuesday 1 December


async def outbox(bot: Bot, series: str | None = "consulenten") -> list[OutboxMessage]:
    """The queued messages of one series (announcements have no key and belong to any), or all."""
    async with bot.db.transaction() as repos:
        rows = await repos.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [row for row in rows if series is None or row.key is None or f":{series}:" in row.key]


async def occurrences(bot: Bot, series: str | None = "consulenten") -> list[Occurrence]:
    async with bot.db.transaction() as repos:
        rows = await repos.session.scalars(select(Occurrence).order_by(Occurrence.due_at))
        return [row for row in rows if series is None or f":{series}:" in row.key]


def shown(message: OutboxMessage) -> str:
    return text_of(reply_from_json(message.body))


async def test_a_reminder_goes_out_once_with_the_agenda_of_that_moment(bot: Bot, clock: ManualClock) -> None:
    clock.set(MONDAY_BEFORE)
    await bot.scheduler.plan()
    await run(bot, "/overleg agenda Voortgang thuiszitters", COORD)
    clock.set(MONDAY_BEFORE.replace(hour=16))
    assert await bot.scheduler.run_due() >= 1
    [message] = await outbox(bot)
    assert message.channel == "consultants"
    text = shown(message)
    assert "Consulentenoverleg – afstemmingsoverleg" in text
    assert "Morgen: dinsdag 1 december, 09:00–11:30." in text
    assert "Voortgang thuiszitters" in text
    await bot.scheduler.plan()
    assert await bot.scheduler.run_due() == 0
    assert len(await outbox(bot)) == 1


async def test_the_half_hour_reminder_comes_at_0830_without_the_agenda(bot: Bot, clock: ManualClock) -> None:
    clock.set(MONDAY_BEFORE)
    await bot.scheduler.plan()
    clock.set(datetime(2026, 12, 1, 8, 30, tzinfo=AMS))
    await bot.scheduler.run_due()
    messages = await outbox(bot)
    assert len(messages) == 2  # the day before (late: the clock jumped) and the half hour
    assert "Over 30 minuten begint het overleg: dinsdag 1 december, 09:00–11:30." in shown(messages[1])
    assert "Agenda" not in shown(messages[1])


async def test_a_restart_sends_nothing_twice(database_url: str, clock: ManualClock) -> None:
    clock.set(MONDAY_BEFORE)
    async with started_bot(database_url, clock) as first:
        await first.scheduler.plan()
        clock.set(MONDAY_BEFORE.replace(hour=16))
        await first.scheduler.run_due()
        sent = [m.key for m in await outbox(first)]
    async with started_bot(database_url, clock) as second:  # the same database, a new process
        await second.scheduler.plan()
        assert await second.scheduler.run_due() == 0
        assert [m.key for m in await outbox(second)] == sent == [sent[0]]


async def test_two_instances_on_one_postgres_send_each_reminder_once(postgres_url: str, clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 2, 8, 0, tzinfo=AMS))
    async with started_bot(postgres_url, clock) as one, started_bot(postgres_url, clock) as two:
        await asyncio.gather(one.scheduler.plan(), two.scheduler.plan())
        planned = await occurrences(one, None)
        assert len({o.key for o in planned}) == len(planned) > 10
        clock.set(datetime(2026, 12, 7, 16, 0, tzinfo=AMS))  # five weeks of reminders fall due at once
        due = [o for o in planned if o.due_at <= clock.now()]
        claimed = await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        done = [o for o in await occurrences(one, None) if o.state != "pending"]
        assert sum(claimed) == len(done) == len(due) > 10
        reminders = [o for o in done if o.kind == "meeting.reminder"]
        assert {o.state for o in reminders} == {"missed", "done"}  # the meetings that began; the one due now
        sent = [m.key for m in await outbox(one, None) if m.key and m.key.startswith("meeting.reminder")]
        assert sent == [o.key for o in reminders if o.state == "done"]


async def test_down_while_due_sends_late_and_says_so_before_the_meeting(bot: Bot, clock: ManualClock) -> None:
    clock.set(MONDAY_BEFORE)
    await bot.scheduler.plan()
    clock.set(MONDAY_BEFORE.replace(hour=21))  # the 16:00 reminder fell due five hours ago
    await bot.scheduler.run_due()
    [message] = await outbox(bot)
    assert "Later verstuurd dan gepland (maandag 30 november 16:00)" in shown(message)
    [day_before] = [o for o in await occurrences(bot) if "dag-ervoor" in o.key and "20261201" in o.key]
    assert day_before.state == "late"


async def test_down_until_the_meeting_began_is_recorded_as_missed_and_listed(bot: Bot, clock: ManualClock) -> None:
    clock.set(MONDAY_BEFORE)
    await bot.scheduler.plan()
    clock.set(datetime(2026, 12, 1, 9, 5, tzinfo=AMS))  # the meeting has begun
    await bot.scheduler.run_due()
    assert await outbox(bot) == []
    states = {o.key.split(":")[3]: o.state for o in await occurrences(bot) if "2026-12-01" in o.key}
    assert states == {"dag-ervoor": "missed", "half-uur": "missed"}
    listed = text_of(await run(bot, "/overleg gemist", COORD))
    assert "Herinnering consulenten, overleg van 2026-12-01" in listed
    refused = text_of(await run(bot, "/overleg gemist", actor("someone")))
    assert "alleen coördinatoren" in refused


async def test_a_skipped_meeting_gets_one_notice_instead_of_reminders(bot: Bot, clock: ManualClock) -> None:
    clock.set(datetime(2026, 12, 14, 10, 0, tzinfo=AMS))
    await bot.scheduler.plan()
    christmas = [o for o in await occurrences(bot) if "2026-12-22" in o.key]
    assert [o.key.split(":")[3] for o in christmas] == ["dag-ervoor"]
    clock.set(datetime(2026, 12, 21, 16, 0, tzinfo=AMS))
    await bot.scheduler.run_due()
    text = shown((await outbox(bot))[-1])
    assert "Geen Consulentenoverleg op dinsdag 22 december" in text
    assert "Reden: kerstvakantie." in text
    assert "Het volgende overleg: dinsdag 5 januari 2027" in text


async def test_skipping_cancels_the_reminders_and_tells_the_channel(bot: Bot, clock: ManualClock) -> None:
    clock.set(MONDAY_BEFORE - timedelta(days=3))
    await bot.scheduler.plan()
    answer = text_of(await run(bot, "/overleg overslaan 1 december: studiedag", COORD))
    assert "overgeslagen" in answer
    await bot.scheduler.plan()
    states = {o.key.split(":")[3]: o.state for o in await occurrences(bot) if "2026-12-01" in o.key}
    assert states == {"dag-ervoor": "pending", "half-uur": "cancelled"}
    [announcement] = await outbox(bot)
    assert "Consulentenoverleg van dinsdag 1 december 2026, 09:00–11:30 gaat niet door: studiedag." in \
        shown(announcement)


async def test_a_moved_meeting_is_reminded_at_its_new_time(bot: Bot, clock: ManualClock) -> None:
    clock.set(MONDAY_BEFORE - timedelta(days=3))
    await bot.scheduler.plan()
    await run(bot, "/overleg verplaatsen 1 december naar 3 december 13:00", COORD)
    await bot.scheduler.plan()
    pending = [o for o in await occurrences(bot) if "2026-12-01" in o.key and o.state == "pending"]
    assert sorted(o.due_at for o in pending) == [datetime(2026, 12, 2, 16, 0, tzinfo=AMS),
                                                  datetime(2026, 12, 3, 12, 30, tzinfo=AMS)]
    clock.set(datetime(2026, 12, 2, 16, 0, tzinfo=AMS))
    await bot.scheduler.run_due()
    assert "Morgen: donderdag 3 december, 13:00–15:30." in shown((await outbox(bot))[-1])


async def test_reminders_keep_local_time_across_the_dst_switches(bot: Bot, clock: ManualClock) -> None:
    for switch in (datetime(2026, 3, 29, tzinfo=AMS), datetime(2026, 10, 25, tzinfo=AMS),
                   datetime(2027, 3, 28, tzinfo=AMS), datetime(2027, 10, 31, tzinfo=AMS)):
        clock.set(switch - timedelta(days=8))
        await bot.scheduler.plan()
        mondays = [o for o in await occurrences(bot) if "dag-ervoor" in o.key
                   and switch - timedelta(days=7) <= o.due_at <= switch + timedelta(days=2)]
        assert len(mondays) == 2, switch
        before, after = sorted(o.due_at for o in mondays)
        assert before.astimezone(AMS).time() == after.astimezone(AMS).time() == datetime(2026, 1, 1, 16, 0).time()
        assert before.astimezone(AMS).utcoffset() != after.astimezone(AMS).utcoffset()
        assert (after - before) in (timedelta(days=7, hours=1), timedelta(days=7, hours=-1))


async def test_a_failing_job_leaves_nothing_half_done_and_is_tried_again(bot: Bot, clock: ManualClock) -> None:
    """A job that breaks after queueing its message: neither the claim nor the message remain."""
    failures = [RuntimeError("bug after queueing")]

    async def flaky(ctx: JobContext) -> None:
        await ctx.post("consultants", Reply.text(ctx.due.key))
        if failures:
            raise failures.pop()

    bot.registry.jobs["test.flaky"] = flaky
    async with bot.db.transaction() as repos:
        await repos.occurrences.schedule(PlannedOccurrence("test:1", "test.flaky", clock.now(), {}))
        await repos.occurrences.schedule(PlannedOccurrence("test:2", "test.flaky", clock.now(), {}))
    assert await bot.scheduler.run_due() == 1  # test:1 fails alone; test:2 goes through
    assert [text_of(reply_from_json(m.body)) for m in await outbox(bot, None)] == ["test:2"]
    assert await bot.scheduler.run_due() == 1
    assert [text_of(reply_from_json(m.body)) for m in await outbox(bot, None)] == ["test:2", "test:1"]
    assert await bot.scheduler.run_due() == 0


async def test_the_timekeeper_wakes_on_time_with_the_real_scheduler(sqlite_url: str) -> None:
    """APScheduler itself: an occurrence half a second ahead is sent by the bot, with no one asking."""
    bot = build(make_settings(sqlite_url, channel_consultants="C0CONSULT"), clock=SystemClock(AMS))
    await bot.start()
    sent: asyncio.Queue[tuple[str, Reply, datetime]] = asyncio.Queue()

    class Recorder:
        async def send(self, channel: str, reply: Reply) -> str:
            await sent.put((channel, reply, datetime.now(UTC)))
            return "1"

        async def update(self, channel: str, ref: str, reply: Reply) -> None:
            raise AssertionError("nothing is updated here")

    async def job(ctx: JobContext) -> None:
        await ctx.post("consultants", Reply.text("nu"))

    bot.registry.jobs["test.wake"] = job
    try:
        await bot.keep_time(Recorder())
        due = datetime.now(UTC) + timedelta(seconds=0.5)
        async with bot.db.transaction() as repos:
            await repos.occurrences.schedule(PlannedOccurrence("test:wake", "test.wake", due, {}))
        bot.timekeeper.poke()  # as a handler's commit does: re-arm for the new occurrence
        channel, reply, at = await asyncio.wait_for(sent.get(), timeout=10)
        assert channel == "consultants" and text_of(reply) == "nu"
        assert timedelta(0) <= at - due < timedelta(seconds=2)
    finally:
        await bot.stop()


async def test_the_outbox_keeps_order_and_loses_nothing_while_the_platform_fails(
        bot: Bot, clock: ManualClock) -> None:
    delivered: list[str] = []
    faults = [DeliveryDelayed("429", retry_after=5.0), DeliveryDelayed("500"), ConnectionRefusedError("down")]

    class Flaky:  # channel A's platform fails three times; B's is fine
        async def send(self, channel: str, reply: Reply) -> str:
            if channel == "A" and faults:
                raise faults.pop(0)
            delivered.append(f"{channel}:{text_of(reply)}")
            return str(len(delivered))

        async def update(self, channel: str, ref: str, reply: Reply) -> None:
            raise AssertionError("nothing is updated here")

    bot.outbox.sender = Flaky()
    async with bot.db.transaction() as repos:
        for n in range(3):
            await repos.outbox.enqueue("A", f'{{"parts": [{{"type": "Text", "text": "a{n}"}}], "audience": "channel"}}',
                                       clock.now())
        await repos.outbox.enqueue("B", '{"parts": [{"type": "Text", "text": "b0"}], "audience": "channel"}',
                                   clock.now())
    await bot.outbox.flush()  # A's first message meets the 429; B's goes past it
    assert delivered == ["B:b0"]
    clock.advance(timedelta(seconds=4))
    assert await bot.outbox.flush() == 0  # Retry-After: 5 s is honoured
    clock.advance(timedelta(seconds=1))
    await bot.outbox.flush()  # 500: backoff 4 s (second attempt)
    clock.advance(timedelta(seconds=4))
    await bot.outbox.flush()  # refused connection: backoff 8 s
    assert delivered == ["B:b0"]
    clock.advance(timedelta(seconds=8))
    assert await bot.outbox.flush() == 3
    assert delivered == ["B:b0", "A:a0", "A:a1", "A:a2"]
    assert await bot.outbox.flush() == 0


class Recording:
    """A platform that takes everything, and remembers what, per channel, in order."""

    def __init__(self, log: list[tuple[str, str]]) -> None:
        self.log = log

    async def send(self, channel: str, reply: Reply) -> str:
        await asyncio.sleep(0)  # let the other instance run in between
        self.log.append((channel, text_of(reply)))
        return str(len(self.log))

    async def update(self, channel: str, ref: str, reply: Reply) -> None:
        raise AssertionError("nothing is updated here")


async def queue(bot: Bot, messages: list[tuple[str, str]]) -> None:
    async with bot.db.transaction() as repos:
        for channel, text in messages:
            await repos.outbox.enqueue(channel, reply_to_json(Reply.text(text)), bot.clock.now())


async def test_two_instances_flushing_one_outbox_send_each_message_once_in_order(
        postgres_url: str, clock: ManualClock) -> None:
    messages = [(f"C{n % 3}", f"bericht {n}") for n in range(30)]
    delivered: list[tuple[str, str]] = []
    async with started_bot(postgres_url, clock) as one, started_bot(postgres_url, clock) as two:
        await queue(one, messages)
        one.outbox.sender, two.outbox.sender = Recording(delivered), Recording(delivered)
        await asyncio.gather(one.outbox.flush(), two.outbox.flush(), one.outbox.flush())
        assert sorted(delivered) == sorted(messages)
        for channel in ("C0", "C1", "C2"):
            assert [t for c, t in delivered if c == channel] == [t for c, t in messages if c == channel]


async def test_a_restart_between_claiming_and_sending_loses_nothing(database_url: str, clock: ManualClock) -> None:
    clock.set(MONDAY_BEFORE)
    async with started_bot(database_url, clock) as first:
        await first.scheduler.plan()
        clock.set(MONDAY_BEFORE.replace(hour=16))
        await first.scheduler.run_due()  # claimed and queued; the process ends before the outbox runs
    delivered: list[tuple[str, str]] = []
    async with started_bot(database_url, clock) as second:
        second.outbox.sender = Recording(delivered)
        await second.scheduler.run_due()
        await second.outbox.flush()
    assert len(delivered) == 1 and "Morgen: dinsdag 1 december" in delivered[0][1]


async def test_a_message_leased_by_an_instance_that_died_is_sent_after_the_lease(bot: Bot, clock: ManualClock) -> None:
    await queue(bot, [("C0", "eerste"), ("C0", "tweede")])
    async with bot.db.transaction() as repos:
        [head] = await repos.outbox.heads()
        assert await repos.outbox.lease(head.id, clock.now(), clock.now() + timedelta(minutes=2))
    delivered: list[tuple[str, str]] = []
    bot.outbox.sender = Recording(delivered)
    assert await bot.outbox.flush() == 0  # the other instance might still be sending it; the second waits too
    assert bot.outbox.next_attempt == clock.now() + timedelta(minutes=2)
    clock.advance(timedelta(minutes=2))
    assert await bot.outbox.flush() == 2
    assert delivered == [("C0", "eerste"), ("C0", "tweede")]


async def test_housekeeping_forgets_old_deliveries_and_sent_messages_only(bot: Bot, clock: ManualClock) -> None:
    async with bot.db.transaction() as repos:
        await repos.deliveries.claim("slack", "Ev-old", clock.now() - timedelta(days=8))
        await repos.deliveries.claim("slack", "Ev-new", clock.now() - timedelta(days=6))
    await queue(bot, [("C0", "verstuurd"), ("C1", "wacht nog")])
    async with bot.db.transaction() as repos:
        sent, waiting = await repos.outbox.heads()
        await repos.outbox.sent(sent.id, clock.now() - timedelta(days=91), "1")
    await bot.scheduler.housekeeping()
    async with bot.db.transaction() as repos:
        assert not await repos.deliveries.claim("slack", "Ev-new", clock.now())  # still known: a retry is skipped
        assert await repos.deliveries.claim("slack", "Ev-old", clock.now())  # forgotten
    assert [m.id for m in await outbox(bot, None)] == [waiting.id]
