"""No poison loops: a message that breaks the sender, or a renderer that breaks, never holds up the rest.

Both were loops for ever before: an unexpected error kept an outbox message at the head of its channel
(nothing behind it was ever sent), and a failing refresh was retried every second without a trace.
"""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.reply import Reply, reply_to_json
from bot.outbox import MAX_UNEXPECTED
from bot.refresh import Refresher
from tests.support import actor, run, text_of

COORD = actor("coord")


class BreaksOn:
    """A sender that fails, as a bug would, on one message and takes every other."""

    def __init__(self, poison: str) -> None:
        self.poison = poison
        self.sent: list[str] = []

    async def send(self, channel: str, reply: Reply) -> str:
        if text_of(reply) == self.poison:
            raise KeyError("a renderer choked on this message")
        self.sent.append(text_of(reply))
        return str(len(self.sent))

    async def update(self, channel: str, ref: str, reply: Reply) -> None:
        raise AssertionError("nothing is updated here")


async def sent_message(bot: Bot, key: str) -> None:
    """A message with this key in the outbox, sent: one the refresher may refresh."""
    async with bot.db.transaction() as repos:
        await repos.outbox.enqueue("consultants", reply_to_json(Reply.text("stand")), bot.clock.now(), key=key)
        [head] = await repos.outbox.heads()
        await repos.outbox.sent(head.id, bot.clock.now(), "1700000000.0001")


async def test_a_poison_message_is_failed_after_bounded_tries_and_its_channel_moves_on(
        bot: Bot, clock: ManualClock) -> None:
    sender = BreaksOn("gif")
    bot.outbox.sender = sender
    async with bot.db.transaction() as repos:
        for text in ("eerst", "gif", "daarna", "als laatste"):
            await repos.outbox.enqueue("consultants", reply_to_json(Reply.text(text)), clock.now())
    tries = 0
    while len(sender.sent) < 3 and tries < 3 * MAX_UNEXPECTED:
        await bot.outbox.flush()
        assert bot.outbox.next_attempt is not None or len(sender.sent) == 3
        if bot.outbox.next_attempt is not None:
            clock.set(max(clock.now(), bot.outbox.next_attempt))
        tries += 1
    assert sender.sent == ["eerst", "daarna", "als laatste"]  # in order, the poison left out
    assert tries <= MAX_UNEXPECTED + 1
    answer = text_of(await run(bot, "/overleg gemist", COORD))
    assert "consultants" in answer and "KeyError" in answer  # coordinators see what failed and why


async def test_a_failing_renderer_is_logged_with_its_traceback_and_backs_off(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    renders: list[float] = []

    async def broken(ctx: object, key: str) -> Reply | None:
        renders.append(asyncio.get_running_loop().time())
        raise ZeroDivisionError("a bug in the renderer")

    class Sender(BreaksOn):
        async def update(self, channel: str, ref: str, reply: Reply) -> None:
            raise AssertionError("a broken render updates nothing")

    await sent_message(bot, "test:1")
    refresher = Refresher(bot.db, bot.clock, bot.settings, bot.catalog, {"test:": broken}, interval=0.05)
    refresher.start(Sender(""))
    try:
        with caplog.at_level(logging.ERROR, logger="bot.refresh"):
            refresher.mark({"test:1"})
            for _ in range(400):  # waits on the condition, bounded: some 2 s at most
                if len(renders) >= 4:
                    break
                await asyncio.sleep(0.005)
    finally:
        await refresher.stop()
    assert len(renders) == 4
    gaps = [b - a for a, b in itertools.pairwise(renders)]
    # after 1, 2, 3 failures: 2, 4, 8 intervals (0.1, 0.2, 0.4 s), not one interval each time
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and gaps[2] >= 0.39, gaps
    assert any(record.exc_info for record in caplog.records), "logged with its traceback"


async def test_stopping_ends_the_refresher_even_when_a_change_wakes_it_at_that_moment(bot: Bot) -> None:
    """Python 3.11's `asyncio.wait_for` returns what it waited for when its task is cancelled just as that
    arrives, and the cancellation is lost: the refresher went on waiting for the next change and `stop()`
    waited for it for ever (a whole CI run hung in a fixture's teardown after 40 ballots on PostgreSQL)."""
    renders: list[str] = []

    async def failing(ctx: object, key: str) -> Reply | None:
        renders.append(key)
        raise ZeroDivisionError("fails once, so that the refresher waits out its backoff")

    await sent_message(bot, "test:1")
    refresher = Refresher(bot.db, bot.clock, bot.settings, bot.catalog, {"test:": failing}, interval=30)
    refresher.start(BreaksOn(""))
    refresher.mark({"test:1"})
    for _ in range(200):  # until it tried once and waits (a minute) for its next try, bounded
        if renders:
            break
        await asyncio.sleep(0.005)
    for _ in range(20):
        await asyncio.sleep(0)
    assert renders == ["test:1"]

    running = refresher._task
    assert running is not None
    refresher.mark({"test:1"})  # a change wakes it …
    stopping = asyncio.ensure_future(refresher.stop())  # … in the same turn of the event loop as it is stopped
    stopped, _ = await asyncio.wait({stopping}, timeout=5)  # (a bound, not a clock: it takes milliseconds)
    if not stopped:  # hung: cancelled once more to clean up, which ends it
        running.cancel()
        await stopping
    assert stopped and running.done()
