"""Keeping members' profiles fresh from the platform, after the reply has gone out.

A platform user becomes a member on first contact (see the dispatcher), named by whatever the
payload said. Afterwards, outside the ack path, the adapter asks its platform for the profile;
when the profile's e-mail matches a member imported from the cooperation's list, the platform
account is attached to that member instead, so imported schools and roles apply at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.core.inputs import Actor
from bot.core.port import Profile as Profile  # defined in the port, named here too
from bot.core.port import ProfileFetcher
from storage.db import Database
from storage.repositories import Repositories

log = logging.getLogger(__name__)


class ProfileService:
    def __init__(self, db: Database, clock: Clock, refresh_after: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.refresh_after = refresh_after

    async def refresh(self, actor: Actor, fetch: ProfileFetcher) -> bool:
        """Fetch and store the actor's profile if it is missing or older than the refresh interval; a person
        not yet a member becomes one under the profile's name (or joins the imported member of their e-mail).

        True when the member has the platform's profile now (fresh or just fetched), False when the
        platform could not tell (the member, if any, keeps the name the payload gave).
        """
        return actor.user_id in await self.refresh_many([actor], fetch)

    async def refresh_many(self, actors: Sequence[Actor], fetch: ProfileFetcher, *, new_only: bool = False) -> set[str]:
        """`refresh` for several people at once: one transaction reads whose profile is due, the platform is
        asked for those side by side, one transaction stores them (a burst of presses by people new to the
        bot costs two transactions, not two per person). The user ids whose member has the profile now.
        `new_only`: only people who are no member yet, or whose member still has the name their payload gave (a
        login handle: an earlier look-up failed); the others count as named: they keep their name (imported, or
        the platform's of an earlier look-up) until the refresh after their answer."""
        now = self.clock.now()
        named: set[str] = set()
        due: dict[str, Actor] = {}
        async with self.db.transaction() as repos:
            members = {(platform, user_id): member for platform in {actor.platform for actor in actors}
                       for user_id, member in (await repos.members.by_identities(
                           platform, {actor.user_id for actor in actors if actor.platform == platform})).items()}
            for actor in actors:
                member = members.get((actor.platform, actor.user_id))
                fetched = member.profile_fetched_at if member is not None else None
                # named by the platform before, or imported: not a login handle
                known = member is not None and (fetched is not None or member.name != actor.name)
                if (fetched is not None and now - fetched < self.refresh_after) or (new_only and known):
                    named.add(actor.user_id)
                elif actor.user_id not in named:
                    due[actor.user_id] = actor
        if not due:
            return named
        profiles = await asyncio.gather(*(fetch(user_id) for user_id in due), return_exceptions=True)
        fetched_now = [(actor, profile) for actor, profile in zip(due.values(), profiles, strict=True)
                       if isinstance(profile, Profile)]
        fetched_now.sort(key=lambda pair: pair[0].user_id)  # rows locked in one order, as other writers do
        for actor, profile in zip(due.values(), profiles, strict=True):
            if isinstance(profile, BaseException):
                log.warning("could not fetch the profile of %s: %s", actor.user_id, type(profile).__name__)
        if fetched_now:
            async with self.db.writing() as repos:
                for actor, profile in fetched_now:
                    await self._store(repos, actor, profile, now)
                    named.add(actor.user_id)
        return named

    async def _store(self, repos: Repositories, actor: Actor, profile: Profile, now: datetime) -> None:
        member = await repos.members.by_identity(actor.platform, actor.user_id)
        if member is None:  # first contact: named by the platform from the start, never by a login handle
            member = await repos.members.of_account(actor.platform, actor.user_id,
                                                    name=profile.name or actor.name, now=now)
        email = profile.email.strip().lower() or None
        imported = await repos.members.by_email(email) if email else None
        if imported is not None and imported.id != member.id:
            if not await repos.expertise.of_holder(member):
                await repos.members.move_identity(actor.platform, actor.user_id, imported.id)
                await repos.members.delete(member.id)
                log.info("linked %s:%s to imported member %s", actor.platform, actor.user_id, imported.id)
                member = imported
            email = None  # the address belongs to the imported member
        # only what changed, so that an unchanged profile leaves every cached search standing
        values: dict[str, object] = {"profile_fetched_at": now}
        if profile.name and profile.name != member.name:
            values["name"] = profile.name
        if profile.title and profile.title != member.title:
            values["title"] = profile.title
        if email and email != member.email:
            values["email"] = email
        await repos.members.update(member.id, **values)
