"""`/expertise`: who knows what in the cooperation, and how to reach them.

    /expertise                      overview: every topic with how many hold it
    /expertise gedrag               who knows about it, ranked, with a way to reach them
    /expertise toevoegen [a, b]     register topics (a form when no topics are given)
    /expertise toevoegen voor X: a  coordinators, for a member or an organisation
    /expertise mijn                 your own topics, with "nog actueel" and "verwijderen"
    /expertise verwijderen a        remove one of your topics
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, tzinfo
from functools import lru_cache

from dateutil.relativedelta import relativedelta

from bot.core.errors import FormErrors, UserError
from bot.core.inputs import Action, Command, FormSubmission
from bot.core.numbers import MAX_ID, id_of, number_of
from bot.core.reply import (
    Actions,
    Audience,
    Button,
    Context,
    FieldKind,
    Form,
    FormField,
    Heading,
    Item,
    Mention,
    Outcome,
    Reply,
    Style,
    Text,
)
from config.i18n import Catalog
from handlers.context import Feature, HandlerContext
from handlers.dates import long_date, older_than_months
from handlers.expertise import parser
from handlers.expertise.analysis import index_terms, topic_key
from handlers.expertise.search import ExpertiseSearch
from handlers.names import pick
from handlers.pupils.guard import hold_back
from handlers.text import clean
from storage.records import ExpertiseRecord, Holder, HolderHit, MemberRecord, OrganisationRecord, SearchPage

MAX_DESCRIPTION = 500
SEARCH = "expertise.zoeken"
OVERVIEW_PAGE = 20
ENTRIES_SHOWN = 3
MADE_PAGES = 1024  # pages whose replies are kept made


def mention(member: MemberRecord) -> Mention:
    return Mention(name=member.name, identities=member.identities)


@lru_cache(maxsize=8192)  # every search shows the same entries again: made once (issue 19, the ack's time)
def _entry_line(t: Catalog, topic: str, description: str, confirmed_at: datetime, zone: tzinfo | None,
                stale: bool) -> str:
    confirmed = long_date(confirmed_at, t.language, datetime.now(zone))
    text = t("expertise.entry", topic=topic, confirmed=confirmed)
    if description:
        text = t("expertise.entry_described", topic=topic, description=description, confirmed=confirmed)
    if stale:
        text += " " + t("expertise.possibly_outdated")
    return text


def holder_line(ctx: HandlerContext, holder: Holder) -> str:
    t = ctx.t
    if isinstance(holder, OrganisationRecord):
        kind = t(f"kinds.{holder.kind}") if t.has(f"kinds.{holder.kind}") else holder.kind
        return " · ".join(p for p in (kind, holder.werkgebied) if p)
    role = t(f"roles.{holder.role}") if t.has(f"roles.{holder.role}") else ""
    org = holder.organisation
    return " · ".join(p for p in (holder.title or role, org.name if org else "", org.werkgebied if org else "") if p)


class ExpertiseFeature:
    def __init__(self, search: ExpertiseSearch) -> None:
        self.search = search
        # a cached page's reply as everyone but its holders and coordinators sees it, per platform, language,
        # query as typed and kind, with the moment the first entry on it turns stale (the search caches pages
        # per version)
        self._made: dict[tuple[int, str, str, str, bool], tuple[SearchPage, datetime, Reply]] = {}

    def feature(self) -> Feature:
        f = Feature("expertise")
        f.command("expertise", self.command, asks=parser.asks)
        f.action("expertise.page", self.page)
        f.action("expertise.overview", self.overview_page)
        f.action("expertise.search", self.search_topic)
        f.action("expertise.confirm", self.confirm)
        f.action("expertise.remove", self.remove_button)
        f.action("expertise.contact", self.contact)
        f.action("expertise.form", self.open_form)
        f.form("expertise.add", self.submit_form)
        f.action(SEARCH, self.search_form)  # Slack's shortcut "Expertise zoeken" (issue 17)
        f.form(SEARCH, self.search_submitted)
        return f

    async def command(self, ctx: HandlerContext, cmd: Command) -> Outcome:
        request = parser.parse(cmd.text, ctx.t)
        match request:
            case parser.Overview():
                return await self.overview(ctx, 0)
            case parser.Search(query):
                return await self.results(ctx, query, 0)
            case parser.AddForm():
                return self.form(ctx)
            case parser.Add(topics, holder_name):
                holder = await self.holder(ctx, holder_name)
                return await self.add(ctx, holder, topics, "")
            case parser.Mine():
                return await self.mine(ctx)
            case parser.Remove(topic, holder_name):
                holder = await self.holder(ctx, holder_name)
                return await self.remove(ctx, holder, topic)
        raise AssertionError(request)

    # -- searching -------------------------------------------------------------------------------

    async def results(self, ctx: HandlerContext, query: str, offset: int, *, replace: bool = False) -> Reply:
        """A page of results. Made once for everyone who is no holder on it and no coordinator (they alone see
        their own buttons), until an entry on it turns stale: the same search asked again is the same reply
        object, which the Slack adapter also renders once (issue 19)."""
        t, size = ctx.t, ctx.settings.expertise_page_size
        page = await self.search.search(ctx.repos, query, limit=size, offset=offset)
        if not page.hits:
            return await self.nothing_found(ctx, query)
        own = ctx.is_coordinator or any(isinstance(hit.holder, MemberRecord) and hit.holder.id == ctx.member.id
                                        for hit in page.hits)
        key = (id(page), ctx.actor.platform, t.language, query, replace)
        kept = None if own else self._made.get(key)
        if kept is not None and kept[0] is page and ctx.now < kept[1]:
            return kept[2]
        parts: list[Heading | Context | Item | Actions] = [
            Heading(t("expertise.results_heading", query=query)),
            Context(t("expertise.results_count", total=page.total, first=offset + 1,
                      last=offset + len(page.hits))),
        ]
        parts += (self.hit_item(ctx, hit) for hit in page.hits)
        if offset + size < page.total:
            parts.append(Actions((Button(t("expertise.more"), "expertise.page", f"{offset + size}\t{query}"),)))
        reply = Reply(tuple(parts), replace_original=replace)
        if not own:
            months = relativedelta(months=ctx.settings.expertise_stale_months)
            fresh_until = min((entry.confirmed_at + months for hit in page.hits
                               for entry in hit.entries[:ENTRIES_SHOWN] if not self.stale(ctx, entry)),
                              default=datetime.max.replace(tzinfo=UTC))
            if len(self._made) >= MADE_PAGES:
                self._made.clear()
            self._made[key] = (page, fresh_until, reply)
        return reply

    async def nothing_found(self, ctx: HandlerContext, query: str) -> Reply:
        t = ctx.t
        nearest = self.search.nearest_topics(query, await ctx.repos.expertise.topic_counts())
        if not nearest:
            return Reply((Text(t("expertise.no_results", query=query)),
                          Context(t("expertise.no_results_hint", p=ctx.prefix))))
        return Reply((
            Text(t("expertise.no_results_nearest", query=query)),
            Actions(tuple(Button(n.topic, "expertise.search", n.topic) for n in nearest)),
        ))

    def hit_item(self, ctx: HandlerContext, hit: HolderHit) -> Item:
        t, holder = ctx.t, hit.holder
        lines = [line for line in (holder_line(ctx, holder),) if line]
        buttons: list[Button] = []
        for entry in hit.entries[:ENTRIES_SHOWN]:
            stale = self.stale(ctx, entry)
            lines.append(self.entry_line(ctx, entry, stale))
            if stale and self.may_edit(ctx, entry):
                buttons.append(Button(t("expertise.still_current", topic=entry.topic), "expertise.confirm",
                                      str(entry.id), Style.PRIMARY))
        if len(hit.entries) > ENTRIES_SHOWN:
            lines.append(t("expertise.more_topics", count=len(hit.entries) - ENTRIES_SHOWN))
        reach = None
        if isinstance(holder, MemberRecord):
            reach = mention(holder)
            if holder.id != ctx.member.id and reach.user_id(ctx.actor.platform):
                buttons.append(Button(t("expertise.send_message"), "expertise.contact",
                                      f"{holder.id}\t{hit.entries[0].topic}"))
        return Item(title=holder.name, lines=tuple(lines), mention=reach, buttons=tuple(buttons[:3]))

    def entry_line(self, ctx: HandlerContext, entry: ExpertiseRecord, stale: bool) -> str:
        return _entry_line(ctx.t, entry.topic, entry.description, entry.confirmed_at, ctx.now.tzinfo, stale)

    def stale(self, ctx: HandlerContext, entry: ExpertiseRecord) -> bool:
        return older_than_months(entry.confirmed_at, ctx.settings.expertise_stale_months, ctx.now)

    async def overview(self, ctx: HandlerContext, offset: int, *, replace: bool = False) -> Reply:
        t = ctx.t
        counts = await ctx.repos.expertise.topic_counts()
        if not counts:
            return Reply.text(t("expertise.overview_empty", p=ctx.prefix))
        shown = counts[offset:offset + OVERVIEW_PAGE]
        parts: list[Heading | Context | Item | Actions] = [
            Heading(t("expertise.overview_heading")),
            Context(t("expertise.overview_count", topics=len(counts), p=ctx.prefix)),
        ]
        for c in shown:
            parts.append(Item(title=c.topic, lines=(self.holder_counts(ctx, c.members, c.organisations),),
                              buttons=(Button(t("expertise.show"), "expertise.search", c.topic),)))
        if offset + OVERVIEW_PAGE < len(counts):
            parts.append(Actions((Button(t("expertise.more"), "expertise.overview",
                                         str(offset + OVERVIEW_PAGE)),)))
        return Reply(tuple(parts), replace_original=replace)

    @staticmethod
    def holder_counts(ctx: HandlerContext, members: int, organisations: int) -> str:
        t = ctx.t
        parts = [t.plural("expertise.people", members)] if members else []
        if organisations:
            parts.append(t.plural("expertise.organisations", organisations))
        return ", ".join(parts)

    async def page(self, ctx: HandlerContext, action: Action) -> Outcome:
        typed, _, query = action.value.partition("\t")
        offset = number_of(typed)
        if offset is None or offset > MAX_ID or not query:
            raise UserError(ctx.t("errors.unknown_action"))
        return await self.results(ctx, query, offset, replace=True)

    async def overview_page(self, ctx: HandlerContext, action: Action) -> Outcome:
        offset = number_of(action.value)
        if offset is None or offset > MAX_ID:
            raise UserError(ctx.t("errors.unknown_action"))
        return await self.overview(ctx, offset, replace=True)

    async def search_topic(self, ctx: HandlerContext, action: Action) -> Outcome:
        return await self.results(ctx, clean(action.value, ctx.t, what=ctx.t("expertise.what_topic")), 0)

    async def search_form(self, ctx: HandlerContext, action: Action) -> Outcome:
        t = ctx.t
        return Form(SEARCH, t("home.search_title"), (FormField("query", t("home.search_field"),
                                                               hint=t("home.search_hint"), max_length=200),),
                    t("home.search_submit"))

    async def search_submitted(self, ctx: HandlerContext, form: FormSubmission) -> Outcome:
        """The results replace the form's content where the platform can (Slack: in the modal, to search again)."""
        t = ctx.t
        try:
            query = clean(form.values.get("query", ""), t, what=t("expertise.what_topic"), max_length=200)
        except UserError as error:
            raise FormErrors({"query": error.message}) from None
        found = await self.results(ctx, query, 0)
        return dataclasses.replace(found, replace_original=True)

    # -- registering ------------------------------------------------------------------------------

    async def holder(self, ctx: HandlerContext, name: str) -> Holder:
        """The actor, or, for coordinators, the member or organisation they name."""
        t = ctx.t
        if not name:
            return ctx.member
        if not ctx.is_coordinator:
            raise UserError(t("expertise.for_only_coordinators"))
        ctx.acts_as_coordinator()
        organisations = await ctx.repos.organisations.all()
        members = await ctx.repos.members.all()
        holders: list[Holder] = [*organisations, *members]
        return pick(name, holders, t)

    def form(self, ctx: HandlerContext, topics: str = "") -> Form:
        t = ctx.t
        fields = [
            FormField("topics", t("expertise.form_topics"), hint=t("expertise.form_topics_hint"),
                      initial=topics, max_length=parser.MAX_TOPIC * parser.MAX_TOPICS),
            FormField("description", t("expertise.form_description"), FieldKind.LONG_TEXT, required=False,
                      hint=t("expertise.form_description_hint"), max_length=MAX_DESCRIPTION),
        ]
        if ctx.is_coordinator:
            fields.append(FormField("holder", t("expertise.form_holder"), required=False,
                                    hint=t("expertise.form_holder_hint"), max_length=200))
        return Form("expertise.add", t("expertise.form_title"), tuple(fields), t("expertise.form_submit"))

    async def open_form(self, ctx: HandlerContext, action: Action) -> Outcome:
        return self.form(ctx, action.value)

    async def submit_form(self, ctx: HandlerContext, form: FormSubmission) -> Outcome:
        t = ctx.t
        errors: dict[str, str] = {}
        topics: tuple[str, ...] = ()
        description = ""
        holder: Holder = ctx.member
        try:
            topics = parser.parse_topics(clean(form.values.get("topics", ""), t, what=t("expertise.what_topics"),
                                               max_length=parser.MAX_TOPIC * parser.MAX_TOPICS, required=False), t)
        except UserError as error:
            errors["topics"] = error.message
        try:
            description = clean(form.values.get("description", ""), t, what=t("expertise.what_description"),
                                max_length=MAX_DESCRIPTION, multiline=True, required=False)
        except UserError as error:
            errors["description"] = error.message
        try:
            name = clean(form.values.get("holder", ""), t, what=t("expertise.what_holder"), max_length=200,
                         required=False)
            holder = await self.holder(ctx, name)
        except UserError as error:
            errors["holder"] = error.message
        if errors:
            raise FormErrors(errors)
        if (held := await hold_back(ctx, form, description, *topics)) is not None:
            return held
        return await self.add(ctx, holder, topics, description)

    async def add(self, ctx: HandlerContext, holder: Holder, topics: tuple[str, ...], description: str) -> Reply:
        t = ctx.t
        added: list[str] = []
        confirmed: list[str] = []
        for topic in topics:
            new = await ctx.repos.expertise.save(holder=holder, topic=topic, topic_key=topic_key(topic),
                                                 description=description,
                                                 terms=index_terms(topic, description), now=ctx.now)
            (added if new else confirmed).append(topic)
        lines = []
        who = "" if holder == ctx.member else t("expertise.for_holder", name=holder.name)
        if added:
            lines.append(t("expertise.added", topics=", ".join(added), who=who))
        if confirmed:
            lines.append(t("expertise.reconfirmed", topics=", ".join(confirmed), who=who))
        parts: list[Text | Actions] = [Text("\n".join(lines))]
        if not description:
            parts.append(Actions((Button(t("expertise.add_description"), "expertise.form", ", ".join(topics)),)))
        return Reply(tuple(parts))

    async def mine(self, ctx: HandlerContext) -> Reply:
        t = ctx.t
        entries = await ctx.repos.expertise.of_holder(ctx.member)
        if not entries:
            return Reply.text(t("expertise.mine_empty", p=ctx.prefix))
        items = []
        for entry in entries:
            stale = self.stale(ctx, entry)
            buttons = [Button(t("expertise.remove"), "expertise.remove", str(entry.id), Style.DANGER)]
            if stale:
                buttons.insert(0, Button(t("expertise.still_current", topic=entry.topic), "expertise.confirm",
                                         str(entry.id), Style.PRIMARY))
            items.append(Item(title=entry.topic, lines=(self.entry_line(ctx, entry, stale),), buttons=tuple(buttons)))
        return Reply((Heading(t("expertise.mine_heading")), *items))

    async def remove(self, ctx: HandlerContext, holder: Holder, topic: str) -> Reply:
        t = ctx.t
        if not await ctx.repos.expertise.remove(holder, topic_key(topic)):
            own = ", ".join(e.topic for e in await ctx.repos.expertise.of_holder(holder)) or "-"
            raise UserError(t("expertise.remove_unknown", topic=topic, topics=own))
        return Reply.text(t("expertise.removed", topic=topic))

    # -- buttons on entries -----------------------------------------------------------------------

    def may_edit(self, ctx: HandlerContext, entry: ExpertiseRecord) -> bool:
        holder = entry.holder
        return ctx.is_coordinator or (isinstance(holder, MemberRecord) and holder.id == ctx.member.id)

    async def entry(self, ctx: HandlerContext, action: Action) -> ExpertiseRecord:
        entry_id = id_of(action.value)
        entry = await ctx.repos.expertise.get(entry_id) if entry_id is not None else None
        if entry is None:
            raise UserError(ctx.t("expertise.entry_gone"))
        if not self.may_edit(ctx, entry):
            raise UserError(ctx.t("expertise.not_yours"))
        return entry

    async def confirm(self, ctx: HandlerContext, action: Action) -> Outcome:
        entry = await self.entry(ctx, action)
        await ctx.repos.expertise.confirm(entry.id, ctx.now)
        return Reply.text(ctx.t("expertise.confirmed", topic=entry.topic))

    async def remove_button(self, ctx: HandlerContext, action: Action) -> Outcome:
        entry = await self.entry(ctx, action)
        await ctx.repos.expertise.remove(entry.holder, entry.topic_key)
        return Reply.text(ctx.t("expertise.removed", topic=entry.topic))

    async def contact(self, ctx: HandlerContext, action: Action) -> Outcome:
        t = ctx.t
        member_id, _, topic = action.value.partition("\t")
        other_id = id_of(member_id)
        other = await ctx.repos.members.get(other_id) if other_id is not None else None
        if other is None:
            raise UserError(t("expertise.member_gone"))
        target = mention(other)
        if not target.user_id(ctx.actor.platform) or other.id == ctx.member.id:
            raise UserError(t("expertise.unreachable", name=other.name))
        text = t("expertise.introduction", asker=ctx.member.name, other=other.name, topic=topic or "-")
        return Reply((Text(text),), audience=Audience.GROUP, group=(target,))
