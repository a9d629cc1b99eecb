"""The parts of one member's overview, section by section, from what the database holds now.

Each section is bounded (a few items, then a "meer…" line naming the command that lists them all), so
that the whole overview stays within what every platform shows at once (Slack's Home tab: 100 blocks).
Buttons are the features' own (`stemming.stem`, `begroting.stem`, `expertise.confirm`, `expertise.form`)
and this feature's "Punt inbrengen": a press on the overview does exactly what the same press does
elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_date
from dateutil.relativedelta import relativedelta

from bot.core.reply import Actions, Button, Context, Heading, Item, Part, Style, Text
from config.settings import CIRCLE_ROLES
from handlers.budget.feature import voter_of as round_voter
from handlers.context import AnyContext
from handlers.dates import older_than_months
from handlers.meetings.feature import Meetings, describe
from handlers.proposals.votes import voter_of, when
from handlers.text import shorten
from storage.records import MemberRecord

VOTES_SHOWN = 5
ROUNDS_SHOWN = 3
EXPERTISE_SHOWN = 8
OWN_SHOWN = 5
AGENDA_SHOWN = 3
STALE_SOON = relativedelta(months=1)  # "about to go stale": within a month of the stale age
ADD_ITEM = "overzicht.punt"


@dataclass(frozen=True)
class Viewer:
    """Whose overview it is, and how they reach the bot."""

    member: MemberRecord
    platform: str
    is_coordinator: bool
    prefix: str


def more(ctx: AnyContext, command: str) -> Context:
    return Context(ctx.t("home.more", command=command))


async def meetings(ctx: AnyContext, viewer: Viewer, service: Meetings) -> list[Part]:
    """The next meeting of each series whose circle the member is in (every series whose channel is no circle,
    or whose circle the bot does not know the members of yet), with its agenda and "Punt inbrengen"."""
    t, lang = ctx.t, ctx.settings.language
    parts: list[Part] = []
    for series in await service.all_series(ctx.repos):
        if series.channel in CIRCLE_ROLES and await ctx.repos.circles.known(series.channel, viewer.platform) \
                and not await ctx.repos.circles.is_member(series.channel, viewer.member.id):
            continue
        coming = [m for m in await service.upcoming(ctx.repos, series, ctx.now, 12) if not m.skipped]
        if not coming:
            continue
        meeting = coming[0]
        agenda = await ctx.repos.meetings.agenda(series.key, meeting.planned)
        lines = [describe(meeting, lang)]
        lines += [f"• {shorten(item.text, 120)}" for item in agenda[:AGENDA_SHOWN]]
        if len(agenda) > AGENDA_SHOWN:
            lines.append(t("home.agenda_more", count=len(agenda) - AGENDA_SHOWN, p=viewer.prefix, series=series.key))
        elif not agenda:
            lines.append(t("home.agenda_empty"))
        parts.append(Item(series.title, tuple(lines), buttons=(Button(t("home.add_item"), ADD_ITEM, series.key),)))
    return [Heading(t("home.meetings")), *parts] if parts else []


async def votes(ctx: AnyContext, viewer: Viewer) -> list[Part]:
    """Open votes and budget rounds the member may vote in: "nog niet gestemd" with the buttons, or their
    choice. A secret ballot someone else cast for their school shows only that it was cast."""
    t, member = ctx.t, viewer.member
    found: list[Part] = []
    open_votes = [(v, voter) for v in await ctx.repos.overview.open_votes(ctx.now, 50)
                  if (voter := voter_of(v, member)) is not None
                  and (v.electorate not in CIRCLE_ROLES or await ctx.repos.circles.is_member(v.electorate, member.id))]
    ballots = await ctx.repos.overview.vote_ballots([(v.id, voter) for v, voter in open_votes[:VOTES_SHOWN]])
    for vote, _ in open_votes[:VOTES_SHOWN]:
        closes = t("vote.closes", deadline=when(vote.deadline, ctx.settings))
        ballot = ballots.get(vote.id)
        if ballot is None:
            found.append(Item(t("vote.heading", nr=vote.id, question=vote.question),
                              (t("home.not_voted"), closes),
                              buttons=tuple(Button(o, "stemming.stem", f"{vote.id}:{i}")
                                            for i, o in enumerate(vote.options))))
        elif vote.secret and ballot.member_id != member.id:
            found.append(Item(t("vote.heading", nr=vote.id, question=vote.question), (t("home.cast_by_other"), closes)))
        else:
            found.append(Item(t("vote.heading", nr=vote.id, question=vote.question),
                              (t("home.your_choice", choice=vote.options[ballot.option]), closes)))
    if len(open_votes) > VOTES_SHOWN:
        found.append(more(ctx, f"{viewer.prefix}stemming lijst"))
    rounds = [(r, voter) for r in await ctx.repos.overview.open_rounds(ctx.now, ROUNDS_SHOWN)
              if (voter := round_voter(r, member)) is not None]
    chosen = await ctx.repos.overview.round_ballots([(r.id, voter) for r, voter in rounds])
    for budget_round, _ in rounds:
        title = t("home.round", nr=budget_round.id)
        closes = t("vote.closes", deadline=when(budget_round.deadline, ctx.settings))
        cast = chosen.get(budget_round.id)
        vote_button = Button(t("budget.vote_button"), "begroting.stem", str(budget_round.id), Style.PRIMARY)
        if cast is None:
            found.append(Item(title, (t("home.not_voted"), closes), buttons=(vote_button,)))
        elif budget_round.secret and cast[0] != member.id:
            found.append(Item(title, (t("home.cast_by_other"), closes)))
        else:
            pitches = ", ".join(f"#{p}" for p in cast[1]) or t("budget.greedy_none")
            found.append(Item(title, (t("home.your_choice", choice=pitches), closes), buttons=(vote_button,)))
    return [Heading(t("home.votes")), *found] if found else []


async def expertise(ctx: AnyContext, viewer: Viewer) -> list[Part]:
    """The member's expertise; "nog actueel" for an entry stale or within a month of it; "Expertise toevoegen"."""
    t, lang = ctx.t, ctx.settings.language
    months = ctx.settings.expertise_stale_months
    entries = await ctx.repos.expertise.of_holder(viewer.member)
    parts: list[Part] = [Heading(t("home.expertise"))]
    if not entries:
        parts.append(Text(t("home.no_expertise")))
    for entry in entries[:EXPERTISE_SHOWN]:
        soon = older_than_months(entry.confirmed_at, months, ctx.now + STALE_SOON)
        line = t("home.confirmed", day=format_date(entry.confirmed_at.astimezone(ctx.settings.zone).date(),
                                                   "d MMMM y", locale=lang))
        buttons = (Button(t("expertise.still_current", topic=entry.topic), "expertise.confirm", str(entry.id),
                          Style.PRIMARY),) if soon else ()
        parts.append(Item(entry.topic, (line + (" · " + t("home.going_stale") if soon else ""),), buttons=buttons))
    if len(entries) > EXPERTISE_SHOWN:
        parts.append(more(ctx, f"{viewer.prefix}expertise mijn"))
    parts.append(Actions((Button(t("home.add_expertise"), "expertise.form", ""),)))
    return parts


async def own_work(ctx: AnyContext, viewer: Viewer) -> list[Part]:
    """The member's pitches and ideas: status and what happened last."""
    t, lang = ctx.t, ctx.settings.language

    def last(at: datetime | None, status: str, kind: str) -> str:
        if at is None:
            return t(f"{kind}.status.{status}")
        day = format_date(at.astimezone(ctx.settings.zone).date(), "d MMMM", locale=lang)
        return t("home.last_event", status=t(f"{kind}.status.{status}"), day=day)

    parts: list[Part] = []
    pitches = await ctx.repos.overview.own_pitches(viewer.member.id, OWN_SHOWN + 1)
    for number, title, status, event in pitches[:OWN_SHOWN]:
        parts.append(Item(t("pitch.heading", nr=number, title=title),
                          (last(event.at if event else None, event.status if event else status, "pitch"),)))
    if len(pitches) > OWN_SHOWN:
        parts.append(more(ctx, f"{viewer.prefix}pitch lijst"))
    ideas = await ctx.repos.overview.own_ideas(viewer.member.id, OWN_SHOWN + 1)
    for number, text, status, event in ideas[:OWN_SHOWN]:
        parts.append(Item(t("home.idea", nr=number, text=shorten(text, 100)),
                          (last(event.at if event else None, event.status if event else status, "circles"),)))
    if len(ideas) > OWN_SHOWN:
        parts.append(more(ctx, f"{viewer.prefix}idee lijst"))
    return [Heading(t("home.own")), *parts] if parts else []


async def coordinators(ctx: AnyContext, viewer: Viewer, missed_since: datetime, reminder_kind: str) -> list[Part]:
    """For coordinators: what waits for them, as counts with the command that lists it."""
    if not viewer.is_coordinator:
        return []
    t, p = ctx.t, viewer.prefix
    failed = len(await ctx.repos.outbox.failed(missed_since))
    missed = len(await ctx.repos.occurrences.finished(reminder_kind, ("missed",), missed_since))
    ideas = await ctx.repos.overview.waiting_ideas()
    pitches = await ctx.repos.overview.unscheduled_pitches()
    rows = [(failed, "home.failed", f"{p}overleg gemist"), (missed, "home.missed", f"{p}overleg gemist"),
            (ideas, "home.waiting_ideas", f"{p}idee lijst nieuw"),
            (pitches, "home.unscheduled", f"{p}pitch lijst ingediend")]
    items: list[Part] = [Item(t.plural(key, count), (t("home.more", command=command),))
                         for count, key, command in rows if count]
    return [Heading(t("home.coordinators")), *(items or [Text(t("home.nothing_waiting"))])]
