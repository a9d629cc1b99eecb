"""The composition root: the one place where settings, database, features and runtime meet."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception, stop_after_delay, wait_exponential

from bot.core.clock import Clock, SystemClock
from bot.core.registry import Registry
from bot.dispatch import Dispatcher
from bot.members import ProfileService
from bot.outbox import Outbox, Sender
from bot.refresh import Refresher
from bot.scheduler import Scheduler, Timekeeper
from config.i18n import Catalog
from config.settings import Settings
from handlers import general
from handlers.budget.closing import CLOSE as BUDGET_CLOSE
from handlers.budget.closing import close_job as budget_close
from handlers.budget.feature import BudgetRounds
from handlers.circles.ideas import DIGEST, Circles
from handlers.circles.questions import QuestionDetector
from handlers.context import HandlerContext
from handlers.expertise import ExpertiseFeature, ExpertiseSearch, load_synonyms
from handlers.meetings.feature import KIND as MEETING_REMINDER
from handlers.meetings.feature import Meetings
from handlers.meetings.rhythm import load_holidays, load_series
from handlers.proposals.pitches import Pitches
from handlers.proposals.votes import CLOSE, NUDGE, Votes
from storage.db import Database, is_unavailable

log = logging.getLogger(__name__)


@dataclass
class Bot:
    settings: Settings
    catalog: Catalog
    clock: Clock
    db: Database
    registry: Registry[HandlerContext]
    dispatcher: Dispatcher
    profiles: ProfileService
    meetings: Meetings
    outbox: Outbox
    scheduler: Scheduler
    timekeeper: Timekeeper
    refresher: Refresher

    async def start(self) -> None:
        """Bring the schema up to date; safe to run on every start.

        A database that is not reachable yet (it may be starting next to us) is waited for, with
        backoff, up to `startup_wait_seconds`; any other error stops the start at once.
        """
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_unavailable),
            wait=wait_exponential(multiplier=0.5, max=10),
            stop=stop_after_delay(self.settings.startup_wait_seconds),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self.db.upgrade()

    def connect(self, sender: Sender) -> None:
        """Deliver what the bot sends by itself through `sender` (the running adapter), and keep the
        messages it updates (a vote's tally) up to date."""
        self.outbox.sender = sender
        self.dispatcher.queued = self.timekeeper.poke
        self.dispatcher.touched = self.scheduler.touched = self.refresher.mark
        self.refresher.start(sender)

    async def keep_time(self, sender: Sender) -> None:
        """Connect `sender`, then start reminders, deadlines and the outbox."""
        self.connect(sender)
        await self.timekeeper.start()

    async def stop(self) -> None:
        await self.timekeeper.stop()
        await self.refresher.stop()
        await self.db.dispose()


def build(settings: Settings, *, clock: Clock | None = None) -> Bot:
    clock = clock or SystemClock(settings.zone)
    catalog = Catalog(settings.language)
    db = Database(settings.database_url)
    registry: Registry[HandlerContext] = Registry()
    registry.add(general.feature())
    search = ExpertiseSearch(load_synonyms(settings.synonyms_file))  # shared: one cache for both
    registry.add(ExpertiseFeature(search).feature())
    meetings = Meetings(load_series(settings.meetings_file, settings.zone),
                        load_holidays(settings.school_holidays_file))
    registry.add(meetings.feature())
    budget = BudgetRounds()
    votes = Votes({"begroting": budget.command})
    registry.add(Pitches(meetings).feature())
    registry.add(votes.feature())
    registry.add(budget.feature())
    circles = Circles(meetings, QuestionDetector(search))
    registry.add(circles.feature())
    outbox = Outbox(db, clock)
    scheduler = Scheduler(db, clock, settings, catalog, planners=[meetings.plan, circles.plan],
                          jobs={MEETING_REMINDER: meetings.remind, CLOSE: votes.close_job, NUDGE: votes.nudge_job,
                                DIGEST: circles.digest_job, BUDGET_CLOSE: budget_close})
    return Bot(
        settings=settings, catalog=catalog, clock=clock, db=db, registry=registry,
        dispatcher=Dispatcher(registry, db, settings, catalog, clock),
        profiles=ProfileService(db, clock, timedelta(hours=settings.profile_refresh_hours)),
        meetings=meetings, outbox=outbox, scheduler=scheduler, timekeeper=Timekeeper(scheduler, outbox, clock),
        refresher=Refresher(db, clock, settings, catalog, {"vote:": votes.current, "digest:": circles.current}),
    )
