"""The member's overview: what waits for the one looking, instead of six commands to remember.

    /netwerkbot overzicht    (Matrix: !netwerkbot overzicht) the overview, as a reply
    Slack's Home tab         the same overview, published when the tab is opened and kept current
                             while the member looked at it recently (bot/refresh.py: `home:<platform>:<user>`)

It holds, for that member: the next meeting of each series they belong to with "Punt inbrengen"; the
open votes and budget rounds they may vote in ("nog niet gestemd" and the buttons, or their choice);
their expertise with "nog actueel" for entries about to go stale and "Expertise toevoegen"; their
pitches and ideas with status and what happened last; for coordinators, what waits for them.
"""

from __future__ import annotations

from bot.core.errors import UserError
from bot.core.inputs import Action, FormSubmission
from bot.core.port import HOME_VIEW
from bot.core.reply import Form, FormField, Heading, Outcome, Part, Reply
from handlers.context import AnyContext, Feature, HandlerContext, JobContext
from handlers.meetings.feature import KIND as REMINDER
from handlers.meetings.feature import MAX_AGENDA_ITEM, MISSED_SINCE, Meetings
from handlers.meetings.rhythm import Series
from handlers.overview import sections
from handlers.overview.sections import ADD_ITEM, Viewer
from handlers.pupils.guard import hold_back
from handlers.text import clean

PREFIXES = {"matrix": "!"}


class Overview:
    def __init__(self, meetings: Meetings) -> None:
        self.meetings = meetings

    def feature(self) -> Feature:
        f = Feature("overview")
        f.action(ADD_ITEM, self.add_item_pressed)
        f.form(ADD_ITEM, self.add_item_submitted)
        f.keep_published(HOME_VIEW, self.current)
        return f

    async def command(self, ctx: HandlerContext, rest: str) -> Outcome:
        """`/netwerkbot overzicht` (handlers/general.py hands it here)."""
        return await self.overview(ctx, Viewer(ctx.member, ctx.actor.platform, ctx.is_coordinator, ctx.prefix))

    async def overview(self, ctx: AnyContext, viewer: Viewer) -> Reply:
        parts: list[Part] = [Heading(ctx.t("home.heading", name=viewer.member.name))]
        parts += await sections.meetings(ctx, viewer, self.meetings)
        parts += await sections.votes(ctx, viewer)
        parts += await sections.expertise(ctx, viewer)
        parts += await sections.own_work(ctx, viewer)
        parts += await sections.coordinators(ctx, viewer, ctx.now - MISSED_SINCE, REMINDER)
        return Reply(tuple(parts))

    async def current(self, ctx: JobContext, key: str) -> Reply | None:
        """The Home view of `home:<platform>:<user id>` as it is now; the person becomes a member on first
        contact, as with any input (the platform's profile names them after: bot/members.py)."""
        platform, _, user_id = key.removeprefix(HOME_VIEW).partition(":")
        if not platform or not user_id:
            return None
        member = await ctx.repos.members.of_account(platform, user_id, name="", now=ctx.now)
        coordinator = ctx.settings.is_coordinator(platform, user_id) or \
            await ctx.repos.coordinators.is_coordinator(platform, user_id)
        return await self.overview(ctx, Viewer(member, platform, coordinator, PREFIXES.get(platform, "/")))

    # -- "Punt inbrengen" --------------------------------------------------------------------------------

    async def add_item_pressed(self, ctx: HandlerContext, action: Action) -> Outcome:
        series = await self.series(ctx, action.value)
        t = ctx.t
        return Form(ADD_ITEM, t("home.add_item"), (
            FormField("item", t("home.item_field", title=series.title), hint=t("home.item_hint"),
                      max_length=MAX_AGENDA_ITEM),), t("home.add_item_submit"), state=series.key)

    async def add_item_submitted(self, ctx: HandlerContext, form: FormSubmission) -> Outcome:
        t = ctx.t
        series = await self.series(ctx, form.state)
        item = clean(form.values.get("item", ""), t, what=t("meetings.what_item"), max_length=MAX_AGENDA_ITEM)
        if (held := await hold_back(ctx, form, item)) is not None:
            return held
        return await self.meetings.add_item(ctx, series, item)

    async def series(self, ctx: HandlerContext, key: str) -> Series:
        found = {s.key: s for s in await self.meetings.all_series(ctx.repos)}.get(key)
        if found is None:
            raise UserError(ctx.t("home.no_series"))
        return found
