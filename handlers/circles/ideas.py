"""`/idee` and the 💡: the outer circle's ideas, carried to the inner circle in a digest.

    /idee #thema <tekst>     an idea (in the outer circle's channel); without a #thema the bot asks
    /idee lijst [thema|status]
    /idee <nr>               one idea with its history
    /idee samenvatting       coordinators: the digest now, for an extra meeting
    💡 under a message       the message becomes an idea, with a link to it
    a question in a channel  "Wie weet iets van thuiszitters?": up to three members who know, in its thread

Before each meeting of the inner circle (the series in the meetings file whose channel is
`inner_circle`; without one, weekly at a set day and time) a digest goes to the inner circle's
channel through the outbox: the new ideas since the previous digest, by theme, and the parked
ones, each with the buttons "Oppakken", "Parkeren" and "Afgerond". When an idea is picked up or
finished, its author hears so in the thread of the idea's message (or in a direct message when
there is none). The digest's message is kept up to date as its ideas move on (bot/refresh.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date

from babel.dates import format_date
from rapidfuzz import fuzz, process

from bot.core.errors import FormErrors, UserError
from bot.core.inputs import Action, Actor, Change, ChannelMessage, Command, FormSubmission, Input, Listened, Reaction
from bot.core.numbers import number_of, possible_id
from bot.core.reply import (
    Audience,
    Button,
    Context,
    FieldKind,
    Form,
    FormField,
    Heading,
    Item,
    Outcome,
    Part,
    Reply,
    Text,
)
from handlers.circles.digest import DIGEST, Digests
from handlers.circles.questions import Experts, QuestionDetector
from handlers.context import Feature, HandlerContext
from handlers.dates import UnclearDate, parse_moment
from handlers.expertise.feature import holder_line, mention
from handlers.governance import inner_circle_only
from handlers.meetings.feature import Meetings
from handlers.pupils.guard import hold_back
from handlers.text import clean, fold, has_control, shorten
from storage.circles import DONE, NEW, PARKED, PICKED_UP, STATUSES, IdeaRecord
from storage.records import MemberRecord
from storage.repositories import Repositories

IDEA_EMOJI = "💡"
MAX_IDEA = 2000
MAX_THEME = 40
SHOWN = 20
MAKE_IDEA, WHO_KNOWS = "idee.maken", "vraag.wie_weet"  # a message's shortcuts: its JSON in the value
HASHTAG = re.compile(r"(?<![\w&<])#([^\W_][\w-]{1,59})")  # not an HTML entity, not Slack's <#C123>


def themed(text: str) -> tuple[str, str]:
    """The first #hashtag of a text and the text without it: ("thuiszitters", "Een vaste …")."""
    found = HASHTAG.search(text)
    if found is None:
        return "", text
    return found.group(1), " ".join((text[:found.start()] + text[found.end():]).split())


def message_of(ctx: HandlerContext, action: Action) -> Reaction:
    """The message a shortcut was used on, as the 💡 under it would give it (the adapter put it in the value)."""
    try:
        data = json.loads(action.value)
        channel, ts, thread, author, text, link = (str(data.get(k) or "") for k in
                                                   ("channel", "ts", "thread", "author", "text", "link"))
    except (ValueError, AttributeError):
        raise UserError(ctx.t("errors.unknown_action")) from None
    if not channel or not ts:
        raise UserError(ctx.t("errors.unknown_action"))
    return Reaction(IDEA_EMOJI, action.actor, channel, ts, message_text=text, link=link,
                    message_author=Actor(action.actor.platform, author) if author else None,
                    thread_id="" if thread == ts else thread)


def source_of(inp: Listened, message_id: str) -> str:
    return f"{inp.actor.platform}:{inp.channel}:{message_id}"


class Circles:
    def __init__(self, meetings: Meetings, questions: QuestionDetector) -> None:
        self.meetings = meetings
        self.questions = questions
        self.digests = Digests(meetings)

    def feature(self) -> Feature:
        f = Feature("circles")
        f.command("idee", self.command)
        f.action("idee.thema", self.theme_pressed)
        f.action("idee.oppakken", inner_circle_only(self.pick_up_pressed))
        f.action("idee.parkeren", inner_circle_only(self.park_pressed))
        f.action("idee.afgerond", inner_circle_only(self.done_pressed))
        f.form("idee.oppakken", inner_circle_only(self.pick_up_submitted))
        f.action(MAKE_IDEA, self.make_pressed)  # Slack's message shortcuts (issue 17)
        f.action(WHO_KNOWS, self.who_knows)
        f.listen(self.listen)
        f.plan(self.digests.plan)
        f.job(DIGEST, self.digests.digest_job)
        f.keep_current("digest:", self.digests.current)
        return f

    # -- where ideas come from ----------------------------------------------------------------------

    @staticmethod
    def in_outer_circle(ctx: HandlerContext, channel: str) -> bool:
        """Ideas are the outer circle's: its channel, once it is set (the terminal has none)."""
        outer = ctx.settings.channel("outer_circle", ctx.actor.platform)
        return not outer or channel == outer

    async def themes(self, repos: Repositories, settings_themes: Sequence[str]) -> list[str]:
        """The known themes: the cooperation's list and every theme an idea was given."""
        return list(dict.fromkeys([*(fold(t) for t in settings_themes), *await repos.ideas.themes()]))

    async def theme_of(self, ctx: HandlerContext, tag: str) -> str:
        """A hashtag as a known theme: "#Thuiszitter" is "thuiszitters"; a new word becomes a new theme."""
        t = ctx.t
        folded = fold(tag).strip("-")
        if not folded or len(folded) > MAX_THEME:
            raise UserError(t("circles.bad_theme", max=MAX_THEME, p=ctx.prefix))
        known = await self.themes(ctx.repos, ctx.settings.idea_themes)
        if folded in known:
            return folded
        found = process.extractOne(folded, known, scorer=fuzz.ratio, score_cutoff=85)
        return str(found[0]) if found else folded

    async def make(self, ctx: HandlerContext, *, text: str, theme: str, source: str | None, channel: str,
                   thread: str, link: str, author: MemberRecord | None) -> IdeaRecord:
        """The idea, or a Dutch refusal naming the idea it already is."""
        number = await ctx.repos.ideas.create(theme=theme, text=text, folded=fold(text), source=source,
                                              channel=channel, thread=thread, link=link,
                                              author_id=author.id if author else None, added_by=ctx.member.id,
                                              now=ctx.now)
        if number is None:  # the unique keys said no: this message, or this text, is an idea already
            same = await ctx.repos.ideas.by_source(source) if source is not None else None
            if same is not None:
                raise UserError(ctx.t("circles.already_message", nr=same.id, p=ctx.prefix))
            same = await ctx.repos.ideas.by_text(fold(text))
            raise UserError(ctx.t("circles.already_text", nr=same.id if same else "?", p=ctx.prefix))
        idea = await ctx.repos.ideas.get(number)
        assert idea is not None
        return idea

    def ask_theme(self, ctx: HandlerContext, idea: IdeaRecord, themes: list[str]) -> Reply:
        buttons = tuple(Button(f"#{theme}", "idee.thema", f"{idea.id}\t{theme}") for theme in themes[:10])
        return Reply((Text(ctx.t("circles.which_theme", nr=idea.id)),
                      Item(shorten(idea.text, 150), buttons=buttons),
                      Context(ctx.t("defects.theme_hint", p=ctx.prefix,
                                    themes=", ".join(f"#{name}" for name in themes)))))

    async def confirm(self, ctx: HandlerContext, idea: IdeaRecord) -> None:
        """The idea's confirmation, for everyone, where it came from: in the thread of its message, or
        (an idea typed as a command) as a message of its own, whose thread its author hears back in."""
        t = ctx.t
        when = await self.next_digest_text(ctx)
        reply = Reply((Text(t("circles.noted", nr=idea.id, theme=idea.theme, name=idea.author_name or "?")),
                       Context(when)), thread=idea.thread)
        await ctx.post(idea.channel or "outer_circle", reply, key=f"idea:{idea.id}")

    async def next_digest_text(self, ctx: HandlerContext) -> str:
        upcoming = await ctx.repos.occurrences.next_due(DIGEST, ctx.now)
        if upcoming is None:
            return ctx.t("circles.next_digest_unknown")
        day = format_date(upcoming.astimezone(ctx.settings.zone).date(), "EEEE d MMMM", locale=ctx.settings.language)
        return ctx.t("circles.next_digest", day=day)

    # -- /idee --------------------------------------------------------------------------------------

    async def command(self, ctx: HandlerContext, cmd: Command) -> Outcome:
        t = ctx.t
        text = clean(cmd.text, t, what=t("circles.what_idea"), required=False, max_length=MAX_IDEA)
        word, _, rest = text.partition(" ")
        if not text:
            return Reply.text(t("help.idee", p=ctx.prefix))
        if fold(word) == "lijst":
            return await self.listing(ctx, rest.strip())
        if fold(text) == "samenvatting":
            return await self.digests.digest_on_demand(ctx)
        if (number := number_of(text)) is not None:
            return await self.show(ctx, number)
        if not self.in_outer_circle(ctx, cmd.channel):
            raise UserError(t("circles.only_outer", p=ctx.prefix))
        tag, body = themed(text)
        if len(body) < 3:
            raise UserError(t("circles.too_short", p=ctx.prefix))
        if (held := await hold_back(ctx, cmd, body)) is not None:
            return held
        theme = await self.theme_of(ctx, tag) if tag else ""
        same = await ctx.repos.ideas.by_text(fold(body)) if theme else None
        if same is not None and not same.theme:  # the hint under the theme buttons: the same idea with a #thema
            return await self.give_theme(ctx, same, theme)
        idea = await self.make(ctx, text=body, theme=theme, source=None, channel=cmd.channel, thread="", link="",
                               author=ctx.member)
        if not theme:
            return self.ask_theme(ctx, idea, await self.themes(ctx.repos, ctx.settings.idea_themes))
        await self.confirm(ctx, idea)
        return Reply.text(t("circles.added", nr=idea.id, theme=theme))

    async def listing(self, ctx: HandlerContext, what: str) -> Reply:
        t = ctx.t
        folded = fold(what).lstrip("#")
        statuses: Sequence[str] = STATUSES
        theme: str | None = None
        if folded in STATUSES:
            statuses = (folded,)
        elif folded:
            theme = await self.theme_of(ctx, folded)
        ideas = await ctx.repos.ideas.listing(theme=theme, statuses=statuses, limit=SHOWN)
        if not ideas:
            return Reply.text(t("circles.none_listed", p=ctx.prefix))
        parts: list[Part] = [Heading(t("circles.list_heading") + (f" – #{theme}" if theme else "")
                                     + (f" – {folded}" if theme is None and folded else ""))]
        parts += [Item(shorten(i.text, 150), (self.status_line(ctx, i),)) for i in ideas]
        if len(ideas) == SHOWN:
            parts.append(Context(t("circles.list_more", shown=SHOWN)))
        return Reply(tuple(parts))

    def status_line(self, ctx: HandlerContext, idea: IdeaRecord) -> str:
        t, lang = ctx.t, ctx.settings.language
        line = t("circles.line", nr=idea.id, theme=idea.theme or t("circles.no_theme"),
                 name=idea.author_name or "?", status=t(f"circles.status.{idea.status}"),
                 day=format_date(idea.created_at.astimezone(ctx.settings.zone).date(), "d MMMM", locale=lang))
        if idea.status == PICKED_UP:
            line += " · " + t("circles.owner", name=idea.owner_name or "?")
            if idea.due:
                line += " · " + t("circles.due", day=format_date(idea.due, "d MMMM y", locale=lang))
        return line

    async def show(self, ctx: HandlerContext, number: int) -> Reply:
        t, lang = ctx.t, ctx.settings.language
        idea = await self.find(ctx, number)
        parts: list[Part] = [Heading(t("circles.idea_heading", nr=idea.id, theme=idea.theme or t("circles.no_theme"))),
                             Text(idea.text), Context(self.status_line(ctx, idea))]
        if idea.link:
            parts.append(Context(t("circles.source_deleted") if idea.source_deleted else idea.link))
        for event in await ctx.repos.ideas.history(idea.id):
            parts.append(Context(t("circles.history", status=t(f"circles.status.{event.status}"),
                                   name=event.actor_name or "?",
                                   day=format_date(event.at.astimezone(ctx.settings.zone).date(), "d MMMM y",
                                                   locale=lang))
                                 + (f": {event.note}" if event.note else "")))
        return Reply(tuple(parts))

    async def find(self, ctx: HandlerContext, number: int | str) -> IdeaRecord:
        found = number if isinstance(number, int) else number_of(number)
        idea = await ctx.repos.ideas.get(found) if found is not None and possible_id(found) else None
        if idea is None:
            raise UserError(ctx.t("circles.no_idea", nr=number, p=ctx.prefix))
        return idea

    async def theme_pressed(self, ctx: HandlerContext, action: Action) -> Outcome:
        number, _, tag = action.value.partition("\t")
        idea = await self.find(ctx, number)
        if idea.theme:
            return Reply.text(ctx.t("circles.theme_already", nr=idea.id, theme=idea.theme))
        added = await self.give_theme(ctx, idea, await self.theme_of(ctx, tag))
        return Reply(added.parts, replace_original=True)

    async def give_theme(self, ctx: HandlerContext, idea: IdeaRecord, theme: str) -> Reply:
        await ctx.repos.ideas.set_theme(idea.id, theme, ctx.now)
        themed_idea = await ctx.repos.ideas.get(idea.id)
        assert themed_idea is not None
        await self.confirm(ctx, themed_idea)
        return Reply.text(ctx.t("circles.added", nr=idea.id, theme=theme))

    # -- messages and reactions in the channels -----------------------------------------------------

    async def listen(self, ctx: HandlerContext, inp: Listened) -> Outcome:
        if isinstance(inp, Reaction):
            return await self.reacted(ctx, inp) if inp.emoji.replace("\ufe0f", "") == IDEA_EMOJI else None
        if inp.change is Change.NEW:
            return await self.answer_question(ctx, inp)
        return await self.message_changed(ctx, inp)

    async def answer_question(self, ctx: HandlerContext, inp: ChannelMessage) -> Outcome:
        """A question for help in a channel that opted in: up to three members who know, in its thread.
        Once per message (the delivery is handled once; edits are not asked again)."""
        if not ctx.settings.listens_for_questions(inp.channel, ctx.actor.platform):
            return None
        experts = await self.questions.experts_for(ctx.repos, inp.text, asker_id=ctx.member.id)
        if experts is None:
            return None
        if (held := await hold_back(ctx, inp, inp.text)) is not None:
            return held
        return self.experts_reply(ctx, experts, Audience.THREAD)

    @staticmethod
    def experts_reply(ctx: HandlerContext, experts: Experts, audience: Audience) -> Reply:
        t = ctx.t
        items = [Item(hit.holder.name, tuple(x for x in (holder_line(ctx, hit.holder),) if x),
                      mention=mention(hit.holder))
                 for hit in experts.hits if isinstance(hit.holder, MemberRecord)]
        return Reply((Text(t.plural("circles.experts", len(items), topic=experts.topic)), *items,
                      Context(t("circles.experts_more", p=ctx.prefix, topic=experts.topic))), audience=audience)

    async def who_knows(self, ctx: HandlerContext, action: Action) -> Outcome:
        """"Wie weet dit?" on a message, in any channel: its experts, for the asker's eyes only."""
        inp = message_of(ctx, action)
        experts = await self.questions.experts_about(ctx.repos, inp.message_text, asker_id=ctx.member.id)
        if experts is None:
            return Reply.text(ctx.t("home.who_knows_none"))
        return self.experts_reply(ctx, experts, Audience.ACTOR)

    async def make_pressed(self, ctx: HandlerContext, action: Action) -> Outcome:
        """"Maak er een idee van" on a message: as a 💡, in the outer circle's channel, or anywhere for coordinators."""
        inp = message_of(ctx, action)
        outer = ctx.settings.channel("outer_circle", ctx.actor.platform)
        if not outer or inp.channel != outer:
            if not ctx.is_coordinator:
                raise UserError(ctx.t("home.idea_where"))
            ctx.acts_as_coordinator()
        return await self.from_message(ctx, inp, action)

    async def reacted(self, ctx: HandlerContext, inp: Reaction) -> Outcome:
        """A 💡 under a message in the outer circle: the message becomes an idea."""
        outer = ctx.settings.channel("outer_circle", ctx.actor.platform)
        if not outer or inp.channel != outer:
            return None  # a light bulb elsewhere is just a light bulb
        return await self.from_message(ctx, inp, inp)

    async def from_message(self, ctx: HandlerContext, inp: Reaction, held_as: Input) -> Outcome:
        """The message `inp` is under becomes an idea (`held_as`: the input run again after "Toch delen")."""
        t = ctx.t
        source = source_of(inp, inp.message_id)
        if (same := await ctx.repos.ideas.by_source(source)) is not None:
            return Reply.text(t("circles.already_message", nr=same.id, p=ctx.prefix))
        text = " ".join(inp.message_text.split())[:MAX_IDEA]
        if has_control(text, multiline=False) or len(text) < 3:
            raise UserError(t("circles.unreadable", p=ctx.prefix))
        if (held := await hold_back(ctx, held_as, text)) is not None:
            return held
        author = ctx.member
        if inp.message_author is not None:
            author = await ctx.repos.members.of_account(inp.message_author.platform, inp.message_author.user_id,
                                                        name=inp.message_author.name, now=ctx.now)
        tag, _ = themed(text)
        theme = await self.theme_of(ctx, tag) if tag else ""
        idea = await self.make(ctx, text=text, theme=theme, source=source, channel=inp.channel,
                               thread=inp.thread_id or inp.message_id, link=inp.link, author=author)
        if not theme:
            return self.ask_theme(ctx, idea, await self.themes(ctx.repos, ctx.settings.idea_themes))
        await self.confirm(ctx, idea)
        return None

    async def message_changed(self, ctx: HandlerContext, inp: ChannelMessage) -> Outcome:
        """An idea follows its message: an edit changes its text, a deletion marks its source as gone
        (the idea itself stays: the inner circle may be working on it)."""
        source = source_of(inp, inp.message_id)
        if inp.change is Change.EDITED:
            text = " ".join(inp.text.split())[:MAX_IDEA]
            if len(text) >= 3 and not has_control(text, multiline=False):
                if await ctx.repos.ideas.by_source(source) is None:
                    return None
                if (held := await hold_back(ctx, inp, text)) is not None:
                    return held
                await ctx.repos.ideas.edit_text(source, text, fold(text), ctx.now)
        elif inp.change is Change.DELETED:
            await ctx.repos.ideas.source_deleted(source, ctx.now)
        return None

    # -- the inner circle's buttons ------------------------------------------------------------------

    async def pick_up_pressed(self, ctx: HandlerContext, action: Action) -> Outcome:
        idea = await self.find(ctx, action.value)
        self.require_open(ctx, idea, (NEW, PARKED))
        t = ctx.t
        return Form("idee.oppakken", t("circles.pick_up_title", nr=idea.id), (
            FormField("due", t("circles.field_due"), FieldKind.DATETIME, required=False,
                      hint=t("circles.field_due_hint")),
            FormField("note", t("circles.field_note"), FieldKind.LONG_TEXT, required=False, max_length=500,
                      hint=shorten(idea.text, 150)),
        ), t("circles.pick_up_submit"), state=str(idea.id))

    def require_open(self, ctx: HandlerContext, idea: IdeaRecord, allowed: Sequence[str]) -> None:
        t = ctx.t
        if idea.status in allowed:
            return
        if idea.status == PICKED_UP:
            raise UserError(t("circles.is_picked_up", nr=idea.id, name=idea.owner_name or "?"))
        raise UserError(t("circles.is_status", nr=idea.id, status=t(f"circles.status.{idea.status}")))

    async def pick_up_submitted(self, ctx: HandlerContext, form: FormSubmission) -> Outcome:
        t = ctx.t
        idea = await self.find(ctx, form.state)
        errors: dict[str, str] = {}
        due: date | None = None
        due_text = form.values.get("due", "").strip()
        if due_text:
            try:
                moment = parse_moment(due_text, ctx.now, ctx.settings.language)
                if moment is None:
                    errors["due"] = t("circles.due_unreadable", text=shorten(due_text, 40))
                elif moment.date() < ctx.now.date():
                    errors["due"] = t("circles.due_past")
                else:
                    due = moment.date()
            except UnclearDate as unclear:  # "volgende vrijdag": which one?
                errors["due"] = unclear.message
        try:
            note = clean(form.values.get("note", ""), t, what=t("circles.field_note"), max_length=500,
                         required=False, multiline=True)
        except UserError as error:
            errors["note"] = error.message
            note = ""
        if errors:
            raise FormErrors(errors)
        self.require_open(ctx, idea, (NEW, PARKED))
        if not await ctx.repos.ideas.move(idea.id, PICKED_UP, by=ctx.member.id, now=ctx.now, from_status=(NEW, PARKED),
                                          owner_id=ctx.member.id, due=due, note=note):
            raise UserError(t("circles.moved_meanwhile", nr=idea.id))
        day = format_date(due, "d MMMM y", locale=ctx.settings.language) if due else ""
        await self.tell_author(ctx, idea, PICKED_UP, t("circles.news_picked_up", nr=idea.id, name=ctx.member.name)
                               + (" " + t("circles.news_due", day=day) if due else ""))
        await self.digests.touch_digest(ctx, idea)
        return Reply.text(t("circles.picked_up", nr=idea.id) + (" " + t("circles.news_due", day=day) if due else ""))

    async def park_pressed(self, ctx: HandlerContext, action: Action) -> Outcome:
        idea = await self.find(ctx, action.value)
        self.require_open(ctx, idea, (NEW, PICKED_UP))
        if not await ctx.repos.ideas.move(idea.id, PARKED, by=ctx.member.id, now=ctx.now,
                                          from_status=(NEW, PICKED_UP)):
            raise UserError(ctx.t("circles.moved_meanwhile", nr=idea.id))
        await self.digests.touch_digest(ctx, idea)
        return Reply.text(ctx.t("circles.parked", nr=idea.id))

    async def done_pressed(self, ctx: HandlerContext, action: Action) -> Outcome:
        idea = await self.find(ctx, action.value)
        self.require_open(ctx, idea, (NEW, PARKED, PICKED_UP))
        if not await ctx.repos.ideas.move(idea.id, DONE, by=ctx.member.id, now=ctx.now,
                                          from_status=(NEW, PARKED, PICKED_UP),
                                          owner_id=idea.owner_id, due=idea.due):
            raise UserError(ctx.t("circles.moved_meanwhile", nr=idea.id))
        await self.tell_author(ctx, idea, DONE, ctx.t("circles.news_done", nr=idea.id, name=ctx.member.name))
        await self.digests.touch_digest(ctx, idea)
        return Reply.text(ctx.t("circles.done", nr=idea.id))

    async def tell_author(self, ctx: HandlerContext, idea: IdeaRecord, event: str, news: str) -> None:
        """In the thread of the idea's message; an idea typed as a command has the bot's confirmation as
        its message, once that was posted; else (or without a channel) a direct message."""
        thread, channel = idea.thread, idea.channel
        if not thread:
            posted = await ctx.repos.outbox.by_key(f"idea:{idea.id}")
            thread = posted.message_ref if posted and posted.sent_at else ""
        author = await ctx.repos.members.get(idea.author_id) if idea.author_id else None
        if author is None:
            return
        reply = Reply((Item(author.name, (news, shorten(idea.text, 150)), mention=mention(author)),), thread=thread)
        target = channel if thread and channel else f"member:{author.id}"
        await ctx.post(target, reply, key=f"idea:{idea.id}:{event}:{ctx.now.isoformat()}")
