"""Small builders for tests: members, organisations, expertise, inputs."""

from __future__ import annotations

from datetime import datetime

from bot.app import Bot
from bot.core.inputs import Action, Actor, Command, FormSubmission
from bot.core.reply import Outcome, Reply
from config.i18n import Catalog
from handlers.expertise.analysis import index_terms, topic_key
from handlers.text import fold
from storage.records import Holder, MemberRecord, OrganisationRecord


def actor(user_id: str = "U1", platform: str = "console", name: str = "") -> Actor:
    return Actor(platform, user_id, name or user_id)


async def add_organisation(bot: Bot, name: str, kind: str = "school", werkgebied: str = "Alkmaar-Noord"
                           ) -> OrganisationRecord:
    async with bot.db.transaction() as repos:
        record, _ = await repos.organisations.upsert(name=name, name_key=fold(name), kind=kind,
                                                     werkgebied=werkgebied, now=bot.clock.now())
        return record


async def add_member(bot: Bot, name: str, *, user_id: str = "", platform: str = "console", role: str = "",
                     organisation: OrganisationRecord | None = None, email: str | None = None) -> MemberRecord:
    async with bot.db.transaction() as repos:
        member_id = await repos.members.create(name=name, role=role, email=email, now=bot.clock.now(),
                                               organisation_id=organisation.id if organisation else None)
        if user_id:
            await repos.members.link(member_id, platform, user_id)
        member = await repos.members.get(member_id)
        assert member is not None
        return member


async def add_expertise(bot: Bot, holder: Holder, topic: str, description: str = "",
                        confirmed: datetime | None = None) -> None:
    async with bot.db.transaction() as repos:
        await repos.expertise.save(holder=holder, topic=topic, topic_key=topic_key(topic), description=description,
                                   terms=index_terms(topic, description), now=confirmed or bot.clock.now())


async def run(bot: Bot, text: str, who: Actor | None = None) -> Outcome:
    """Dispatch a typed command such as '/expertise gedrag'."""
    name, _, rest = text.lstrip("/").partition(" ")
    return await bot.dispatcher.dispatch(Command(name, rest, who or actor()))


async def press(bot: Bot, action_id: str, value: str, who: Actor | None = None) -> Outcome:
    return await bot.dispatcher.dispatch(Action(action_id, value, who or actor()))


async def submit(bot: Bot, form_id: str, values: dict[str, str], who: Actor | None = None, state: str = "") -> Outcome:
    return await bot.dispatcher.dispatch(FormSubmission(form_id, values, who or actor(), state=state))


def text_of(outcome: Outcome, language: str = "nl") -> str:
    """Everything a reader would see in a reply, as one string (rendered as in the terminal)."""
    from bot.adapters.console import render

    assert isinstance(outcome, Reply), outcome
    return render(outcome, Catalog(language))[0]
