"""Who acts for a school: a fact coordinators (and the import) control, never a member's own word.

    /netwerkbot profiel school Baeken   a member: a request to the coordinators (a coordinator: set at once)
    /netwerkbot aanvragen               coordinators: the open requests, with "Bevestigen" and "Weigeren"
    /netwerkbot bevestigen 3            coordinators: confirm request 3 (the member's school changes)
    /netwerkbot weigeren 3              coordinators: refuse it

A member's school gives rights: the school's ballot in a vote per school, editing its pitches. When a
member could set it themself, one member could cast every school's ballot by switching between presses.
So a member's change is a request: the coordinators get it in a direct message with buttons (those who
have talked to the bot on some platform) and in `/netwerkbot aanvragen`; until one confirms it, the
member keeps the school they had, with its rights, and nothing more. The member hears the decision.
"""

from __future__ import annotations

import logging

from bot.core.errors import UserError
from bot.core.inputs import Action
from bot.core.numbers import number_of, possible_id
from bot.core.reply import Actions, Button, Context, Heading, Item, Outcome, Part, Reply, Style
from handlers.context import HandlerContext
from handlers.names import pick
from storage.schools import CONFIRMED, REFUSED, SchoolRequestRecord

log = logging.getLogger(__name__)

CONFIRM, REFUSE = "school.bevestigen", "school.weigeren"


async def change_school(ctx: HandlerContext, typed: str) -> Reply:
    """`profiel school X`: set at once for a coordinator, else a request the coordinators decide."""
    t = ctx.t
    organisation = pick(typed, await ctx.repos.organisations.all(), t)
    current = ctx.member.organisation
    if ctx.is_coordinator:
        await ctx.repos.school_requests.withdraw(ctx.member.id, ctx.now)
        await ctx.repos.members.update(ctx.member.id, organisation_id=organisation.id)
        log.info("coordinator member %s set their own organisation to %s", ctx.member.id, organisation.id)
        return Reply.text(t("general.school_set", name=organisation.name))
    if current is not None and current.id == organisation.id:
        await ctx.repos.school_requests.withdraw(ctx.member.id, ctx.now)
        return Reply.text(t("trust.school_already", name=organisation.name))
    number = await ctx.repos.school_requests.ask(ctx.member.id, organisation.id, ctx.now)
    request = await ctx.repos.school_requests.get(number)
    assert request is not None
    told = await tell_coordinators(ctx, request)
    lines = [t("trust.school_asked", name=organisation.name),
             t("trust.school_until", current=current.name) if current else t("trust.school_until_none")]
    if not told:
        lines.append(t("trust.school_no_coordinator", p=ctx.prefix))
    return Reply.text(" ".join(lines))


def request_parts(ctx: HandlerContext, request: SchoolRequestRecord) -> list[Part]:
    t = ctx.t
    line = t("trust.request_line", nr=request.id, name=request.member_name, school=request.organisation.name,
             current=request.current or "-")
    return [Item(line), Actions((Button(t("trust.confirm"), CONFIRM, str(request.id), Style.PRIMARY),
                                 Button(t("trust.refuse"), REFUSE, str(request.id), Style.DANGER)))]


async def tell_coordinators(ctx: HandlerContext, request: SchoolRequestRecord) -> int:
    """A direct message with the buttons to every coordinator the bot knows as a member; how many."""
    members = [m for m in await ctx.repos.coordinators.member_ids(ctx.settings.is_coordinator) if m != ctx.member.id]
    body = Reply((Heading(ctx.t("trust.request_heading")), *request_parts(ctx, request),
                  Context(ctx.t("trust.request_note", p=ctx.prefix))))
    for member_id in members:
        await ctx.post(f"member:{member_id}", body, key=f"school-request:{request.id}:{member_id}")
    return len(members)


async def open_requests(ctx: HandlerContext) -> Reply:
    ctx.require_coordinator()
    found = await ctx.repos.school_requests.open()
    if not found:
        return Reply.text(ctx.t("trust.no_requests"))
    return Reply((Heading(ctx.t("trust.requests_heading")),
                  *(part for request in found for part in request_parts(ctx, request))))


async def decide(ctx: HandlerContext, typed: str, state: str) -> Reply:
    """A coordinator confirms or refuses request `typed`; the member hears it."""
    ctx.require_coordinator()
    t = ctx.t
    number = number_of(typed)
    if number is None:
        raise UserError(t("trust.request_number", p=ctx.prefix))
    request = await ctx.repos.school_requests.get(number) if possible_id(number) else None
    if request is None:
        raise UserError(t("trust.no_request", nr=number, p=ctx.prefix))
    if not await ctx.repos.school_requests.decide(request.id, state, by=ctx.member.id, now=ctx.now):
        raise UserError(t("trust.request_decided", nr=request.id, state=t(f"trust.state.{request.state}")))
    if state == CONFIRMED:
        await ctx.repos.members.update(request.member_id, organisation_id=request.organisation.id)
    log.info("coordinator member %s %s school request %s", ctx.member.id, state, request.id)
    news = t("trust.news_confirmed" if state == CONFIRMED else "trust.news_refused", name=request.organisation.name)
    await ctx.post(f"member:{request.member_id}", Reply.text(news), key=f"school-request:{request.id}:decided")
    return Reply.text(t("trust.confirmed" if state == CONFIRMED else "trust.refused", nr=request.id,
                        name=request.member_name, school=request.organisation.name))


async def confirm_pressed(ctx: HandlerContext, action: Action) -> Outcome:
    return await decide(ctx, action.value, CONFIRMED)


async def refuse_pressed(ctx: HandlerContext, action: Action) -> Outcome:
    return await decide(ctx, action.value, REFUSED)


async def pending_line(ctx: HandlerContext) -> str:
    """For the member's profile: the request still waiting, or ""."""
    waiting = await ctx.repos.school_requests.open(ctx.member.id, limit=1)
    return ctx.t("trust.profile_pending", name=waiting[0].organisation.name) if waiting else ""
