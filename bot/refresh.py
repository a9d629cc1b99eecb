"""Messages the bot keeps up to date after sending them, such as a vote's tally.

A handler marks a message by its outbox key (`ctx.changed(key)`); after the commit the refresher
renders it anew from the database with the renderer its feature declared for the key's prefix, and
has the adapter replace it, at most once a second per message: a burst of presses becomes one update
a second, not one API call per press (Slack limits `chat.update`). A refresh only shows what the
database holds, so one that fails or is lost in a restart is made good by the next; nothing depends
on it. A renderer or an update that fails is logged with its traceback and tried again after 2, 4,
8 … intervals, at most `MAX_FAILURES` times, until the message is marked again.

Views a platform shows one person (Slack's Home tab, `Feature.keep_published`) go the same way, keyed
by person (`home:slack:U123`), and are published rather than replaced. They are watched: rendered when
the person opens the view, and again after every committed write (any change may show in them) while
they opened it within `WATCH_SECONDS`, at most once a second each. Nobody else's view is rendered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from bot.contexts import TimeContext
from bot.core.clock import Clock
from bot.core.port import Publisher
from bot.core.registry import Renderer
from bot.outbox import DeliveryDelayed, Sender
from config.i18n import Catalog
from config.settings import Settings
from storage.db import Database

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0
MAX_FAILURES = 8  # 2 + 4 + … + 256 s: some eight minutes of trying, then it waits for the next change
MAX_BACKOFF_SECONDS = 300.0
WATCH_SECONDS = 15 * 60  # a view opened this recently is kept current


class Refresher:
    def __init__(self, db: Database, clock: Clock, settings: Settings, catalog: Catalog,
                 renderers: Mapping[str, Renderer[TimeContext]], *, interval: float = INTERVAL_SECONDS,
                 published: Mapping[str, Renderer[TimeContext]] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.t = catalog
        self.renderers = dict(renderers)  # by key prefix, e.g. "vote:"
        self.published = dict(published or {})  # views published per person, by key prefix, e.g. "home:"
        self._watched: dict[str, datetime] = {}  # view key → until when it is kept current (the bot's clock)
        self.interval = interval
        self.sender: Sender | None = None
        self.updates: Counter[str] = Counter()  # refreshes sent per key, for tests and benchmarks
        self._dirty: set[str] = set()
        self._last: dict[str, float] = {}  # monotonic time of the last try per key
        self._failures: Counter[str] = Counter()  # failed tries in a row per key
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def watch(self, key: str) -> None:
        """The person opened the view `key`: render it now, and keep it current for `WATCH_SECONDS`."""
        if any(key.startswith(prefix) for prefix in self.published):
            self._watched[key] = self.clock.now() + timedelta(seconds=WATCH_SECONDS)
            self.mark([key])

    def wrote(self) -> None:
        """Something was written: the views watched now may show it (those watched too long ago are let go)."""
        now = self.clock.now()
        for key, until in list(self._watched.items()):
            if until <= now:
                del self._watched[key]
        if self._watched:
            self.mark(self._watched)

    def mark(self, keys: Iterable[str]) -> None:
        for key in keys:
            if any(key.startswith(prefix) for prefix in (*self.renderers, *self.published)):
                self._dirty.add(key)
                self._failures.pop(key, None)  # a new change deserves a new series of tries
        self._wake.set()

    def _wait(self, key: str) -> float:
        """Seconds between tries of `key`: the interval, or the backoff after failures."""
        failures = self._failures[key]
        return min(self.interval * 2.0 ** failures, MAX_BACKOFF_SECONDS)

    def start(self, sender: Sender) -> None:
        self.sender = sender
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="refresher")

    async def stop(self) -> None:
        if self._task is not None:
            self._stopping = True  # a cancellation a library swallows must not keep it running
            self._wake.set()
            self._task.cancel()
            await asyncio.wait({self._task})  # (its cancellation is its own: a caller cancelled meanwhile is not)
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            while self._dirty and not self._stopping:
                now = time.monotonic()
                ready = [k for k in self._dirty if k not in self._last or now - self._last[k] >= self._wait(k)]
                if not ready:
                    soonest = min(self._last[k] + self._wait(k) for k in self._dirty)
                    # not wait_for: in Python 3.11 it loses a cancellation that comes as the change does, and
                    # `stop()` then waited for ever (tests/bot/test_no_poison.py)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(max(0.01, soonest - now)):
                            await self._wake.wait()
                    self._wake.clear()
                    continue
                for key in ready:
                    self._dirty.discard(key)
                    try:
                        if not await self.refresh(key):
                            self._dirty.add(key)  # not sent yet: next round
                        self._failures.pop(key, None)
                    except DeliveryDelayed as busy:  # the platform is busy (429, 5xx): just later
                        log.warning("refreshing %s: %s; trying again", key, busy)
                        self._dirty.add(key)
                    except Exception:
                        self._failures[key] += 1
                        if self._failures[key] < MAX_FAILURES:
                            self._dirty.add(key)
                        log.exception("refreshing %s failed (%d in a row); %s", key, self._failures[key],
                                      "trying again later" if key in self._dirty else "waiting for the next change")
                    self._last[key] = time.monotonic()  # the next one a whole wait after this one is done

    async def refresh(self, key: str) -> bool:
        """Render the message anew and replace it; False when it is not sent yet. Raises what failed."""
        if (view := next((r for prefix, r in self.published.items() if key.startswith(prefix)), None)) is not None:
            return await self.publish(key, view)
        render = next(r for prefix, r in self.renderers.items() if key.startswith(prefix))
        async with self.db.transaction() as repos:
            message = await repos.outbox.by_key(key)
            if message is None or message.failed_at is not None:
                return True  # nothing to refresh
            if message.sent_at is None or not message.message_ref:
                return False
            reply = await render(TimeContext(repos, self.t, self.clock.now(), self.settings), key)
        if reply is not None and self.sender is not None:
            await self.sender.update(message.channel, message.message_ref, reply)
            self.updates[key] += 1
        return True

    async def publish(self, key: str, render: Renderer[TimeContext]) -> bool:
        """Render the view `key` and have the platform show it (only a sender that publishes views can)."""
        if not isinstance(self.sender, Publisher):
            return True
        async with self.db.transaction() as repos:
            reply = await render(TimeContext(repos, self.t, self.clock.now(), self.settings), key)
        if reply is not None:
            await self.sender.publish(key, reply)
            self.updates[key] += 1
        return True
