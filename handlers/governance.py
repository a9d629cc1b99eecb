"""Roles and circles inside the bot: coordinators, their log, and who is in which circle.

    /netwerkbot coordinatoren                       who the coordinators are
    /netwerkbot coordinatoren toevoegen @iemand     coordinators: add one (Slack mention, Matrix id, a name)
    /netwerkbot coordinatoren verwijderen @iemand   coordinators: remove one (not the last)
    /netwerkbot logboek                             coordinators: the latest coordinator actions
    /netwerkbot logboek export                      coordinators: all of them as a CSV file

Coordinators are rows in the database (NETWERKBOT_COORDINATORS only seeds the first ones, once per
account). Every input that needed coordinator rights and succeeded is logged by the dispatcher (who,
when, what, the answer's first line), in one place: where `require_coordinator` was passed.

Circle membership comes from the platform: the members of the channels of the consultants, the inner
and the outer circle (Slack conversations.members and member_joined/left_channel, Matrix room
membership), kept in `circle_members` by `membership_changed`. `require_circle` limits a button to a
circle's members once the bot knows that circle's members on the platform.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from babel.dates import format_datetime

from bot.core.errors import UserError
from bot.core.inputs import Action, FormSubmission, MembershipChanged
from bot.core.reply import Context, Fields, File, Heading, Item, Outcome, Reply, Text
from config.settings import CIRCLE_ROLES as CIRCLES
from handlers.context import HandlerContext, JobContext
from handlers.names import pick
from handlers.text import fold

SLACK_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
MATRIX_ID = re.compile(r"(?:https://matrix\.to/#/)?(@[^:\s]+:[^\s>]+)")
SHOWN = 20
ADD = frozenset({"toevoegen", "add", "+"})
REMOVE = frozenset({"verwijderen", "remove", "-", "weg"})


async def coordinators(ctx: HandlerContext, text: str) -> Reply:
    """`text` is raw (not cleaned): a Slack mention arrives as <@U123> in it."""
    t = ctx.t
    word, _, who = text.strip().partition(" ")
    if not word:
        return await listing(ctx)
    if fold(word) not in ADD | REMOVE or not who.strip():
        raise UserError(t("pupil.coordinators_syntax", p=ctx.prefix))
    ctx.require_coordinator()
    platform, user_id, name = await account_of(ctx, who.strip())
    if fold(word) in ADD:
        if not await ctx.repos.coordinators.add(platform, user_id, ctx.member.id, ctx.now):
            return Reply.text(t("pupil.already", name=name))
        return Reply.text(t("pupil.added", name=name))
    active = await ctx.repos.coordinators.active()
    if len(active) <= 1 and any(c.platform == platform and c.user_id == user_id for c in active):
        raise UserError(t("pupil.last"))
    if not await ctx.repos.coordinators.remove(platform, user_id, ctx.now):
        raise UserError(t("pupil.not_one", name=name))
    return Reply.text(t("pupil.removed", name=name))


async def account_of(ctx: HandlerContext, who: str) -> tuple[str, str, str]:
    """The platform account meant: a Slack mention, a Matrix user id or pill, else a member's name (with an
    account on this platform). Returns (platform, user id, how to call them)."""
    platform = ctx.actor.platform
    found = SLACK_MENTION.fullmatch(who) or MATRIX_ID.fullmatch(who)
    if found is not None:
        user_id = found.group(1)
    else:
        members = [m for m in await ctx.repos.members.all() if any(p == platform for p, _ in m.identities)]
        member = pick(who.lstrip("@"), members, ctx.t)
        return platform, next(u for p, u in member.identities if p == platform), member.name
    known = await ctx.repos.members.by_identity(platform, user_id)
    return platform, user_id, known.name if known else user_id


async def listing(ctx: HandlerContext) -> Reply:
    t = ctx.t
    active = await ctx.repos.coordinators.active()
    if not active:
        return Reply.text(t("pupil.none", p=ctx.prefix))
    items = [Item(c.name or c.user_id, (t("pupil.since", platform=c.platform,
                                            day=format_datetime(c.added_at.astimezone(ctx.settings.zone), "d MMMM y",
                                                                locale=ctx.settings.language)),))
             for c in active]
    return Reply((Heading(t("pupil.coordinators_heading")), *items,
                  Context(t("pupil.coordinators_hint", p=ctx.prefix))))


async def logbook(ctx: HandlerContext, rest: str) -> Reply:
    t = ctx.t
    ctx.require_coordinator()
    export = fold(rest) in ("export", "exporteren", "csv")
    entries = await ctx.repos.coordinators.entries(None if export else SHOWN)
    zone, lang = ctx.settings.zone, ctx.settings.language
    if export:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["tijdstip", "wie", "wat", "uitkomst"])
        for e in reversed(entries):
            writer.writerow([e.at.astimezone(zone).isoformat(), e.name or t("pupil.former"), e.what, e.outcome])
        data = out.getvalue().encode()
        return Reply((Text(t("pupil.log_exported", count=len(entries))),
                      File("logboek-coordinatoren.csv", "text/csv", data, t("pupil.log_title"))))
    if not entries:
        return Reply.text(t("pupil.log_empty"))
    pairs = tuple((format_datetime(e.at.astimezone(zone), "d MMM y HH:mm", locale=lang),
                   f"{e.name or t('pupil.former')}: {e.what}" + (f" → {e.outcome}" if e.outcome else ""))
                  for e in entries)
    return Reply((Heading(t("pupil.log_title")), Fields(pairs), Context(t("pupil.log_hint", p=ctx.prefix))))


# -- circles -----------------------------------------------------------------------------------------------


async def membership_changed(ctx: JobContext, change: MembershipChanged) -> None:
    """The platform told who is (or came, or left) in a channel: kept for the circle whose channel it is."""
    for circle in CIRCLES:
        channel = ctx.settings.channel(circle, change.platform)
        if not channel or channel != change.channel:
            continue
        if change.members is not None:
            await ctx.repos.circles.replace(circle, change.platform, change.members, ctx.now)
        elif change.joined:
            await ctx.repos.circles.joined(circle, change.platform, change.user_id, ctx.now)
        else:
            await ctx.repos.circles.left(circle, change.platform, change.user_id)


async def require_circle(ctx: HandlerContext, circle: str, refusal: str) -> None:
    """Only members of `circle` go on, once the bot knows who they are on this platform; `refusal` says why."""
    platform = ctx.actor.platform
    if not ctx.settings.channel(circle, platform) or not await ctx.repos.circles.known(circle, platform):
        return
    if not await ctx.repos.circles.is_member(circle, ctx.member.id):
        raise UserError(refusal)


Pressed = TypeVar("Pressed", Action, FormSubmission)


def inner_circle_only(handler: Callable[[HandlerContext, Pressed], Awaitable[Outcome]]
                      ) -> Callable[[HandlerContext, Pressed], Awaitable[Outcome]]:
    """A digest's buttons (Oppakken, Parkeren, Afgerond) and the pick-up form: for the inner circle only."""
    async def guarded(ctx: HandlerContext, inp: Pressed) -> Outcome:
        await require_circle(ctx, "inner_circle", ctx.t("pupil.only_inner"))
        return await handler(ctx, inp)

    return guarded
