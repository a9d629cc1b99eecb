"""A member's data (AVG): see it, take it, erase it; and retention, applied once a day. See PRIVACY.md.

    /netwerkbot mijn gegevens        everything the bot holds about you: a summary and a JSON file
    /netwerkbot vergeet mij          erase your data (after a confirmation button)
    /netwerkbot verwijder <naam>     coordinators: forget a member who left (after a confirmation button)
    /netwerkbot inactief             coordinators: members the bot has not seen for a long time

Forgetting keeps decisions intact: the member becomes "een voormalig lid" (storage/privacy.py).
The daily occurrence `privacy.retention` empties copied message texts and sent messages' texts,
forgets ballots of closed votes and old delivery ids, and tells coordinators who became inactive.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, time, timedelta
from typing import Any

from babel.dates import format_date
from dateutil.relativedelta import relativedelta

from bot.core.errors import UserError
from bot.core.inputs import Action
from bot.core.reply import (
    Actions,
    Button,
    Context,
    Fields,
    File,
    Heading,
    Item,
    Outcome,
    Part,
    Reply,
    Style,
    Text,
    reply_from_json,
    reply_to_json,
)
from handlers.context import Feature, HandlerContext, JobContext
from handlers.names import pick
from storage.privacy import scrub
from storage.records import MemberRecord, PlannedOccurrence

log = logging.getLogger(__name__)

RETENTION = "privacy.retention"
PLAN_DAYS = 3
INACTIVE_SHOWN = 50
WORDS = ("mijn", "vergeet", "verwijder", "inactief")
EMPTY_BODY = reply_to_json(Reply(()))
PLATFORMS = ("slack", "matrix", "console")


async def command(ctx: HandlerContext, word: str, rest: str) -> Outcome:
    """`/netwerkbot <word> <rest>` for the words in WORDS (called by handlers/general.py)."""
    t = ctx.t
    match word, rest.lower():
        case "mijn", "gegevens":
            return await my_data(ctx)
        case "vergeet", "mij" | "me":
            return confirm(ctx, f"zelf:{ctx.member.id}", t("privacy.forget_me_question"))
        case "verwijder", _ if rest:
            ctx.require_coordinator()
            target = await find_member(ctx, rest)
            return confirm(ctx, f"lid:{target.id}", t("privacy.remove_question", name=target.name))
        case "inactief", "":
            return await inactive(ctx)
    raise UserError(t("privacy.syntax", p=ctx.prefix))


async def find_member(ctx: HandlerContext, typed: str) -> MemberRecord:
    """A member by a Matrix id (@anna:swv.nl), a platform id, or by name (with or without @)."""
    typed = typed.strip()
    for platform in PLATFORMS:
        if (found := await ctx.repos.members.by_identity(platform, typed)) is not None:
            return found
    return pick(typed.lstrip("@"), await ctx.repos.members.all(), ctx.t)


# -- mijn gegevens -------------------------------------------------------------------------------------

async def my_data(ctx: HandlerContext) -> Reply:
    t = ctx.t
    data = await ctx.repos.privacy.export(ctx.member.id)
    data["profiel"]["coordinator"] = ctx.is_coordinator
    data["gemaakt_op"] = ctx.now.isoformat()
    profile = data["profiel"]
    counts = [(t(f"privacy.section.{key}"), str(len(data[key])))
              for key in ("accounts", "expertise", "pitches", "ideeen", "agendapunten", "stemmen", "geschiedenis")]
    body = json.dumps(data, ensure_ascii=False, indent=2).encode()
    return Reply((
        Heading(t("privacy.my_data_heading")),
        Fields(((t("general.name"), profile["naam"]), (t("privacy.email"), profile["e-mail"] or "-"),
                (t("general.organisation"), profile["school_of_organisatie"] or "-"), *counts)),
        Text(t("privacy.my_data_file")),
        File(f"netwerkbot-gegevens-{ctx.now:%Y%m%d}.json", "application/json", body, t("privacy.file_title")),
        Context(t("privacy.my_data_more", p=ctx.prefix)),
    ))


# -- vergeet mij / verwijder ---------------------------------------------------------------------------

def confirm(ctx: HandlerContext, value: str, question: str) -> Reply:
    t = ctx.t
    return Reply((Heading(question), Text(t("privacy.what_happens")),
                  Actions((Button(t("privacy.yes_forget"), "privacy.vergeet", value, Style.DANGER),
                           Button(t("privacy.no_keep"), "privacy.annuleer", value)))))


async def forget_pressed(ctx: HandlerContext, action: Action) -> Outcome:
    t = ctx.t
    kind, _, number = action.value.partition(":")
    if not number.isdigit() or kind not in ("zelf", "lid"):
        raise UserError(t("errors.unknown_action"))
    member_id = int(number)
    if kind == "zelf" and member_id != ctx.member.id:
        raise UserError(t("privacy.not_yours"))
    if kind == "lid":
        ctx.require_coordinator()
    target = await ctx.repos.members.get(member_id)
    if target is None or await ctx.repos.privacy.erased(member_id):
        return Reply.text(t("privacy.already_forgotten"), error=True)
    erased = await ctx.repos.privacy.erase(member_id, label=t("privacy.former_member"), now=ctx.now,
                                           outbox_scrub=lambda body, found, ids: scrub_reply(body, found, ids, t(
                                               "privacy.former_member")))
    log.info("member %s forgotten (%s); %d rows elsewhere scrubbed", member_id, kind, erased.rows_changed)
    if kind == "zelf":
        return Reply((Text(t("privacy.forgotten_you")),), replace_original=True)
    # without the name: this answer is written to the coordinators' log after the erasure's sweep
    return Reply((Text(t("privacy.forgotten_member")),), replace_original=True)


async def cancel_pressed(ctx: HandlerContext, action: Action) -> Outcome:
    return Reply((Text(ctx.t("privacy.kept")),), replace_original=True)


def scrub_reply(body: str, found: list[str], user_ids: list[str], label: str) -> str:
    """An outbox body (a reply as JSON) without the member: mentions of them lose their accounts and
    name, every text loses their name, e-mail and ids."""
    try:
        reply = reply_from_json(body)
    except (ValueError, KeyError, TypeError):
        return body  # not a reply: the generic sweep takes care of it

    def s(text: str) -> str:
        return scrub(text, found, label)

    def part(p: Part) -> Part:
        if isinstance(p, Heading | Text | Context):
            return type(p)(s(p.text))
        if isinstance(p, Fields):
            return Fields(tuple((s(k), s(v)) for k, v in p.pairs))
        if isinstance(p, Item):
            mention = p.mention
            if mention is not None and ({u for _, u in mention.identities} & set(user_ids) or s(mention.name)
                                        != mention.name):
                mention = None
            return Item(s(p.title), tuple(map(s, p.lines)), mention,
                        tuple(Button(s(b.label), b.action_id, b.value, b.style) for b in p.buttons))
        if isinstance(p, Actions):
            return Actions(tuple(Button(s(b.label), b.action_id, b.value, b.style) for b in p.buttons), p.ballot)
        if isinstance(p, File):
            try:
                return File(p.name, p.mime, s(p.data.decode()).encode(), s(p.title))
            except UnicodeDecodeError:
                return p
        return p

    return reply_to_json(Reply(tuple(map(part, reply.parts)), audience=reply.audience,
                               replace_original=reply.replace_original, is_error=reply.is_error,
                               thread=reply.thread))


# -- inactive members ----------------------------------------------------------------------------------

def inactive_line(now: datetime, months: int) -> datetime:
    return now - relativedelta(months=months)


async def inactive(ctx: HandlerContext) -> Reply:
    ctx.require_coordinator()
    t, s = ctx.t, ctx.settings
    members = await ctx.repos.privacy.inactive(inactive_line(ctx.now, s.inactive_after_months))
    if not members:
        return Reply.text(t("privacy.none_inactive", months=s.inactive_after_months))
    items = [Item(name, (t("privacy.last_seen", day=format_date(seen.astimezone(s.zone).date(), "d MMMM y",
                                                                 locale=s.language)),),
                  buttons=(Button(t("privacy.remove"), "privacy.verwijder", str(member_id), Style.DANGER),))
             for member_id, name, seen in members[:INACTIVE_SHOWN]]
    return Reply((Heading(t.plural("privacy.inactive_heading", len(members), months=s.inactive_after_months)),
                  *items, Context(t("privacy.inactive_hint"))))


async def remove_pressed(ctx: HandlerContext, action: Action) -> Outcome:
    """"Verwijderen" beside an inactive member: the same confirmation as /netwerkbot verwijder."""
    ctx.require_coordinator()
    target = await ctx.repos.members.get(int(action.value)) if action.value.isdigit() else None
    if target is None:
        raise UserError(ctx.t("errors.unknown_action"))
    return confirm(ctx, f"lid:{target.id}", ctx.t("privacy.remove_question", name=target.name))


# -- retention -----------------------------------------------------------------------------------------

async def plan(ctx: JobContext) -> None:
    """The daily retention run at `retention_time`, planned a few days ahead. A day's run that fell due
    while the bot was down runs late at the start, once (each day's notices are its own)."""
    at = time.fromisoformat(ctx.settings.retention_time)
    today = ctx.now.astimezone(ctx.settings.zone).date()
    wanted = []
    for offset in range(PLAN_DAYS):
        day = today + timedelta(days=offset)
        due = datetime.combine(day, at, ctx.settings.zone)
        wanted.append(PlannedOccurrence(key=f"{RETENTION}:{day.isoformat()}", kind=RETENTION, due_at=due,
                                        payload={}))
    await ctx.repos.occurrences.plan(RETENTION, [w for w in wanted if w.due_at > ctx.now], ctx.now)


async def retention_job(ctx: JobContext) -> None:
    """Apply every retention period, in the transaction that claimed the day's occurrence."""
    occurrence = ctx.due
    s, now, privacy = ctx.settings, ctx.now, ctx.repos.privacy
    done: dict[str, Any] = {
        "ideas": await privacy.forget_idea_texts(now - timedelta(days=s.retain_idea_texts_days),
                                                 ctx.t("privacy.idea_text_forgotten")),
        "outbox": await privacy.empty_outbox_bodies(now - timedelta(days=s.retain_outbox_days), EMPTY_BODY),
        "ballots": await privacy.forget_ballots(now - timedelta(days=s.retain_ballots_days)),
        "deliveries": await privacy.forget_deliveries(now - timedelta(days=s.retain_deliveries_days)),
    }
    line = inactive_line(occurrence.due_at, s.inactive_after_months)  # this day's line, also when run late
    newly = await privacy.became_inactive(line - timedelta(days=1), line)
    if newly:
        notice = Reply.text(ctx.t.plural("privacy.inactive_notice", newly, months=s.inactive_after_months))
        for member_id in await ctx.repos.coordinators.member_ids(ctx.settings.is_coordinator):
            await ctx.post(f"member:{member_id}", notice, key=f"{occurrence.key}:inactive:{member_id}")
    log.info("retention %s: %s; %d member(s) became inactive", occurrence.key, done, newly)


def feature() -> Feature:
    f = Feature("privacy")
    f.plan(plan)
    f.job(RETENTION, retention_job)
    f.action("privacy.vergeet", forget_pressed)
    f.action("privacy.annuleer", cancel_pressed)
    f.action("privacy.verwijder", remove_pressed)
    return f
