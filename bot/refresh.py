"""Messages the bot keeps up to date after sending them, such as a vote's tally.

A handler marks a message by its outbox key (`repos.outbox.touch`); after the commit the refresher
renders it anew from the database and has the adapter replace it, at most once a second per
message: a burst of presses becomes one update a second, not one API call per press (Slack limits
`chat.update`). A refresh only shows what the database holds, so one that fails or is lost in a
restart is made good by the next; nothing depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping

from bot.core.clock import Clock
from bot.core.reply import Reply
from bot.outbox import Sender
from config.i18n import Catalog
from config.settings import Settings
from handlers.context import JobContext
from storage.db import Database

log = logging.getLogger(__name__)

Render = Callable[[JobContext, str], Awaitable[Reply | None]]
INTERVAL_SECONDS = 1.0


class Refresher:
    def __init__(self, db: Database, clock: Clock, settings: Settings, catalog: Catalog,
                 renderers: Mapping[str, Render], *, interval: float = INTERVAL_SECONDS) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.t = catalog
        self.renderers = dict(renderers)  # by key prefix, e.g. "vote:"
        self.interval = interval
        self.sender: Sender | None = None
        self.updates: Counter[str] = Counter()  # refreshes sent per key, for tests and benchmarks
        self._dirty: set[str] = set()
        self._last: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def mark(self, keys: Iterable[str]) -> None:
        self._dirty.update(k for k in keys if any(k.startswith(prefix) for prefix in self.renderers))
        self._wake.set()

    def start(self, sender: Sender) -> None:
        self.sender = sender
        self._task = asyncio.create_task(self._run(), name="refresher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._dirty:
                now = time.monotonic()
                ready = [k for k in self._dirty if now - self._last.get(k, -self.interval) >= self.interval]
                if not ready:
                    soonest = min(self._last.get(k, 0.0) + self.interval for k in self._dirty)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=max(0.01, soonest - now))
                    self._wake.clear()
                    continue
                for key in ready:
                    self._dirty.discard(key)
                    if not await self.refresh(key):
                        self._dirty.add(key)  # not sent yet, or the platform was busy: next round
                    self._last[key] = time.monotonic()  # the next one a whole interval after this one is done

    async def refresh(self, key: str) -> bool:
        """Render the message anew and replace it; False when it should be tried again later."""
        render = next(r for prefix, r in self.renderers.items() if key.startswith(prefix))
        try:
            async with self.db.transaction() as repos:
                message = await repos.outbox.by_key(key)
                if message is None or message.failed_at is not None:
                    return True  # nothing to refresh
                if message.sent_at is None or not message.message_ref:
                    return False
                reply = await render(JobContext(repos, self.t, self.clock.now(), self.settings), key)
            if reply is not None and self.sender is not None:
                await self.sender.update(message.channel, message.message_ref, reply)
                self.updates[key] += 1
        except Exception as error:
            log.warning("refreshing %s failed, trying again: %s", key, error)
            return False
        return True
