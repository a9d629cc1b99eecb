"""Stopping the refresher ends it, also when a change wakes it at the moment it is stopped.

Python 3.11's `asyncio.wait_for` returns what it waited for when its task is cancelled just as that
arrives, and the cancellation is lost: the refresher went on waiting for the next change and `stop()`
waited for it for ever (a whole CI run hung in a fixture's teardown after 40 ballots on PostgreSQL).
"""

from __future__ import annotations

import asyncio

from bot.app import Bot
from bot.core.reply import Reply, reply_to_json
from bot.refresh import Refresher


class Quiet:
    async def send(self, channel: str, reply: Reply) -> str:
        return "1"

    async def update(self, channel: str, ref: str, reply: Reply) -> None:
        return None


async def test_stopping_ends_the_refresher_even_when_a_change_wakes_it_at_that_moment(bot: Bot) -> None:
    renders: list[str] = []

    async def failing(ctx: object, key: str) -> Reply | None:
        renders.append(key)
        raise ZeroDivisionError("fails once, so that the refresher waits out its backoff")

    async with bot.db.transaction() as repos:
        await repos.outbox.enqueue("consultants", reply_to_json(Reply.text("stand")), bot.clock.now(), key="test:1")
        [head] = await repos.outbox.heads()
        await repos.outbox.sent(head.id, bot.clock.now(), "1700000000.0001")
    refresher = Refresher(bot.db, bot.clock, bot.settings, bot.catalog, {"test:": failing}, interval=30)
    refresher.start(Quiet())
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
