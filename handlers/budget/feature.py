"""`/stemming begroting`: the trimester budget round (issue 16).

    /stemming begroting                  coordinators: a form (budget, pitches, who votes, secret, deadline)
    /stemming begroting <nr>             the round, with its "Stemmen" button while open
    /stemming begroting export <nr>      the ballots in the Pabulib format (anonymised for a secret round)

A ballot is an approval ballot (every pitch the voter supports) or, in a ranked round, the pitches the
voter supports in order (a select per place); one per voter (member or school; optionally only of one
werkgebied or circle), replaced by the voter's next one until the deadline. The round's message keeps
its count of ballots current. The close is `handlers/budget/closing.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from bot.core.errors import FormErrors, UserError
from bot.core.inputs import Action, FormSubmission
from bot.core.numbers import number_of
from bot.core.reply import (
    Actions,
    Ballot,
    Button,
    Choice,
    Context,
    FieldKind,
    Form,
    FormField,
    Heading,
    Item,
    Outcome,
    Reply,
    Text,
)
from config.settings import CIRCLE_ROLES as CIRCLES
from handlers.budget.closing import CLOSE, OUT_OF_PLAY, close_job
from handlers.budget.outputs import RoundPitch, pabulib
from handlers.context import AnyContext, Feature, HandlerContext, JobContext
from handlers.dates import UnclearDate, parse_deadline
from handlers.proposals.money import euros, parse_euros
from handlers.proposals.votes import when
from handlers.text import fold
from storage.budget import RoundRecord
from storage.proposals import SCHOOL_KINDS
from storage.records import MemberRecord, PlannedOccurrence

APPROVAL, RANKED = "approval", "ranked"


def voter_of(budget_round: RoundRecord, member: MemberRecord) -> str | None:
    """The ballot this member casts: their own, their school's, or None when they may not vote."""
    org = member.organisation
    if budget_round.werkgebied and (org is None or fold(org.werkgebied) != fold(budget_round.werkgebied)):
        return None
    if budget_round.electorate == "schools":
        return f"s:{org.id}" if org is not None and org.kind in SCHOOL_KINDS else None
    return f"m:{member.id}"


def numbers(typed: str) -> list[int] | None:
    """"3, 5,7" → [3, 5, 7]; None when anything else is in it."""
    parts = [p.strip().lstrip("#") for p in typed.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    return [int(p) for p in parts] if all(p.isdigit() and len(p) < 9 for p in parts) else None


class BudgetRounds:
    def feature(self) -> Feature:
        f = Feature("budget")
        f.job(CLOSE, close_job)
        f.form("begroting.form", self.submitted)
        f.action("begroting.openen", self.for_meeting)
        f.action("begroting.stem", self.ballot_form)
        f.action("begroting.poll", self.polled)
        f.form("begroting.stembiljet", self.voted)
        f.keep_current("budget:", self.current)
        return f

    async def command(self, ctx: HandlerContext, rest: str) -> Outcome:
        word, _, number = rest.partition(" ")
        if not word:
            ctx.require_coordinator()
            return await self.form(ctx)
        if fold(word) == "export":
            return await self.export(ctx, await self.find(ctx, number.strip()))
        return await self.show(ctx, await self.find(ctx, rest))

    async def find(self, ctx: HandlerContext, typed: str, *, share: bool = False) -> RoundRecord:
        number = number_of(typed)
        found = await ctx.repos.budget.get(number, share=share) if number is not None else None
        if found is None:
            raise UserError(ctx.t("budget.not_found", p=ctx.prefix))
        return found

    # -- opening --------------------------------------------------------------------------------------

    async def for_meeting(self, ctx: HandlerContext, action: Action) -> Outcome:
        """"Begrotingsronde" under a pitch: the form, with the pitches of that pitch's trimester meeting."""
        ctx.require_coordinator()
        pitch = await ctx.repos.pitches.get(int(action.value)) if action.value.isdigit() else None
        if pitch is None:
            raise UserError(ctx.t("errors.unknown_action"))
        return await self.form(ctx, meeting=pitch.meeting, only_meeting=True)

    async def form(self, ctx: HandlerContext, *, meeting: date | None = None, only_meeting: bool = False) -> Form:
        t = ctx.t
        pitches = [p for p in await ctx.repos.pitches.listing() if p.status not in OUT_OF_PLAY
                   and p.status in ("ingediend", "geagendeerd", "in_stemming")
                   and (not only_meeting or p.meeting == meeting)]
        return Form("begroting.form", t("budget.form_title"), (
            FormField("budget", t("budget.field_budget"), FieldKind.AMOUNT, max_length=30),
            FormField("pitches", t("budget.field_pitches"), hint=t("budget.hint_pitches"), max_length=300,
                      initial=", ".join(str(p.id) for p in sorted(pitches, key=lambda p: p.id))),
            FormField("electorate", t("vote.field_electorate"), FieldKind.CHOICE, initial="schools",
                      choices=(Choice("schools", t("vote.per_school")), Choice("members", t("vote.per_member")))),
            FormField("werkgebied", t("vote.field_werkgebied"), hint=t("vote.hint_werkgebied"), required=False,
                      max_length=100),
            FormField("circle", t("budget2.field_circle"), FieldKind.CHOICE, initial="", required=False,
                      choices=(Choice("", t("budget2.no_circle")),
                               *(Choice(c, t(f"pupil.circle_vote.{c}")) for c in CIRCLES))),
            FormField("kind", t("budget2.field_round_kind"), FieldKind.CHOICE, initial=APPROVAL,
                      choices=(Choice(APPROVAL, t("budget2.round_kind.approval")),
                               Choice(RANKED, t("budget2.round_kind.ranked")))),
            FormField("secret", t("vote.field_secret"), FieldKind.CHOICE, initial="ja",
                      choices=(Choice("ja", t("vote.secret")), Choice("nee", t("vote.open")))),
            FormField("deadline", t("vote.field_deadline"), FieldKind.DATETIME, hint=t("vote.hint_deadline"),
                      max_length=60),
        ), t("budget.form_submit"))

    async def read(self, ctx: HandlerContext, values: Mapping[str, str]) -> dict[str, Any]:
        t = ctx.t
        errors: dict[str, str] = {}
        out: dict[str, Any] = {}
        cents = parse_euros(values.get("budget", ""))
        if not cents:
            errors["budget"] = t("budget.bad_budget", typed=values.get("budget", "") or "…")
        out["budget_cents"] = cents
        chosen = numbers(values.get("pitches", ""))
        if not chosen:
            errors["pitches"] = t("budget.bad_pitches")
        else:
            for number in chosen:
                pitch = await ctx.repos.pitches.get(number)
                if pitch is None or pitch.status in OUT_OF_PLAY:
                    errors["pitches"] = t("budget.pitch_not_in_play", nr=number)
            out["pitches"] = sorted(set(chosen))
        out["electorate"] = "members" if values.get("electorate") == "members" else "schools"
        out["werkgebied"] = " ".join(values.get("werkgebied", "").split())[:100]
        out["secret"] = values.get("secret", "ja") != "nee"
        out["circle"] = values.get("circle", "") if values.get("circle", "") in CIRCLES else ""
        out["kind"] = RANKED if values.get("kind") == RANKED else APPROVAL
        deadline = None
        try:  # as a vote's: a day without a time closes at 17:00
            deadline, _ = parse_deadline(values.get("deadline", ""), ctx.now, ctx.settings.language)
        except UnclearDate as error:
            errors["deadline"] = error.message
        except ValueError:
            errors["deadline"] = t("vote.bad_deadline")
        if deadline is not None and deadline <= ctx.now + timedelta(minutes=5):
            errors["deadline"] = t("vote.deadline_soon")
        out["deadline"] = deadline
        if errors:
            raise FormErrors(errors)
        return out

    async def submitted(self, ctx: HandlerContext, form: FormSubmission) -> Outcome:
        ctx.require_coordinator()
        values = await self.read(ctx, form.values)
        channel = form.channel or "proposals"
        number = await ctx.repos.budget.create(**values, channel=channel, by=ctx.member.id, now=ctx.now)
        await ctx.repos.occurrences.schedule(PlannedOccurrence(f"{CLOSE}:{number}", CLOSE, values["deadline"],
                                                               {"round": number}))
        created = await self.find(ctx, str(number))
        await ctx.post(channel, await self.message(ctx, created), key=f"budget:{number}")
        return Reply.text(ctx.t("budget.started", nr=number, deadline=when(values["deadline"], ctx.settings)))

    async def pitches(self, ctx: AnyContext, budget_round: RoundRecord) -> list[RoundPitch]:
        return [RoundPitch(p.id, p.title, p.amount_cents) for p in await ctx.repos.pitches.by_ids(budget_round.pitches)
                if p.status not in OUT_OF_PLAY]

    async def current(self, ctx: JobContext, key: str) -> Reply | None:
        """The round's message (outbox key `budget:<nr>`) as it is now: ballots cast, open or closed."""
        number = number_of(key.removeprefix("budget:"))
        found = await ctx.repos.budget.get(number) if number is not None else None
        return await self.message(ctx, found) if found is not None else None

    async def message(self, ctx: AnyContext, budget_round: RoundRecord) -> Reply:
        t, lang = ctx.t, ctx.settings.language
        parts: list[Any] = [Heading(t("budget.heading", nr=budget_round.id,
                                      budget=euros(budget_round.budget_cents, lang)))]
        parts.extend(Item(f"#{p.id} {p.title}", (euros(p.cost, lang),)) for p in await self.pitches(ctx, budget_round))
        if budget_round.closed_at is None:
            cast = len(await ctx.repos.budget.ballots(budget_round.id))
            rules = [t("vote.closes", deadline=when(budget_round.deadline, ctx.settings)),
                     t(f"budget2.round_kind.{budget_round.kind}"),
                     t("vote.per_school") if budget_round.electorate == "schools" else t("vote.per_member")]
            if budget_round.werkgebied:
                rules.append(t("vote.only_werkgebied", werkgebied=budget_round.werkgebied))
            if budget_round.circle:
                rules.append(t(f"pupil.circle_vote.{budget_round.circle}"))
            parts.append(Context(" · ".join((*rules, t.plural("vote.cast", cast)))))
            # an open approval round is also a poll of its pitches where a platform has them (Matrix)
            poll = () if budget_round.secret or budget_round.kind == RANKED else tuple(
                Button(f"#{p.id} {p.title} ({euros(p.cost, lang)})", "begroting.poll", f"{budget_round.id}:{p.id}")
                for p in await self.pitches(ctx, budget_round))
            parts.append(Actions((Button(t("budget.vote_button"), "begroting.stem", str(budget_round.id)),),
                                 ballot=Ballot.OPEN if poll else Ballot.NONE, poll=poll, max_selections=len(poll) or 1))
        else:
            parts.append(Text(t("budget.closed", funded=", ".join(f"#{p}" for p in budget_round.result.get(
                "funded", [])) or t("budget.greedy_none"))))
        return Reply(tuple(parts))

    async def show(self, ctx: HandlerContext, budget_round: RoundRecord) -> Reply:
        return await self.message(ctx, budget_round)

    # -- voting -----------------------------------------------------------------------------------------

    async def eligible(self, ctx: HandlerContext, budget_round: RoundRecord) -> str:
        if budget_round.closed_at is not None or ctx.now >= budget_round.deadline:
            raise UserError(ctx.t("vote.is_closed", deadline=when(budget_round.closed_at or budget_round.deadline,
                                                                  ctx.settings)))
        voter = voter_of(budget_round, ctx.member)
        if voter is None:
            raise UserError(ctx.t("vote.not_eligible_school") if budget_round.electorate == "schools"
                            and not budget_round.werkgebied else ctx.t("vote.not_eligible",
                                                                        werkgebied=budget_round.werkgebied or "-"))
        if budget_round.circle and not await ctx.repos.circles.is_member(budget_round.circle, ctx.member.id):
            raise UserError(ctx.t("pupil.not_in_circle_vote", circle=ctx.t(f"pupil.circle.{budget_round.circle}")))
        return voter

    async def ballot_form(self, ctx: HandlerContext, action: Action) -> Outcome:
        budget_round = await self.find(ctx, action.value)
        voter = await self.eligible(ctx, budget_round)
        current = next((b for b in await ctx.repos.budget.ballots(budget_round.id) if b.voter == voter), None)
        lang = ctx.settings.language
        choices = tuple(Choice(str(p.id), f"#{p.id} {p.title} ({euros(p.cost, lang)})")
                        for p in await self.pitches(ctx, budget_round))
        chosen = current.choices if current else ()
        if budget_round.kind == RANKED:  # a select per place: Slack selects, a numbered question elsewhere
            fields = tuple(FormField(f"rank{place}", ctx.t("budget2.field_rank", place=place), FieldKind.CHOICE,
                                     required=False, hint=ctx.t("budget2.hint_round_rank") if place == 1 else "",
                                     choices=choices, initial=str(chosen[place - 1]) if place <= len(chosen) else "")
                           for place in range(1, len(choices) + 1))
        else:
            fields = (FormField("pitches", ctx.t("budget.field_ballot"), FieldKind.MULTI_CHOICE, required=False,
                                hint=ctx.t("budget.hint_ballot"), max_length=300, choices=choices,
                                initial=",".join(str(p) for p in chosen)),)
        return Form("begroting.stembiljet", ctx.t("budget.ballot_title", nr=budget_round.id), fields,
                    ctx.t("budget.ballot_submit"), state=str(budget_round.id))

    async def voted(self, ctx: HandlerContext, form: FormSubmission) -> Outcome:
        budget_round = await self.find(ctx, form.state, share=True)
        voter = await self.eligible(ctx, budget_round)
        in_round = {p.id for p in await self.pitches(ctx, budget_round)}
        if budget_round.kind == RANKED:
            typed = [form.values.get(f"rank{place}", "").strip() for place in range(1, len(in_round) + 1)]
            chosen = numbers(",".join(typed))
            field = "rank1"
        else:
            chosen, field = numbers(form.values.get("pitches", "")), "pitches"
        if chosen is None or not set(chosen) <= in_round or len(set(chosen)) != len(chosen):
            raise FormErrors({field: ctx.t("budget.bad_ballot", numbers=", ".join(map(str, sorted(in_round))))})
        ballot = chosen if budget_round.kind == RANKED else sorted(chosen)
        await ctx.repos.budget.cast(budget_round.id, voter, ctx.member.id, ballot, ctx.now)
        ctx.changed(f"budget:{budget_round.id}")
        shown = (" > " if budget_round.kind == RANKED else ", ").join(f"#{p}" for p in ballot)
        return Reply.text(ctx.t("budget.your_ballot", pitches=shown or ctx.t("budget.greedy_none"),
                                deadline=when(budget_round.deadline, ctx.settings)))

    async def polled(self, ctx: HandlerContext, action: Action) -> Outcome:
        """The answers of an open approval round's poll (Matrix), the whole ballot: "<round>:<pitch>,…"."""
        pairs = [value.partition(":") for value in action.value.split(",")]
        if len({number for number, _, _ in pairs}) != 1:
            raise UserError(ctx.t("errors.unknown_action"))
        budget_round = await self.find(ctx, pairs[0][0], share=True)
        if budget_round.kind == RANKED:
            raise UserError(ctx.t("errors.unknown_action"))
        values = {"pitches": ",".join(pitch for _, _, pitch in pairs)}
        try:
            return await self.voted(ctx, FormSubmission("begroting.stembiljet", values, action.actor,
                                                        state=str(budget_round.id), channel=action.channel))
        except FormErrors as error:  # a poll answer that is no pitch of the round (any more)
            raise UserError(" ".join(error.errors.values())) from error

    # -- transparency ---------------------------------------------------------------------------------

    async def export(self, ctx: HandlerContext, budget_round: RoundRecord) -> Reply:
        if budget_round.closed_at is None:
            raise UserError(ctx.t("budget.export_open", nr=budget_round.id))
        ballots = [(b.voter, b.choices) for b in await ctx.repos.budget.ballots(budget_round.id)]
        file = pabulib(budget_round.id, budget_round.budget_cents, await self.pitches(ctx, budget_round), ballots,
                       secret=budget_round.secret, ranked=budget_round.kind == RANKED)
        return Reply((Text(ctx.t("budget.export_heading", nr=budget_round.id)), file))
