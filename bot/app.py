"""The composition root: the one place where settings, database, features and runtime meet."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception, stop_after_delay, wait_exponential

from bot.contexts import Features
from bot.core.clock import Clock, SystemClock
from bot.core.inputs import Actor, Input, MembershipChanged
from bot.core.port import Inbox as InboxPort
from bot.core.port import ProfileFetcher
from bot.core.reply import Outcome
from bot.dispatch import Dispatcher
from bot.events import Router
from bot.inbox import Inbox
from bot.members import ProfileService
from bot.metrics import add_routes as add_metrics_routes
from bot.outbox import Outbox, Sender, account_of
from bot.refresh import Refresher
from bot.scheduler import Scheduler, Timekeeper
from config.i18n import Catalog
from config.settings import Settings
from handlers import general, privacy
from handlers.budget.feature import BudgetRounds
from handlers.circles.ideas import Circles
from handlers.circles.questions import QuestionDetector
from handlers.expertise import ExpertiseFeature, ExpertiseSearch, load_synonyms
from handlers.meetings.feature import Meetings
from handlers.meetings.holiday_watch import HolidayWatch
from handlers.meetings.rhythm import load_holidays, load_series
from handlers.overview.feature import Overview
from handlers.proposals.pitches import Pitches
from handlers.proposals.votes import Votes
from handlers.pupils.guard import PupilGuard
from storage.db import Database, is_unavailable

log = logging.getLogger(__name__)


@dataclass
class Bot:
    settings: Settings
    catalog: Catalog
    clock: Clock
    db: Database
    registry: Features
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

    def connect(self, sender: Sender, platform: str = "") -> None:
        """Deliver what the bot sends by itself through `sender` (the running adapter on `platform`), and
        keep the messages it updates (a vote's tally) up to date."""
        self.outbox.sender = sender
        if platform:  # a channel role and its id on this platform are one destination (bot/outbox.py)
            self.outbox.destination = lambda channel: self.settings.channel(channel, platform) or channel
        self.refresher.start(sender)

    async def keep_time(self, sender: Sender, platform: str = "") -> None:
        """Before serving inputs: keep the members seen most recently in memory, connect `sender`, then start
        reminders, deadlines and the outbox. (A one-off command, such as an import, only calls `start`.)"""
        await self.dispatcher.warm()
        self.connect(sender, platform)
        await self.timekeeper.start()

    async def stop(self) -> None:
        await self.timekeeper.stop()
        await self.refresher.stop()
        await self.db.dispose()

    # -- the adapters' port (bot/core/port.py) ---------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    async def dispatch(self, inp: Input) -> Outcome:
        return await self.dispatcher.dispatch(inp)

    def is_question(self, inp: Input) -> bool:
        return self.dispatcher.is_question(inp)

    def expect_input(self, actor: Actor) -> None:
        self.db.read_ahead(None if self.dispatcher.knows(actor) else (actor.platform, actor.user_id))

    async def dispatch_kept(self, inp: Input) -> Outcome:
        return await self.dispatcher.dispatch_kept(inp)

    async def dispatch_kept_together(self, inputs: Sequence[Input]) -> list[Outcome]:
        return await self.dispatcher.dispatch_kept_together(inputs)

    async def membership(self, change: MembershipChanged) -> None:
        await self.dispatcher.membership(change)

    def new_inbox(self) -> InboxPort:
        return Inbox(self.db, self.clock)

    def add_routes(self, app: web.Application, undecryptable: Mapping[str, int] | None = None) -> None:
        add_metrics_routes(app, self, undecryptable)

    async def refresh_profile(self, actor: Actor, fetch: ProfileFetcher) -> bool:
        return await self.profiles.refresh(actor, fetch)

    async def refresh_profiles(self, actors: Sequence[Actor], fetch: ProfileFetcher, *,
                               new_only: bool = False) -> set[str]:
        try:
            return await self.profiles.refresh_many(actors, fetch, new_only=new_only)
        finally:  # their members are read again at their next input, in its version read (`expect_input`)
            self.dispatcher.forget_accounts(actors)

    async def account_of(self, channel: str, platform: str) -> str | None:
        return await account_of(self.db, channel, platform)

    async def calendar_feed(self, series: str) -> bytes | None:
        async with self.db.transaction() as repos:
            return await self.meetings.ical_feed(repos, series, self.clock.now())

    def watch(self, key: str) -> None:
        self.refresher.watch(key)

    async def healthy(self) -> bool:
        return await self.db.reachable()


def build(settings: Settings, *, clock: Clock | None = None) -> Bot:
    clock = clock or SystemClock(settings.zone)
    catalog = Catalog(settings.language)
    router = Router()  # what committed transactions did: queued messages, changed messages
    db = Database(settings.database_url, after_commit=router.route)
    search = ExpertiseSearch(load_synonyms(settings.synonyms_file))  # shared: one cache for both
    meetings = Meetings(load_series(settings.meetings_file, settings.zone),
                        load_holidays(settings.school_holidays_file))
    budget = BudgetRounds()
    overview = Overview(meetings)
    registry = Features([
        general.feature({"overzicht": overview.command}),
        overview.feature(),
        privacy.feature(),
        ExpertiseFeature(search).feature(),
        meetings.feature(),
        Pitches(meetings).feature(),
        Votes({"begroting": budget.command}).feature(),
        budget.feature(),
        Circles(meetings, QuestionDetector(search)).feature(),
        HolidayWatch(meetings.calendar).feature(),
    ])
    registry.add(PupilGuard(registry).feature())  # it runs a held-back input again through the others
    outbox = Outbox(db, clock)
    scheduler = Scheduler(db, clock, settings, catalog, registry)
    timekeeper = Timekeeper(scheduler, outbox, clock)
    refresher = Refresher(db, clock, settings, catalog, registry.renderers, published=registry.published)
    router.on_queued(timekeeper.poke)
    router.on_changed(refresher.mark)
    router.on_wrote(refresher.wrote)
    return Bot(
        settings=settings, catalog=catalog, clock=clock, db=db, registry=registry,
        dispatcher=Dispatcher(registry, db, settings, catalog, clock),
        profiles=ProfileService(db, clock, timedelta(hours=settings.profile_refresh_hours)),
        meetings=meetings, outbox=outbox, scheduler=scheduler, timekeeper=timekeeper, refresher=refresher,
    )
