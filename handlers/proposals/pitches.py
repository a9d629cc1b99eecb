"""`/pitch`: schools propose jointly funded projects for the trimester meeting of their work area.

    /pitch                     a form: title, schools, summary, what it brings, amount, co-funding, theme, contact
    /pitch lijst [status]      the pitches (ingediend, geagendeerd, in stemming, aangenomen, afgewezen, ingetrokken)
    /pitch <nr>                one pitch with its history
    /pitch wijzigen <nr>       the form again, until the pitch deadline (the submitter or their confirmed school)
    /pitch intrekken <nr>      the submitter withdraws it

A submitted pitch goes to the first trimester meeting whose pitch deadline has not passed
(config/meetings.toml, series with `dates`), and is posted in the proposals channel with the
coordinators' buttons "Agenderen" and "Stemming starten". That message follows the pitch: its outbox
key `pitch:<nr>` is touched at every change (scheduled, put to the vote, decided, withdrawn, edited)
and the refresher (bot/refresh.py) renders it anew with `current`, with only the buttons that still apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from babel.dates import format_date, format_datetime

from bot.core.errors import FormErrors, UserError
from bot.core.inputs import Action, Command, FormSubmission
from bot.core.numbers import number_of, possible_id
from bot.core.reply import (
    Actions,
    Button,
    Context,
    FieldKind,
    Fields,
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
from handlers.context import Feature, HandlerContext, JobContext
from handlers.meetings.feature import Meetings
from handlers.meetings.rhythm import Meeting
from handlers.names import pick, unknown_name
from handlers.proposals.money import euros, parse_euros
from handlers.pupils.guard import hold_back
from handlers.text import clean, fold
from storage.proposals import PitchDraft, PitchRecord, PitchStatus

STATUSES = tuple(PitchStatus)
PROPOSALS = "proposals"  # the channel role the pitches are posted in
EDITABLE = (PitchStatus.SUBMITTED, PitchStatus.SCHEDULED)
AnyContext = HandlerContext | JobContext  # what showing a pitch needs: repos, t, now, settings


class Pitches:
    def __init__(self, meetings: Meetings) -> None:
        self.meetings = meetings

    def feature(self) -> Feature:
        f = Feature("pitches")
        f.command("pitch", self.command)
        f.form("pitch.form", self.submitted)
        f.action("pitch.agenderen", self.schedule)
        f.keep_current("pitch:", self.current)
        return f

    async def command(self, ctx: HandlerContext, cmd: Command) -> Outcome:
        t = ctx.t
        text = clean(cmd.text, t, what=t("pitch.what_command"), required=False, max_length=100)
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        match fold(word), rest:
            case "", _:
                return await self.form(ctx, None)
            case "lijst", status:
                return await self.listing(ctx, status)
            case "wijzigen", number:
                return await self.form(ctx, await self.own_pitch(ctx, number, editing=True))
            case "intrekken", number:
                return await self.withdraw(ctx, await self.own_pitch(ctx, number, editing=False))
            case number, "" if number_of(number) is not None:
                return await self.show(ctx, await self.find(ctx, number))
        raise UserError(t("pitch.unknown", p=ctx.prefix, word=word))

    async def find(self, ctx: HandlerContext, typed: str) -> PitchRecord:
        number = number_of(typed)
        if number is None:
            raise UserError(ctx.t("pitch.number_needed", p=ctx.prefix))
        found = await ctx.repos.pitches.get(number) if possible_id(number) else None
        if found is None:
            raise UserError(ctx.t("pitch.not_found", nr=number, p=ctx.prefix))
        return found

    async def own_pitch(self, ctx: HandlerContext, number: str, *, editing: bool) -> PitchRecord:
        """A pitch the member may change: their own, or (to edit) one of their school's; still open."""
        pitch = await self.find(ctx, number)
        own = pitch.submitter_id == ctx.member.id
        same_school = ctx.member.organisation is not None and ctx.member.organisation.id in {s.id for s in
                                                                                             pitch.schools}
        if not (own or (editing and same_school)):
            raise UserError(ctx.t("pitch.not_yours", nr=pitch.id))
        if pitch.status not in EDITABLE:
            raise UserError(ctx.t("pitch.closed", nr=pitch.id, status=ctx.t(f"pitch.status.{pitch.status}")))
        if editing:
            meeting = await self.meeting_of(ctx, pitch)
            if meeting is not None and meeting.pitch_deadline is not None and ctx.now > meeting.pitch_deadline:
                raise UserError(ctx.t("pitch.deadline_passed", nr=pitch.id,
                                      deadline=self.when(meeting.pitch_deadline, ctx)))
        return pitch

    # -- the form --------------------------------------------------------------------------------------

    async def form(self, ctx: HandlerContext, pitch: PitchRecord | None) -> Form:
        t = ctx.t
        school = ctx.member.organisation.name if ctx.member.organisation else ""
        initial: dict[str, str] = {"schools": school, "contact": ctx.member.name}
        if pitch is not None:
            initial = {"title": pitch.title, "schools": ", ".join(s.name for s in pitch.schools),
                       "summary": pitch.summary, "benefit": pitch.benefit, "amount": euros(pitch.amount_cents),
                       "cofunding": euros(pitch.cofunding_cents), "theme": pitch.theme, "contact": pitch.contact}
        return Form("pitch.form", t("pitch.form_title"), (
            FormField("title", t("pitch.field_title"), max_length=100, initial=initial.get("title", "")),
            FormField("schools", t("pitch.field_schools"), hint=t("pitch.hint_schools"), max_length=500,
                      initial=initial["schools"]),
            FormField("summary", t("pitch.field_summary"), FieldKind.LONG_TEXT, max_length=2000,
                      initial=initial.get("summary", "")),
            FormField("benefit", t("pitch.field_benefit"), FieldKind.LONG_TEXT, max_length=2000,
                      initial=initial.get("benefit", "")),
            FormField("amount", t("pitch.field_amount"), FieldKind.AMOUNT, hint=t("pitch.hint_amount"),
                      max_length=30, initial=initial.get("amount", "")),
            FormField("cofunding", t("pitch.field_cofunding"), FieldKind.AMOUNT, required=False, max_length=30,
                      initial=initial.get("cofunding", "")),
            FormField("theme", t("pitch.field_theme"), hint=t("pitch.hint_theme"), max_length=100,
                      initial=initial.get("theme", "")),
            FormField("contact", t("pitch.field_contact"), max_length=200, initial=initial["contact"]),
        ), t("pitch.form_submit"), state=str(pitch.id) if pitch else "")

    async def read(self, ctx: HandlerContext, values: Mapping[str, str]) -> PitchDraft:
        """The form's values checked field by field; FormErrors with a Dutch message per wrong field."""
        t = ctx.t
        errors: dict[str, str] = {}
        out: dict[str, Any] = {}
        limits = {"title": 100, "summary": 2000, "benefit": 2000, "theme": 100, "contact": 200}
        for name, limit in limits.items():
            try:
                out[name] = clean(values.get(name, ""), t, what=t(f"pitch.field_{name}"), max_length=limit,
                                  multiline=name in ("summary", "benefit"))
            except UserError as error:
                errors[name] = error.message
        for name, required in (("amount", True), ("cofunding", False)):
            typed = values.get(name, "").strip()
            cents = parse_euros(typed) if typed else (None if required else 0)
            if cents is None:
                errors[name] = t("pitch.bad_amount", what=t(f"pitch.field_{name}"), typed=typed or "…")
            else:
                out[f"{name}_cents"] = cents
        if "amount_cents" in out and out["amount_cents"] == 0:
            errors["amount"] = t("pitch.zero_amount")
        schools: list[int] = []
        known = [o for o in await ctx.repos.organisations.all()]
        names = [n.strip() for n in values.get("schools", "").replace(";", ",").split(",") if n.strip()]
        if not names:
            errors["schools"] = t("pitch.no_schools")
        problems: list[str] = []
        for name in names:
            try:
                schools.append(pick(name, known, t).id)
            except UserError as error:
                problems.append(unknown_name(name, known, t, "defects.unknown_school") or error.message)
        if problems:
            errors["schools"] = " ".join(problems)
        if errors:
            raise FormErrors(errors)
        return PitchDraft(**out, schools=tuple(schools))

    async def submitted(self, ctx: HandlerContext, form: FormSubmission) -> Outcome:
        draft = await self.read(ctx, form.values)
        t = ctx.t
        if (held := await hold_back(ctx, form, draft.title, draft.summary, draft.benefit, draft.theme,
                                    draft.contact)) is not None:
            return held
        if form.state:
            pitch = await self.own_pitch(ctx, form.state, editing=True)
            await ctx.repos.pitches.edit(pitch.id, draft, by=ctx.member.id, now=ctx.now)
            ctx.changed(f"pitch:{pitch.id}")
            return Reply.text(t("pitch.edited", nr=pitch.id))
        meetings = await self.trimester_meetings(ctx)
        meeting = next((m for m in meetings if m.pitch_deadline is None or ctx.now <= m.pitch_deadline), None)
        number = await ctx.repos.pitches.create(draft, submitter=ctx.member.id,
                                                meeting=meeting.planned if meeting else None, now=ctx.now)
        created = await ctx.repos.pitches.get(number)
        assert created is not None
        await ctx.post(PROPOSALS, self.announcement(ctx, created, meeting), key=f"pitch:{number}")
        lines = [t("pitch.submitted", nr=number)]
        if meeting is not None:
            lines.append(t("pitch.goes_to", day=self.day(meeting, ctx), deadline=self.when(meeting.pitch_deadline,
                                                                                            ctx)))
            missed = next((m for m in meetings if m.start > ctx.now and m is not meeting
                           and m.pitch_deadline is not None and m.pitch_deadline < ctx.now), None)
            if missed is not None and missed.start < meeting.start:
                lines.append(t("pitch.deadline_missed", missed=self.day(missed, ctx), day=self.day(meeting, ctx)))
        else:
            lines.append(t("pitch.no_meeting"))
        return Reply.text("\n".join(lines))

    # -- showing ---------------------------------------------------------------------------------------

    def announcement(self, ctx: AnyContext, pitch: PitchRecord, meeting: Meeting | None) -> Reply:
        t = ctx.t
        buttons = self.coordinator_buttons(ctx, pitch)
        return Reply((Heading(t("pitch.heading", nr=pitch.id, title=pitch.title)), *self.details(ctx, pitch, meeting),
                      *((buttons, Context(t("pitch.buttons_note"))) if buttons else ())))

    async def current(self, ctx: JobContext, key: str) -> Reply | None:
        """The pitch message of outbox key `pitch:<nr>` as it is now (bot/refresh.py)."""
        number = key.removeprefix("pitch:")
        pitch = await ctx.repos.pitches.get(int(number)) if number.isdigit() else None
        return self.announcement(ctx, pitch, await self.meeting_of(ctx, pitch)) if pitch else None

    @staticmethod
    def coordinator_buttons(ctx: AnyContext, pitch: PitchRecord) -> Actions | None:
        """The buttons that still apply: "Agenderen" while submitted, "Stemming starten" until it is put
        to the vote; none once it is in a vote, decided or withdrawn."""
        t = ctx.t
        buttons = []
        if pitch.status == PitchStatus.SUBMITTED:
            buttons.append(Button(t("pitch.schedule_button"), "pitch.agenderen", str(pitch.id), Style.PRIMARY))
        if pitch.status in EDITABLE:
            buttons.append(Button(t("pitch.vote_button"), "stemming.voor_pitch", str(pitch.id)))
        if pitch.status in EDITABLE:
            buttons.append(Button(t("budget.open_button"), "begroting.openen", str(pitch.id)))
        return Actions(tuple(buttons)) if buttons else None

    def details(self, ctx: AnyContext, pitch: PitchRecord, meeting: Meeting | None) -> list[Part]:
        t, lang = ctx.t, ctx.settings.language
        return [
            Fields((
                (t("pitch.field_schools"), ", ".join(s.name for s in pitch.schools)),
                (t("pitch.field_amount"), euros(pitch.amount_cents, lang)),
                (t("pitch.field_cofunding"), euros(pitch.cofunding_cents, lang)),
                (t("pitch.field_theme"), pitch.theme),
                (t("pitch.field_contact"), pitch.contact),
                (t("pitch.meeting"), self.day(meeting, ctx) if meeting else "-"),
                (t("pitch.status_label"), t(f"pitch.status.{pitch.status}")),
            )),
            Text(pitch.summary),
            Text(t("pitch.benefit_intro") + " " + pitch.benefit),
        ]

    async def show(self, ctx: HandlerContext, pitch: PitchRecord) -> Reply:
        t = ctx.t
        history = [f"{format_datetime(e.at.astimezone(ctx.now.tzinfo), 'd MMM HH:mm', locale=ctx.settings.language)}"
                   f" {t(f'pitch.status.{e.status}')}" + (f" ({e.actor_name})" if e.actor_name else "")
                   + (f": {e.note}" if e.note else "") for e in await ctx.repos.pitches.history(pitch.id)]
        found = self.coordinator_buttons(ctx, pitch)
        buttons = [found] if ctx.is_coordinator and found else []
        return Reply((Heading(t("pitch.heading", nr=pitch.id, title=pitch.title)),
                      *self.details(ctx, pitch, await self.meeting_of(ctx, pitch)), *buttons,
                      Context(t("pitch.history") + " " + " · ".join(history))))

    async def listing(self, ctx: HandlerContext, status: str) -> Reply:
        t = ctx.t
        wanted = fold(status).replace(" ", "_")
        if wanted and wanted not in STATUSES:
            raise UserError(t("pitch.bad_status", status=status,
                              statuses=", ".join(t(f"pitch.status.{s}") for s in STATUSES)))
        found = await ctx.repos.pitches.listing(wanted or None)
        if not found and wanted:
            return Reply.text(t("defects.no_pitches_with_status", status=t(f"pitch.status.{wanted}"), p=ctx.prefix))
        if not found:
            return Reply.text(t("pitch.none", p=ctx.prefix))
        items = [Item(f"#{p.id} {p.title}", (
            f"{', '.join(s.name for s in p.schools)} · {euros(p.amount_cents, ctx.settings.language)} · "
            f"{t(f'pitch.status.{p.status}')}",)) for p in found]
        return Reply((Heading(t("pitch.list_heading")), *items))

    async def withdraw(self, ctx: HandlerContext, pitch: PitchRecord) -> Reply:
        if not await ctx.repos.pitches.move(pitch.id, PitchStatus.WITHDRAWN, by=ctx.member.id, now=ctx.now,
                                            from_status=EDITABLE):
            raise UserError(ctx.t("pitch.closed", nr=pitch.id, status=ctx.t(f"pitch.status.{pitch.status}")))
        await ctx.post(PROPOSALS, Reply.text(ctx.t("pitch.withdrawn_note", nr=pitch.id, title=pitch.title)))
        ctx.changed(f"pitch:{pitch.id}")
        return Reply.text(ctx.t("pitch.withdrawn", nr=pitch.id))

    async def schedule(self, ctx: HandlerContext, action: Action) -> Outcome:
        """"Agenderen": a coordinator puts the pitch on the agenda of its trimester meeting."""
        ctx.require_coordinator()
        pitch = await self.find(ctx, action.value)
        if not await ctx.repos.pitches.move(pitch.id, PitchStatus.SCHEDULED, by=ctx.member.id, now=ctx.now,
                                            from_status=(PitchStatus.SUBMITTED,)):
            raise UserError(ctx.t("pitch.cannot_schedule", nr=pitch.id,
                                  status=ctx.t(f"pitch.status.{pitch.status}")))
        ctx.changed(f"pitch:{pitch.id}")
        meeting = await self.meeting_of(ctx, pitch)
        return Reply.text(ctx.t("pitch.scheduled", nr=pitch.id, day=self.day(meeting, ctx) if meeting else "-"))

    # -- trimester meetings ----------------------------------------------------------------------------

    async def trimester_meetings(self, ctx: AnyContext) -> list[Meeting]:
        """Coming meetings with a pitch deadline, in date order."""
        found: list[Meeting] = []
        for series in await self.meetings.all_series(ctx.repos):
            if series.dates:
                found.extend(await self.meetings.upcoming(ctx.repos, series, ctx.now, len(series.dates)))
        return sorted((m for m in found if m.pitch_deadline is not None and not m.skipped), key=lambda m: m.start)

    async def meeting_of(self, ctx: AnyContext, pitch: PitchRecord) -> Meeting | None:
        return next((m for m in await self.trimester_meetings(ctx) if m.planned == pitch.meeting), None)

    @staticmethod
    def day(meeting: Meeting, ctx: AnyContext) -> str:
        return format_date(meeting.start.date(), "EEEE d MMMM y", locale=ctx.settings.language)

    @staticmethod
    def when(moment: datetime | None, ctx: HandlerContext) -> str:
        if moment is None:
            return "-"
        return format_datetime(moment.astimezone(ctx.now.tzinfo), "EEEE d MMMM HH:mm", locale=ctx.settings.language)

