"""Profiles come from the platform after the reply; imported members are recognised by e-mail."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.members import Profile
from tests.support import actor, add_expertise, add_member, add_organisation, run, text_of


class Platform:
    """Our own port's fake: what the platform says about a user, and how often it was asked."""

    def __init__(self, profile: Profile | None) -> None:
        self.profile = profile
        self.asked: list[str] = []

    async def fetch(self, user_id: str) -> Profile | None:
        self.asked.append(user_id)
        return self.profile


async def test_profile_is_fetched_once_per_refresh_interval(bot: Bot, clock: ManualClock) -> None:
    who = actor("U5", platform="slack", name="jvisser")
    await run(bot, "/netwerkbot profiel", who)
    platform = Platform(Profile(name="Joost Visser", title="Leerkracht groep 7"))
    await bot.profiles.refresh(who, platform.fetch)
    await bot.profiles.refresh(who, platform.fetch)
    assert platform.asked == ["U5"]
    assert "Naam: Joost Visser" in text_of(await run(bot, "/netwerkbot profiel", who))
    clock.advance(timedelta(hours=25))
    platform.profile = Profile(name="Joost Visser-de Boer")
    await bot.profiles.refresh(who, platform.fetch)
    assert "Naam: Joost Visser-de Boer" in text_of(await run(bot, "/netwerkbot profiel", who))


async def test_first_contact_is_linked_to_the_imported_member_with_the_same_email(bot: Bot) -> None:
    school = await add_organisation(bot, "Baeken")
    ingrid = await add_member(bot, "Ingrid Smit", role="ib-er", organisation=school, email="ingrid@baeken.nl")
    await add_expertise(bot, ingrid, "dyslexie")
    who = actor("U8", platform="slack", name="ismit")
    await run(bot, "/netwerkbot profiel", who)
    await bot.profiles.refresh(who, Platform(Profile(name="Ingrid Smit", email="Ingrid@Baeken.nl")).fetch)
    profile = text_of(await run(bot, "/netwerkbot profiel", who))
    assert "School of organisatie: Baeken" in profile and "Rol: IB-er" in profile
    assert "dyslexie" in text_of(await run(bot, "/expertise mijn", who))
    async with bot.db.transaction() as repos:
        assert [m.name for m in await repos.members.all()] == ["Ingrid Smit"]


async def test_a_platform_that_does_not_answer_changes_nothing(bot: Bot) -> None:
    who = actor("U9", platform="slack", name="anna")
    await run(bot, "/netwerkbot profiel", who)
    await bot.profiles.refresh(who, Platform(None).fetch)
    assert "Naam: anna" in text_of(await run(bot, "/netwerkbot profiel", who))
