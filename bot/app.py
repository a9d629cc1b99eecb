"""The composition root: the one place where settings, database, features and runtime meet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.core.clock import Clock, SystemClock
from bot.core.registry import Registry
from bot.dispatch import Dispatcher
from bot.members import ProfileService
from config.i18n import Catalog
from config.settings import Settings
from handlers import general
from handlers.context import HandlerContext
from handlers.expertise import ExpertiseFeature, ExpertiseSearch, load_synonyms
from storage.db import Database


@dataclass
class Bot:
    settings: Settings
    catalog: Catalog
    clock: Clock
    db: Database
    registry: Registry[HandlerContext]
    dispatcher: Dispatcher
    profiles: ProfileService

    async def start(self) -> None:
        """Bring the schema up to date; safe to run on every start."""
        await self.db.upgrade()

    async def stop(self) -> None:
        await self.db.dispose()


def build(settings: Settings, *, clock: Clock | None = None) -> Bot:
    clock = clock or SystemClock(settings.zone)
    catalog = Catalog(settings.language)
    db = Database(settings.database_url)
    registry: Registry[HandlerContext] = Registry()
    registry.add(general.feature())
    registry.add(ExpertiseFeature(ExpertiseSearch(load_synonyms(settings.synonyms_file))).feature())
    return Bot(
        settings=settings, catalog=catalog, clock=clock, db=db, registry=registry,
        dispatcher=Dispatcher(registry, db, settings, catalog, clock),
        profiles=ProfileService(db, clock, timedelta(hours=settings.profile_refresh_hours)),
    )
