"""The digest: what the outer circle brought, carried to the inner circle before each of its meetings.

An occurrence `circles.digest` is planned `NETWERKBOT_DIGEST_HOURS_BEFORE` before every meeting of the
series whose channel is the inner circle's (without one: weekly). The digest is posted through the
outbox in the transaction that claims it, split into messages of `PER_PAGE` ideas, and kept current
(`digest:<nr>:<page>`) as ideas are picked up, parked or finished.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.core.numbers import id_of, number_of
from bot.core.reply import (
    Button,
    Context,
    Heading,
    Item,
    Part,
    Reply,
    Style,
    Text,
)
from config.i18n import Catalog
from handlers.context import AnyContext, HandlerContext, JobContext
from handlers.meetings.feature import Meetings
from handlers.meetings.rhythm import WEEKDAYS
from handlers.text import fold, shorten
from storage.circles import NEW, PARKED, PICKED_UP, IdeaRecord
from storage.records import PlannedOccurrence

DIGEST = "circles.digest"
HORIZON = timedelta(weeks=8)
PER_PAGE = 12  # ideas per digest message: two blocks each keeps a Slack message within its 50


class Digests:
    def __init__(self, meetings: Meetings) -> None:
        self.meetings = meetings

    @staticmethod
    async def touch_digest(ctx: HandlerContext, idea: IdeaRecord) -> None:
        """The digests that show this idea are refreshed after the commit: the one that carried it new,
        and the latest (a parked idea comes back in each)."""
        latest = await ctx.repos.ideas.last_digest()
        for number in {idea.digest_id, latest.id if latest else None} - {None}:
            digest = await ctx.repos.ideas.digest(number) if number is not None else None
            for page, ids in enumerate(digest.pages if digest else ()):
                if idea.id in ids:
                    ctx.changed(f"digest:{number}:{page}")

    async def plan(self, ctx: JobContext) -> None:
        """A digest before every inner-circle meeting of the coming weeks; without such a series,
        one every week at the set day and time."""
        settings, wanted = ctx.settings, []
        lead = timedelta(hours=settings.digest_hours_before)
        today = ctx.now.date()
        inner = [s for s in await self.meetings.all_series(ctx.repos) if s.channel == "inner_circle"]
        for series in inner:
            for meeting in await self.meetings.meetings_between(ctx.repos, series, today, today + HORIZON):
                if meeting.skipped:
                    continue
                start = meeting.start.astimezone(series.zone)
                wanted.append(PlannedOccurrence(
                    key=f"{DIGEST}:{series.key}:{start:%Y%m%dT%H%M}", kind=DIGEST, due_at=start - lead,
                    payload={"title": series.title, "meeting": start.isoformat()}))
        if not inner:
            at = time.fromisoformat(settings.digest_time)
            weekday = WEEKDAYS[fold(settings.digest_weekday)]
            for week in range(HORIZON.days // 7 + 1):
                day = today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * week)
                due = datetime.combine(day, at, settings.zone)
                wanted.append(PlannedOccurrence(key=f"{DIGEST}:week:{day.isoformat()}", kind=DIGEST, due_at=due,
                                                payload={"title": "", "meeting": ""}))
        await ctx.repos.occurrences.plan(DIGEST, [w for w in wanted if w.due_at > ctx.now], ctx.now)

    async def digest_job(self, ctx: JobContext) -> None:
        """The digest, as things are at its moment, in the transaction that claimed the occurrence (so
        it is posted once, or not at all)."""
        occurrence = ctx.due
        t, lang = ctx.t, ctx.settings.language
        meeting = occurrence.payload.get("meeting", "")
        if meeting:
            day = format_date(datetime.fromisoformat(meeting).date(), "EEEE d MMMM", locale=lang)
            title = t("circles.digest_for", title=occurrence.payload.get("title", ""), day=day)
        else:
            title = t("circles.digest_weekly", day=format_date(ctx.now.date(), "d MMMM", locale=lang))
        await self.post_digest(ctx, key=occurrence.key, title=title, until=occurrence.due_at)

    async def post_digest(self, ctx: AnyContext, *, key: str, title: str, until: datetime) -> int:
        """The new ideas until `until` and the parked ones, into the outbox for the inner circle, the new
        ones marked as carried; returns how many ideas it shows."""
        fresh, parked = await ctx.repos.ideas.for_digest(until)
        previous = await ctx.repos.ideas.last_digest()
        ids = [i.id for i in fresh + parked]
        pages = [ids[n:n + PER_PAGE] for n in range(0, len(ids), PER_PAGE)] or [[]]
        number = await ctx.repos.ideas.add_digest(key=key, title=title,
                                                  since=previous.created_at if previous else None, pages=pages,
                                                  carried=[i.id for i in fresh], now=ctx.now)
        for page in range(len(pages)):
            reply = await self.digest_page(ctx, number, page)
            assert reply is not None
            await ctx.post("inner_circle", reply, key=f"digest:{number}:{page}")
        return len(ids)

    async def digest_on_demand(self, ctx: HandlerContext) -> Reply:
        """Coordinators: the digest now (an extra meeting of the inner circle); the planned one still follows,
        with what is new by then."""
        ctx.require_coordinator()
        t = ctx.t
        title = t("circles.digest_weekly", day=format_date(ctx.now.date(), "d MMMM", locale=ctx.settings.language))
        shown = await self.post_digest(ctx, key=f"{DIGEST}:op-verzoek:{uuid.uuid4().hex}", title=title,
                                       until=ctx.now)
        return Reply.text(t.plural("circles.digest_posted", shown))

    async def current(self, ctx: JobContext, key: str) -> Reply | None:
        """A digest message of outbox key `digest:<nr>:<page>` as it is now (bot/refresh.py)."""
        typed, _, typed_page = key.removeprefix("digest:").partition(":")
        number, page = id_of(typed), number_of(typed_page)
        if number is None or page is None:
            return None
        return await self.digest_page(ctx, number, page)

    async def digest_page(self, ctx: AnyContext, number: int, page: int) -> Reply | None:
        t, lang = ctx.t, ctx.settings.language
        digest = await ctx.repos.ideas.digest(number)
        if digest is None or page >= len(digest.pages):
            return None
        ideas = await ctx.repos.ideas.many([i for p in digest.pages for i in p])
        shown = [ideas[i] for i in digest.pages[page] if i in ideas]
        parts: list[Part] = [Heading(digest.title if page == 0 else f"{digest.title} ({page + 1})")]
        if page == 0:
            since = format_date(digest.since.astimezone(ctx.settings.zone).date(), "d MMMM", locale=lang) \
                if digest.since else ""
            carried = sum(1 for i in ideas.values() if i.digest_id == number)
            parts.append(Context(t.plural("circles.digest_new", carried) + (
                " " + t("circles.digest_since", day=since) if since else "")))
        if not shown:
            parts.append(Text(t("circles.digest_empty", p="/")))
        fresh = [i for i in shown if i.digest_id == number]
        parked = [i for i in shown if i.digest_id != number]
        for section, ideas_in in ((None, fresh), (t("circles.parking"), parked)):
            if not ideas_in:
                continue
            if section:
                parts.append(Text(section))
            theme = None
            for idea in ideas_in:
                if section is None and idea.theme != theme:
                    theme = idea.theme
                    parts.append(Text(f"#{theme}" if theme else t("circles.no_theme")))
                parts.append(self.digest_item(ctx.t, lang, ctx.settings.zone, idea))
        return Reply(tuple(parts))

    @staticmethod
    def digest_item(t: Catalog, lang: str, zone: ZoneInfo, idea: IdeaRecord) -> Item:
        day = format_date(idea.created_at.astimezone(zone).date(), "d MMMM", locale=lang)
        lines = [t("circles.digest_by", nr=idea.id, name=idea.author_name or "?", day=day)]
        if idea.source_deleted:
            lines.append(t("circles.source_deleted"))
        elif idea.link:
            lines.append(idea.link)
        buttons: tuple[Button, ...] = ()
        if idea.status in (NEW, PARKED):
            buttons = (Button(t("circles.pick_up"), "idee.oppakken", str(idea.id), Style.PRIMARY),
                       Button(t("circles.park"), "idee.parkeren", str(idea.id)),
                       Button(t("circles.finish"), "idee.afgerond", str(idea.id)))
            if idea.status == PARKED:
                buttons = (buttons[0], buttons[2])
        elif idea.status == PICKED_UP:
            owner = t("circles.owner", name=idea.owner_name or "?")
            due = " · " + t("circles.due", day=format_date(idea.due, "d MMMM y", locale=lang)) if idea.due else ""
            lines.append(f"✓ {owner}{due}")
            buttons = (Button(t("circles.park"), "idee.parkeren", str(idea.id)),
                       Button(t("circles.finish"), "idee.afgerond", str(idea.id)))
        else:
            lines.append("✓ " + t(f"circles.status.{idea.status}"))
        return Item(shorten(idea.text), tuple(lines), buttons=buttons)

