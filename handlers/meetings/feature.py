"""`/overleg`: the rhythm of the meeting series, their agendas, and the reminders the bot sends.

    /overleg [reeks]                        the next 4 meetings held of the channel's series (or the named
                                            one), the skipped ones between them in one line per run
    /overleg agenda                         the agenda of the next meeting
    /overleg agenda <punt>                  add a point to it
    /overleg schrappen <nr>                 remove a point (its author or a coordinator)
    /overleg overslaan <datum> [: reden]    coordinators: skip one meeting
    /overleg verplaatsen <datum> naar <datum en tijd>   coordinators: move one meeting
    /overleg instellen                      coordinators: change the series (a form)
    /overleg gemist                         coordinators: reminders that could not go out, and why

The series come from the meetings file (config/meetings.toml) with coordinators' edits from the
database over it. The planner turns the coming weeks' meetings into reminder occurrences; the job
writes each reminder into the outbox when it falls due, with the agenda as it is at that moment.
A skip, a move or a changed series is replanned in the transaction of the change, so no reminder
of the old time goes out; the skip or move itself is the one notice of it in the channel.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta

from babel.dates import format_date, format_time

from bot.core.errors import FormErrors, UserError
from bot.core.inputs import Action, Command, FormSubmission
from bot.core.numbers import number_of, possible_id
from bot.core.reply import (
    Button,
    Choice,
    Context,
    FieldKind,
    Form,
    FormField,
    Heading,
    Item,
    Outcome,
    Part,
    Reply,
    Style,
    Text,
)
from config.i18n import Catalog
from handlers.context import Feature, HandlerContext, JobContext
from handlers.dates import day_list, parse_moment
from handlers.meetings.rhythm import (
    REGIONS,
    WEEKDAYS,
    Meeting,
    Reminder,
    Series,
)
from handlers.meetings.series import MeetingSeries, apply_edits, read_settings
from handlers.pupils.guard import hold_back
from handlers.text import clean, fold
from storage.records import PlannedOccurrence
from storage.repositories import Repositories

KIND = "meeting.reminder"
HORIZON = timedelta(weeks=8)  # reminders are planned this far ahead (the longest lead is a week)
SHOWN = 4
MAX_AGENDA_ITEM = 300
MISSED_SINCE = timedelta(days=60)


class Meetings(MeetingSeries):
    def feature(self) -> Feature:
        f = Feature("meetings")
        f.command("overleg", self.command)
        f.action("overleg.schrappen", self.remove_pressed)
        f.form("overleg.instellen", self.settings_submitted)
        f.plan(self.plan)
        f.job(KIND, self.remind)
        return f

    # -- planning and sending reminders --------------------------------------------------------------

    async def plan(self, ctx: JobContext) -> None:
        """Every reminder of the coming weeks as an occurrence; a skipped meeting keeps only its first.

        The key holds the start, so a moved meeting is announced again at its new moment.
        """
        wanted: list[PlannedOccurrence] = []
        today = ctx.now.date()
        for series in await self.all_series(ctx.repos):
            for meeting in await self.meetings_between(ctx.repos, series, today - timedelta(days=1), today + HORIZON):
                reminders = sorted(series.reminders, key=lambda r: r.due(meeting.start))
                for reminder in reminders[:1] if meeting.skipped else reminders:
                    wanted.append(PlannedOccurrence(
                        key=f"{KIND}:{series.key}:{meeting.planned.isoformat()}:{reminder.key}:"
                            f"{meeting.start.astimezone(series.zone):%Y%m%dT%H%M}",
                        kind=KIND, due_at=reminder.due(meeting.start), expires_at=meeting.start,
                        payload={"series": series.key, "planned": meeting.planned.isoformat(),
                                 "reminder": reminder.key}))
        await ctx.repos.occurrences.plan(KIND, wanted, ctx.now)

    async def remind(self, ctx: JobContext) -> None:
        """The job of a reminder occurrence: the message, as things are now, into the outbox."""
        occurrence = ctx.due
        found = {s.key: s for s in await self.all_series(ctx.repos)}.get(occurrence.payload["series"])
        if found is None:
            return  # the series was taken out of the file
        planned = date.fromisoformat(occurrence.payload["planned"])
        held = await self.meetings_between(ctx.repos, found, planned, planned)
        reminder = next((r for r in found.reminders if r.key == occurrence.payload["reminder"]), None)
        if not held or reminder is None:
            return
        if not occurrence.key.endswith(f":{held[0].start.astimezone(found.zone):%Y%m%dT%H%M}"):
            return  # planned for a start the meeting no longer has (moved since): the replan made a new one
        if held[0].skipped and reminder != min(found.reminders, key=lambda r: r.due(held[0].start)):
            return  # a skipped meeting is told once, by its first reminder
        reply = await self.reminder_reply(ctx, found, held[0], reminder, occurrence.due_at)
        await ctx.post(found.channel, reply, key=occurrence.key)

    async def reminder_reply(self, ctx: JobContext, series: Series, meeting: Meeting, reminder: Reminder,
                             due: datetime) -> Reply:
        t, lang = ctx.t, ctx.settings.language
        day = format_date(meeting.start.date(), "EEEE d MMMM", locale=lang)
        parts: list[Part] = []
        if meeting.skipped:
            parts.append(Heading(t("meetings.none_heading", title=series.title, day=day)))
            parts.append(Text(t("meetings.none_reason", reason=meeting.skipped)))
            after = await self.upcoming(ctx.repos, series, meeting.end, SHOWN)
            held = next((m for m in after if not m.skipped), None)
            if held is not None:
                parts.append(Text(t("meetings.next_one", when=describe(held, lang))))
        else:
            parts.append(Heading(f"{series.title} – {meeting.type}" if meeting.type else series.title))
            parts.append(Text(t("meetings.reminder", when=lead(reminder, meeting, ctx.now, t), day=day,
                                start=clock(meeting.start, lang), end=clock(meeting.end, lang))))
            if reminder.agenda:
                parts.extend(await self.agenda_parts(ctx.repos, series, meeting, t, ctx.settings.language, None))
        if ctx.late:
            planned_for = format_date(due.astimezone(series.zone).date(), "EEEE d MMMM", locale=lang)
            parts.append(Context(t("meetings.late", when=f"{planned_for} {clock(due.astimezone(series.zone), lang)}")))
        return Reply(tuple(parts))

    async def agenda_parts(self, repos: Repositories, series: Series, meeting: Meeting, t: Catalog, lang: str,
                           ctx: HandlerContext | None) -> list[Part]:
        items = await repos.meetings.agenda(series.key, meeting.planned)
        if not items:
            return [Text(t("meetings.agenda_empty", p=ctx.prefix if ctx else "/"))]
        parts: list[Part] = [Text(t("meetings.agenda_heading"))]
        for item in items:
            may_remove = ctx is not None and (ctx.is_coordinator or item.author_id == ctx.member.id)
            buttons = (Button(t("meetings.remove_button"), "overleg.schrappen", str(item.id), Style.DANGER),) \
                if may_remove else ()
            parts.append(Item(item.text, (t("meetings.agenda_by", nr=item.id, name=item.author_name or "?"),),
                              buttons=buttons))
        return parts

    # -- /overleg --------------------------------------------------------------------------------------

    async def command(self, ctx: HandlerContext, cmd: Command) -> Outcome:
        t = ctx.t
        text = clean(cmd.text, t, what=t("meetings.what_command"), required=False, max_length=MAX_AGENDA_ITEM + 40)
        all_series = await self.all_series(ctx.repos)
        if not all_series:
            raise UserError(t("meetings.no_series"))
        word, _, rest = text.partition(" ")
        named = {s.key: s for s in all_series}.get(fold(word))
        if named is not None:
            series = named
            word, _, rest = rest.strip().partition(" ")
        else:
            series = self.series_of_channel(ctx, all_series, cmd.channel)
        rest = rest.strip()
        match fold(word):
            case "":
                return await self.overview(ctx, series, all_series)
            case "agenda" if not rest:
                return await self.show_agenda(ctx, series)
            case "agenda":
                item = clean(rest, t, what=t("meetings.what_item"), max_length=MAX_AGENDA_ITEM)
                if (held := await hold_back(ctx, cmd, item)) is not None:
                    return held
                return await self.add_item(ctx, series, item)
            case "schrappen":
                return await self.remove_item(ctx, rest)
            case "overslaan":
                return await self.skip(ctx, series, rest)
            case "verplaatsen":
                return await self.move(ctx, series, rest)
            case "instellen":
                return self.settings_form(ctx, series)
            case "gemist":
                return await self.missed(ctx)
        raise UserError(t("meetings.unknown", p=ctx.prefix, word=word))

    def series_of_channel(self, ctx: HandlerContext, all_series: list[Series], channel: str) -> Series:
        """The series whose channel this is; elsewhere (the terminal, a DM) the first of the file."""
        for series in all_series:
            if channel and ctx.settings.channel(series.channel, ctx.actor.platform) == channel:
                return series
        return all_series[0]

    async def overview(self, ctx: HandlerContext, series: Series, all_series: list[Series]) -> Reply:
        """The next SHOWN meetings that are held; the skipped ones before and between them as one line
        per run with the same reason ("Geen overleg op 22 en 29 december: kerstvakantie")."""
        t, lang = ctx.t, ctx.settings.language
        parts: list[Part] = [Heading(series.title)]
        coming = await self.upcoming(ctx.repos, series, ctx.now, SHOWN * 6)
        held = [m for m in coming if not m.skipped][:SHOWN]
        if held:
            coming = [m for m in coming if m.start <= held[-1].start]
        counts = await ctx.repos.meetings.agenda_counts(series.key, [m.planned for m in held])
        skipped: list[Meeting] = []
        for meeting in [*coming, None]:
            if skipped and (meeting is None or meeting.skipped != skipped[0].skipped):
                parts.append(Text(t("defects.skipped_run", days=day_list([m.start.date() for m in skipped], lang),
                                    reason=skipped[0].skipped)))
                skipped = []
            if meeting is None:
                break
            if meeting.skipped:
                skipped.append(meeting)
                continue
            count = counts.get(meeting.planned, 0)
            lines = tuple(x for x in (meeting.type, t("meetings.moved") if meeting.moved else "",
                                      t.plural("meetings.items", count) if count else "") if x)
            parts.append(Item(describe(meeting, lang, with_type=False), lines))
        parts.append(Context(rhythm_line(series, t, lang)))
        others = [s.key for s in all_series if s.key != series.key]
        if others:
            parts.append(Context(t("meetings.others", series=", ".join(f"{ctx.prefix}overleg {k}" for k in others))))
        return Reply(tuple(parts))

    async def next_held(self, ctx: HandlerContext, series: Series) -> Meeting:
        upcoming = [m for m in await self.upcoming(ctx.repos, series, ctx.now, 12) if not m.skipped]
        if not upcoming:
            raise UserError(ctx.t("meetings.none_coming", title=series.title))
        return upcoming[0]

    async def show_agenda(self, ctx: HandlerContext, series: Series) -> Reply:
        meeting = await self.next_held(ctx, series)
        heading = Heading(ctx.t("meetings.agenda_for", title=series.title,
                                when=describe(meeting, ctx.settings.language)))
        return Reply((heading, *await self.agenda_parts(ctx.repos, series, meeting, ctx.t, ctx.settings.language,
                                                         ctx)))

    async def add_item(self, ctx: HandlerContext, series: Series, text: str) -> Reply:
        meeting = await self.next_held(ctx, series)
        number = await ctx.repos.meetings.add_agenda_item(series.key, meeting.planned, text, ctx.member.id, ctx.now)
        return Reply.text(ctx.t("meetings.item_added", when=describe(meeting, ctx.settings.language), item=text,
                                p=ctx.prefix, nr=number))

    async def remove_pressed(self, ctx: HandlerContext, action: Action) -> Outcome:
        return await self.remove_item(ctx, action.value)

    async def remove_item(self, ctx: HandlerContext, number: str) -> Reply:
        t = ctx.t
        item_id = number_of(number)
        if item_id is None:
            raise UserError(t("meetings.remove_syntax", p=ctx.prefix))
        found = await ctx.repos.meetings.agenda_item(item_id) if possible_id(item_id) else None
        if found is None:
            raise UserError(t("meetings.no_item", nr=item_id, p=ctx.prefix))
        if found.author_id != ctx.member.id:
            if not ctx.is_coordinator:
                raise UserError(t("meetings.not_your_item", nr=item_id))
            ctx.acts_as_coordinator()
        await ctx.repos.meetings.remove_agenda_item(item_id, ctx.member.id, ctx.now)
        return Reply.text(t("meetings.item_removed", item=found.text))

    # -- coordinators ----------------------------------------------------------------------------------


    async def planned_meeting(self, ctx: HandlerContext, series: Series, day: date) -> Meeting:
        """The meeting the rhythm gives `day`, or a Dutch error listing the ones that exist."""
        found = await self.meetings_between(ctx.repos, series, day, day)
        if found:
            return found[0]
        coming = await self.upcoming(ctx.repos, series, ctx.now, SHOWN)
        raise UserError(ctx.t("meetings.no_meeting_on", title=series.title,
                              day=format_date(day, "EEEE d MMMM y", locale=ctx.settings.language),
                              dates=", ".join(format_date(m.planned, "d MMMM", locale=ctx.settings.language)
                                              for m in coming)))

    async def skip(self, ctx: HandlerContext, series: Series, text: str) -> Reply:
        ctx.require_coordinator()
        t = ctx.t
        found = split_moment(text, ctx.now, ctx.settings.language, separators=(":",))
        if found is None:
            raise UserError(t("meetings.skip_syntax", p=ctx.prefix))
        moment, reason = found
        meeting = await self.planned_meeting(ctx, series, moment.date())
        reason = clean(reason, t, what=t("meetings.what_reason"), max_length=200, required=False) \
            or t("meetings.default_reason")
        await ctx.repos.meetings.change(series.key, meeting.planned, skip_reason=reason, moved_to=None,
                                        by=ctx.member.id, now=ctx.now)
        await self.replan(ctx)
        await self.announce(ctx, series, t("meetings.skip_announced", title=series.title, reason=reason,
                                           day=describe(meeting, ctx.settings.language, with_type=False)))
        return Reply.text(t("meetings.skip_done", day=describe(meeting, ctx.settings.language, with_type=False)))

    async def move(self, ctx: HandlerContext, series: Series, text: str) -> Reply:
        ctx.require_coordinator()
        t, lang = ctx.t, ctx.settings.language
        old_text, sep, new_text = text.partition(" naar ")
        pairs = [(old_text, new_text)] if sep else [
            (" ".join(text.split()[:i]), " ".join(text.split()[i:])) for i in range(1, len(text.split()))]
        for old_part, new_part in pairs:
            old, new = parse_moment(old_part, ctx.now, lang), parse_moment(new_part, ctx.now, lang)
            if old is None or new is None:
                continue
            meeting = await self.planned_meeting(ctx, series, old.date())
            if new.time() == time(0, 0):  # only a date: same time of day
                new = datetime.combine(new.date(), meeting.start.astimezone(series.zone).time(), series.zone)
            if new <= ctx.now:
                raise UserError(t("meetings.move_past"))
            await ctx.repos.meetings.change(series.key, meeting.planned, skip_reason=None, moved_to=new,
                                            by=ctx.member.id, now=ctx.now)
            await self.replan(ctx)
            moved = dataclasses.replace(meeting, start=new, end=new + (meeting.end - meeting.start), moved=True)
            await self.announce(ctx, series, t("meetings.move_announced", title=series.title,
                                               old=describe(meeting, lang, with_type=False),
                                               new=describe(moved, lang, with_type=False)))
            return Reply.text(t("meetings.move_done", new=describe(moved, lang, with_type=False)))
        raise UserError(t("meetings.move_syntax", p=ctx.prefix))

    async def replan(self, ctx: HandlerContext) -> None:
        """The reminders follow a change at once, in its transaction: a stale one is cancelled before
        it can go out, not at the next hourly planning."""
        await self.plan(JobContext(ctx.repos, ctx.t, ctx.now, ctx.settings))

    async def announce(self, ctx: HandlerContext, series: Series, text: str) -> None:
        """Tell the series' channel, through the outbox, in the same transaction as the change."""
        await ctx.post(series.channel, Reply((Text(text),)))

    async def missed(self, ctx: HandlerContext) -> Reply:
        ctx.require_coordinator()
        t, lang = ctx.t, ctx.settings.language
        since = ctx.now - MISSED_SINCE
        missed = await ctx.repos.occurrences.finished(KIND, ("missed",), since)
        failed = await ctx.repos.outbox.failed(since)
        if not missed and not failed:
            return Reply.text(t("meetings.nothing_missed"))
        parts: list[Part] = [Heading(t("meetings.missed_heading"))]
        for occurrence in missed:
            due = occurrence.due_at.astimezone(ctx.now.tzinfo)
            parts.append(Item(t("meetings.missed_item", series=occurrence.payload.get("series", "?"),
                                planned=occurrence.payload.get("planned", "?")),
                              (t("meetings.missed_why", when=f"{format_date(due, 'd MMMM', locale=lang)} "
                                                             f"{clock(due, lang)}"),)))
        for message in failed:
            parts.append(Item(t("meetings.failed_item", channel=message.channel),
                              (t("meetings.failed_why", error=message.last_error),)))
        return Reply(tuple(parts))

    # -- editing a series ------------------------------------------------------------------------------

    def settings_form(self, ctx: HandlerContext, series: Series) -> Form:
        ctx.require_coordinator()
        t = ctx.t
        weekday = next(name for name, number in WEEKDAYS.items() if number == series.weekday)
        return Form("overleg.instellen", t("meetings.form_title"), (
            FormField("title", t("meetings.field_title"), initial=series.title, max_length=100),
            FormField("weekday", t("meetings.field_weekday"), FieldKind.CHOICE, initial=weekday,
                      choices=tuple(Choice(name, name) for name in WEEKDAYS)),
            FormField("time", t("meetings.field_time"), hint=t("meetings.hint_time"), max_length=20,
                      initial=f"{series.start:%H:%M}-{series.end:%H:%M}"),
            FormField("interval", t("meetings.field_interval"), max_length=2, initial=str(series.interval_weeks)),
            FormField("types", t("meetings.field_types"), hint=t("meetings.hint_types"), required=False,
                      max_length=300, initial=", ".join(series.types)),
            FormField("anchor", t("meetings.field_anchor"), hint=t("meetings.hint_anchor"), required=False,
                      max_length=40, initial=series.anchor.isoformat() if series.anchor else ""),
            FormField("region", t("meetings.field_region"), FieldKind.CHOICE, initial=series.region or "",
                      choices=tuple(Choice(r, r) for r in REGIONS)),
            FormField("alternation", t("meetings.field_alternation"), FieldKind.CHOICE,
                      initial="overleggen" if series.count_held else "weken",
                      choices=(Choice("weken", t("meetings.count_weeks")),
                               Choice("overleggen", t("meetings.count_held")))),
        ), t("meetings.form_submit"), state=series.key)

    async def settings_submitted(self, ctx: HandlerContext, form: FormSubmission) -> Outcome:
        ctx.require_coordinator()
        t = ctx.t
        series = {s.key: s for s in await self.all_series(ctx.repos)}.get(form.state)
        if series is None:
            raise UserError(t("errors.unknown_action"))
        values, errors = read_settings(form.values, ctx)
        if errors:
            raise FormErrors(errors)
        edited = apply_edits(series, values)
        await ctx.repos.meetings.save_settings(series.key, values, ctx.member.id, ctx.now)
        await self.replan(ctx)
        return Reply((Text(t("meetings.settings_saved", title=edited.title)),
                      Context(rhythm_line(edited, t, ctx.settings.language))))


# -- pure helpers ----------------------------------------------------------------------------------------


def clock(moment: datetime, lang: str) -> str:
    return format_time(moment, "HH:mm", locale=lang)


def describe(meeting: Meeting, lang: str, *, with_type: bool = True) -> str:
    """"dinsdag 1 december 2026, 09:00–11:30 (afstemmingsoverleg)"."""
    day = format_date(meeting.start.date(), "EEEE d MMMM y", locale=lang)
    kind = f" ({meeting.type})" if with_type and meeting.type else ""
    return f"{day}, {clock(meeting.start, lang)}–{clock(meeting.end, lang)}{kind}"


def lead(reminder: Reminder, meeting: Meeting, now: datetime, t: Catalog) -> str:
    """How far off the meeting is, as people say it: "Morgen", "Over 30 minuten", "Over een week"."""
    if reminder.minutes_before is not None:
        return t.plural("meetings.in_minutes", reminder.minutes_before)
    days = (meeting.start.date() - now.astimezone(meeting.start.tzinfo).date()).days
    if days <= 0:
        return t("meetings.today")
    if days == 1:
        return t("meetings.tomorrow")
    return t.plural("meetings.in_days", days)


def rhythm_line(series: Series, t: Catalog, lang: str) -> str:
    weekday = next(name for name, number in WEEKDAYS.items() if number == series.weekday)
    if series.dates:
        return t("meetings.rhythm_dates", count=len(series.dates))
    every = t("meetings.every_week") if series.interval_weeks == 1 else t("meetings.every_weeks",
                                                                           n=series.interval_weeks)
    types = t("meetings.alternating", types=" / ".join(series.types)) if len(series.types) > 1 else ""
    return t("meetings.rhythm", every=every, weekday=weekday, start=f"{series.start:%H:%M}",
             end=f"{series.end:%H:%M}", types=types, region=series.region or "-")


def split_moment(text: str, now: datetime, lang: str, *, separators: tuple[str, ...]) -> tuple[datetime, str] | None:
    """A date at the start of `text` and what follows it ("8 december: studiedag"), or None."""
    for sep in separators:
        head, found, tail = text.partition(sep)
        if found and (moment := parse_moment(head, now, lang)) is not None:
            return moment, tail.strip()
    words = text.split()
    for end in range(len(words), 0, -1):
        moment = parse_moment(" ".join(words[:end]), now, lang)
        if moment is not None:
            return moment, " ".join(words[end:])
    return None
