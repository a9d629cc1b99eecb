"""Time: occurrences in the database, claimed before acted on; APScheduler only wakes the bot.

Every reminder, vote close or digest is an `occurrences` row with a unique key, planned ahead by
the features' planners. When one falls due, the scheduler moves it out of `pending` with a
conditional UPDATE and runs its job in that same transaction: the job's outbox message and the
claim commit together or not at all. So a restart at any moment, or a second instance on the
same PostgreSQL, acts on each occurrence once.

Catch-up (what fell due while the bot was down) is explicit: within `LATE_AFTER` of its moment an
occurrence is simply done; later, its job runs with `late=True` (and says so); past its
`expires_at` (a reminder after the meeting began) it is recorded as `missed` and not acted on,
for coordinators to see.

`Timekeeper` runs APScheduler 3's AsyncIOScheduler (memory job store: the database holds the
truth): one job wakes the bot at the next moment anything is due, one polls every
`POLL_SECONDS` to notice what other instances planned, one plans ahead every hour, one prunes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.contexts import Features, TimeContext
from bot.core.clock import Clock
from bot.outbox import Outbox
from config.i18n import Catalog
from config.settings import Settings
from storage.db import Database, is_unavailable
from storage.governance import KEEP_PENDING
from storage.records import OccurrenceRecord
from storage.repositories import Repositories
from storage.scheduling import prune_deliveries

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=2)
BATCH = 500  # occurrences claimed per transaction
MIN_GAP_SECONDS = 0.05  # wake-ups this close together are one: a burst of due moments is handled in batches
POLL_SECONDS = 30.0
PLAN_SECONDS = 3600.0
KEEP_SENT = timedelta(days=90)


class Scheduler:
    def __init__(self, db: Database, clock: Clock, settings: Settings, catalog: Catalog, features: Features) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.t = catalog
        self.features = features  # its jobs by kind and its planners

    async def plan(self) -> None:
        """Let every feature bring its future occurrences up to date (idempotent)."""
        for planner in self.features.planners:
            async with self.db.transaction() as repos:
                await planner(TimeContext(repos, self.t, self.clock.now(), self.settings))

    async def run_due(self) -> int:
        """Act on everything due now; returns how many occurrences this instance claimed.

        All that is due is claimed in one transaction, each occurrence with its job inside a
        savepoint of its own: a job that fails is rolled back alone and its occurrence stays
        pending for the next wake-up; the rest commit together (one commit, not one per reminder,
        which matters when many fall due at once).
        """
        claimed = 0
        while True:
            now = self.clock.now()
            async with self.db.transaction() as repos:
                due = await repos.occurrences.due(now, limit=BATCH)
                for occurrence in due:
                    try:
                        async with repos.session.begin_nested():
                            claimed += await self._run(repos, occurrence, now)
                    except Exception as error:
                        if is_unavailable(error):
                            raise
                        log.exception("job %s for %s failed; it stays pending", occurrence.kind, occurrence.key)
            if len(due) < BATCH:
                return claimed

    async def _run(self, repos: Repositories, occurrence: OccurrenceRecord, now: datetime) -> bool:
        expired = occurrence.expires_at is not None and now >= occurrence.expires_at
        late = now - occurrence.due_at > LATE_AFTER
        state = "missed" if expired else "late" if late else "done"
        if not await repos.occurrences.claim(occurrence.id, state, now):
            return False  # another instance was first
        job = self.features.jobs.get(occurrence.kind)
        if expired:
            log.warning("%s was due at %s and is past its moment: recorded as missed", occurrence.key,
                        occurrence.due_at)
        elif job is None:
            raise LookupError(f"no job for occurrences of kind {occurrence.kind!r}")
        else:
            await job(TimeContext(repos, self.t, now, self.settings, late=late, occurrence=occurrence))
        return True

    async def next_due(self) -> datetime | None:
        async with self.db.transaction() as repos:
            return await repos.occurrences.next_due()

    async def housekeeping(self) -> None:
        now = self.clock.now()
        async with self.db.transaction() as repos:
            deliveries = await prune_deliveries(repos.session,
                                                now - timedelta(days=self.settings.retain_deliveries_days))
            sent = await repos.outbox.prune(now - KEEP_SENT)
            await repos.pending.prune(now - KEEP_PENDING)  # texts held back by the pupil-data check
        log.info("housekeeping: forgot %d old deliveries and %d sent messages", deliveries, sent)


class Timekeeper:
    """Wakes the scheduler and the outbox on time, with APScheduler; never acts by itself."""

    def __init__(self, scheduler: Scheduler, outbox: Outbox, clock: Clock, *, poll_seconds: float = POLL_SECONDS,
                 plan_seconds: float = PLAN_SECONDS) -> None:
        self.scheduler = scheduler
        self.outbox = outbox
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.plan_seconds = plan_seconds
        self.aps: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._running: set[asyncio.Task[None]] = set()
        self.ticked = asyncio.Event()  # set after each wake-up, for benchmarks to wait on

    async def start(self) -> None:
        """Plan, then wake at once (catch-up), every poll interval, and whenever something falls due."""
        await self.scheduler.plan()
        aps = AsyncIOScheduler(timezone=UTC)
        now = datetime.now(UTC)
        every = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        aps.add_job(self._kick, IntervalTrigger(seconds=self.poll_seconds), args=(self.tick,), id="poll",
                    next_run_time=now, **every)
        aps.add_job(self._kick, IntervalTrigger(seconds=self.plan_seconds), args=(self.replan,), id="plan", **every)
        aps.add_job(self._kick, IntervalTrigger(hours=24), args=(self.scheduler.housekeeping,), id="housekeeping",
                    next_run_time=now, **every)
        aps.start()
        self.aps = aps

    async def stop(self) -> None:
        """Stop waking; work under way (a message being sent) is finished, not cut off."""
        if self.aps is not None:
            self.aps.shutdown(wait=False)
            self.aps = None
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def poke(self) -> None:
        """Wake now: something was just queued (a result to post, a message to send)."""
        self._wake_at(datetime.now(UTC))

    async def _kick(self, work: Callable[[], Awaitable[None]]) -> None:
        """What APScheduler runs: start `work` as a task of our own, so that stopping APScheduler (which
        cancels the jobs it runs) never cuts a send or a transaction in half; `stop` waits for it."""
        task = asyncio.create_task(self._guarded(work))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _guarded(self, work: Callable[[], Awaitable[None]]) -> None:
        async with self._lock:
            try:
                await work()
            except Exception as error:
                if is_unavailable(error):
                    log.warning("database unreachable; trying again in %.0f s: %s", self.poll_seconds, error)
                else:
                    log.exception("%s failed", getattr(work, "__name__", work))

    async def replan(self) -> None:
        await self.scheduler.plan()
        await self.tick()

    async def tick(self) -> None:
        """One wake-up: act on what is due, send what may be sent, and set the next wake-up."""
        try:
            await self.scheduler.run_due()
            await self.outbox.flush()
            await self._arm()
        finally:
            self.ticked.set()

    async def _arm(self) -> None:
        """Wake at the next moment anything is due, by the injected clock turned into a wall-clock delay,
        but not sooner than MIN_GAP_SECONDS after this wake-up."""
        moments = [m for m in (await self.scheduler.next_due(), self.outbox.next_attempt) if m is not None]
        if moments:
            delay = max(MIN_GAP_SECONDS, (min(moments) - self.clock.now()).total_seconds())
            self._wake_at(datetime.now(UTC) + timedelta(seconds=delay))

    def _wake_at(self, moment: datetime) -> None:
        if self.aps is not None:
            self.aps.add_job(self._kick, DateTrigger(run_date=moment), args=(self.tick,), id="wake",
                             replace_existing=True, misfire_grace_time=None, coalesce=True)
