"""`/netwerkbot`: help for everything, your own profile, and the settings for coordinators.

    /netwerkbot                       what the bot can do
    /netwerkbot profiel               who the bot thinks you are
    /netwerkbot profiel school Baeken your school or organisation: a request a coordinator confirms
    /netwerkbot profiel rol ib-er     your role
    /netwerkbot instellingen          coordinators: the bot's settings (no secrets)
    /netwerkbot aanvragen             coordinators: members' school requests (handlers/schools.py)
    /netwerkbot bevestigen|weigeren 3 coordinators: decide one
    /netwerkbot mijn gegevens, vergeet mij, verwijder <naam>, inactief: see handlers/privacy.py
    /netwerkbot coordinatoren [toevoegen|verwijderen @iemand], /netwerkbot logboek [export]: handlers/governance.py
    /netwerkbot overzicht             what waits for you (handlers/overview), handed in by bot/app.py
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import partial

from bot.core.errors import UserError
from bot.core.inputs import Command
from bot.core.reply import Context, Fields, Heading, Outcome, Reply
from handlers import governance, privacy, schools
from handlers.context import Feature, HandlerContext
from handlers.text import clean, fold
from storage.schools import CONFIRMED, REFUSED

SubCommand = Callable[[HandlerContext, str], Awaitable[Outcome]]  # a word of /netwerkbot another feature answers

ROLES = ("consulent", "ib-er", "directeur", "locatieleider", "leerkracht", "expert", "jeugdwerker",
         "bestuurder", "onderwijsassistent", "overig")


async def command(ctx: HandlerContext, cmd: Command, subcommands: Mapping[str, SubCommand] | None = None) -> Outcome:
    t = ctx.t
    first, _, raw = cmd.text.strip().partition(" ")
    if (other := (subcommands or {}).get(fold(first))) is not None:
        return await other(ctx, raw.strip())
    if fold(first) in ("coordinatoren", "coordinators"):  # before `clean`: a Slack mention is <@U123>
        return await governance.coordinators(ctx, raw)
    text = clean(cmd.text, t, what=t("general.what_command"), required=False)
    word, _, rest = text.partition(" ")
    match word.lower(), rest.strip():
        case "", _:
            return Reply.text(t("help.netwerkbot", p=ctx.prefix))
        case "profiel", "":
            return await profile(ctx)
        case "profiel", change:
            return await change_profile(ctx, change)
        case "instellingen", "":
            return settings(ctx)
        case "aanvragen", "":
            return await schools.open_requests(ctx)
        case "bevestigen", number:
            return await schools.decide(ctx, number, CONFIRMED)
        case "weigeren", number:
            return await schools.decide(ctx, number, REFUSED)
        case word, rest if word in privacy.WORDS:
            return await privacy.command(ctx, word, rest)
        case "logboek" | "log", rest:
            return await governance.logbook(ctx, rest)
    raise UserError(t("general.unknown", p=ctx.prefix, word=word))


async def profile(ctx: HandlerContext) -> Reply:
    t, m = ctx.t, ctx.member
    role = t(f"roles.{m.role}") if m.role else "-"
    pairs = [
        (t("general.name"), m.name),
        (t("general.role"), role),
        (t("general.organisation"), m.organisation.name if m.organisation else "-"),
        (t("general.werkgebied"), m.organisation.werkgebied if m.organisation else "-"),
        (t("general.coordinator"), t("general.yes") if ctx.is_coordinator else t("general.no")),
    ]
    pending = await schools.pending_line(ctx)
    return Reply((Heading(t("general.profile_heading")), Fields(tuple(pairs)),
                  *([Context(pending)] if pending else [])))


async def change_profile(ctx: HandlerContext, change: str) -> Reply:
    t = ctx.t
    field, _, value = change.partition(" ")
    value = value.strip()
    if field.lower() == "school" and value:
        return await schools.change_school(ctx, value)
    if field.lower() == "rol" and value:
        role = value.lower().replace("ib'er", "ib-er")
        if role not in ROLES:
            raise UserError(t("general.role_unknown", role=value, roles=", ".join(ROLES)))
        await ctx.repos.members.update(ctx.member.id, role=role)
        return Reply.text(t("general.role_set", role=t(f"roles.{role}")))
    raise UserError(t("general.profile_syntax", p=ctx.prefix))


def settings(ctx: HandlerContext) -> Reply:
    t, s = ctx.t, ctx.settings
    ctx.require_coordinator()
    pairs = [
        (t("general.language"), s.language),
        (t("general.timezone"), s.timezone),
        (t("general.channel_consultants"), s.channel_consultants or "-"),
        (t("general.channel_inner"), s.channel_inner_circle or "-"),
        (t("general.channel_outer"), s.channel_outer_circle or "-"),
        (t("general.coordinators"), str(len(s.coordinators))),
        (t("general.database"), s.database_url.split(":", 1)[0]),
        (t("general.stale_months"), str(s.expertise_stale_months)),
    ]
    return Reply((Heading(t("general.settings_heading")), Fields(tuple(pairs))))


def feature(subcommands: Mapping[str, SubCommand] | None = None) -> Feature:
    f = Feature("netwerkbot")
    f.command("netwerkbot", partial(command, subcommands=subcommands))
    f.action(schools.CONFIRM, schools.confirm_pressed)
    f.action(schools.REFUSE, schools.refuse_pressed)
    f.membership(governance.membership_changed)
    return f
