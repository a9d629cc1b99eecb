"""`/stemming`: votes in the channel, with a button per option, closed by the bot at the deadline.

    /stemming                   coordinators: a form (question, options, who votes, secret, deadline, quorum, rule)
    /stemming lijst             the decision log
    /stemming <nr>              one vote: its rules, and its result once closed
    /stemming sluiten <nr>      coordinators: close before the deadline
    /stemming export <nr>       coordinators: the result as CSV (no names for a secret vote)

A ballot is one row per voter (a member, or a school when it is one vote per school), replaced by
the voter's next press, so the last counts and a double press is one ballot. The close and the
nudge (NETWERKBOT_VOTE_NUDGE_HOURS before) are occurrences (bot/scheduler.py): the close happens at the deadline also
when nobody touches anything, and after a restart with the result as of the deadline. The vote
message's tally is refreshed by the adapter at most once a second (bot/refresh.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_datetime

from bot.core.errors import FormErrors, UserError
from bot.core.inputs import Action, Command, FormSubmission
from bot.core.numbers import id_of, number_of, possible_id
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
    Part,
    Reply,
    Text,
)
from config.i18n import Catalog
from config.settings import CIRCLE_ROLES as CIRCLES
from config.settings import Settings
from handlers.context import AnyContext, Feature, HandlerContext, JobContext
from handlers.dates import UnclearDate, parse_deadline
from handlers.proposals.ballots import (
    ABSTAIN,
    BALLOT_FORM,
    MULTIPLE,
    SINGLE,
    ballot_form,
    chosen_text,
    count,
    counts_of,
    kind_fields,
    pitch_decision,
    read_ballot,
    read_kind,
    rounds_parts,
    rule_text,
)
from handlers.proposals.vote_export import cast_by, export
from handlers.text import clean, fold, has_control
from storage.proposals import SCHOOL_KINDS, PitchStatus, VoteDraft, VoteRecord
from storage.records import MemberRecord, PlannedOccurrence
from storage.repositories import Repositories

CLOSE, NUDGE = "vote.close", "vote.nudge"
MAX_OPTIONS = 10
VOTABLE = (PitchStatus.SUBMITTED, PitchStatus.SCHEDULED)  # the pitches "Stemming starten" works on


def voter_of(vote: VoteRecord, member: MemberRecord) -> str | None:
    """The ballot this member casts: their own, their school's, or None when they may not vote."""
    org = member.organisation
    if vote.werkgebied and (org is None or fold(org.werkgebied) != fold(vote.werkgebied)):
        return None
    if vote.electorate == "schools":
        return f"s:{org.id}" if org is not None and org.kind in SCHOOL_KINDS else None
    return f"m:{member.id}"


SubCommand = Callable[[HandlerContext, str], Awaitable[Outcome]]


class Votes:
    def __init__(self, subcommands: Mapping[str, SubCommand] | None = None) -> None:
        self.subcommands = dict(subcommands or {})  # e.g. "begroting": the budget round (handlers/budget)

    def feature(self) -> Feature:
        f = Feature("votes")
        f.command("stemming", self.command)
        f.form("stemming.form", self.submitted)
        f.action("stemming.stem", self.pressed)
        f.action("stemming.voor_pitch", self.for_pitch)
        f.action("stemming.biljet", self.ballot)
        f.action("stemming.poll", self.polled)
        f.form(BALLOT_FORM, self.ballot_cast)
        f.job(CLOSE, self.close_job)
        f.job(NUDGE, self.nudge_job)
        f.keep_current("vote:", self.current)
        return f

    # -- commands --------------------------------------------------------------------------------------

    async def command(self, ctx: HandlerContext, cmd: Command) -> Outcome:
        t = ctx.t
        text = clean(cmd.text, t, what=t("vote.what_command"), required=False, max_length=100)
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        if fold(word) in self.subcommands:
            return await self.subcommands[fold(word)](ctx, rest)
        match fold(word), rest:
            case "", _:
                ctx.require_coordinator()
                return self.form(ctx, None, "")
            case "lijst", _:
                return await self.listing(ctx)
            case "sluiten", number:
                ctx.require_coordinator()
                return await self.close_early(ctx, await self.find(ctx, number))
            case "export", number:
                ctx.require_coordinator()
                return await self.export(ctx, await self.find(ctx, number))
            case number, "" if number_of(number) is not None:
                return await self.show(ctx, await self.find(ctx, number))
        raise UserError(t("vote.unknown", p=ctx.prefix, word=word))

    async def find(self, ctx: HandlerContext, typed: str, *, lock: bool = False, share: bool = False) -> VoteRecord:
        number = number_of(typed)
        if number is None:
            raise UserError(ctx.t("vote.number_needed", p=ctx.prefix))
        vote = await ctx.repos.votes.get(number, lock=lock, share=share) if possible_id(number) else None
        if vote is None:
            raise UserError(ctx.t("vote.not_found", nr=number, p=ctx.prefix))
        return vote

    # -- starting a vote -------------------------------------------------------------------------------

    async def for_pitch(self, ctx: HandlerContext, action: Action) -> Outcome:
        """"Stemming starten" under a pitch: the form, with the question about that pitch."""
        ctx.require_coordinator()
        pitch_id = id_of(action.value)
        pitch = await ctx.repos.pitches.get(pitch_id) if pitch_id is not None else None
        if pitch is None:
            raise UserError(ctx.t("errors.unknown_action"))
        self.require_open_pitch(ctx, pitch.id, pitch.status)
        return self.form(ctx, ctx.t("vote.pitch_question", nr=pitch.id, title=pitch.title), str(pitch.id))

    @staticmethod
    def require_open_pitch(ctx: HandlerContext, pitch_id: int, status: str) -> None:
        """Only a pitch that is submitted or scheduled can be put to the vote (not twice, not after it
        was decided or withdrawn)."""
        if status not in VOTABLE:
            raise UserError(ctx.t("defects.cannot_vote", nr=pitch_id, status=ctx.t(f"pitch.status.{status}")))

    def form(self, ctx: HandlerContext, question: str | None, state: str) -> Form:
        t = ctx.t
        return Form("stemming.form", t("vote.form_title"), (
            FormField("question", t("vote.field_question"), max_length=300, initial=question or ""),
            FormField("options", t("vote.field_options"), hint=t("vote.hint_options"), max_length=500,
                      initial="voor, tegen, onthouding"),
            *kind_fields(t),
            FormField("electorate", t("vote.field_electorate"), FieldKind.CHOICE, initial="schools" if state else
                      "members", choices=(Choice("members", t("vote.per_member")),
                                          Choice("schools", t("vote.per_school")),
                                          *(Choice(c, t(f"pupil.circle_vote.{c}")) for c in CIRCLES))),
            FormField("werkgebied", t("vote.field_werkgebied"), hint=t("vote.hint_werkgebied"), required=False,
                      max_length=100),
            FormField("secret", t("vote.field_secret"), FieldKind.CHOICE, initial="nee",
                      choices=(Choice("nee", t("vote.open")), Choice("ja", t("vote.secret")))),
            FormField("visible", t("vote.field_visible"), FieldKind.CHOICE, initial="ja",
                      choices=(Choice("ja", t("vote.visible")), Choice("nee", t("vote.hidden")))),
            FormField("deadline", t("vote.field_deadline"), FieldKind.DATETIME, hint=t("vote.hint_deadline"),
                      max_length=60),
            FormField("quorum", t("vote.field_quorum"), hint=t("vote.hint_quorum"), required=False, max_length=10),
            FormField("threshold", t("vote.field_threshold"), hint=t("vote.hint_threshold"), required=False,
                      max_length=10),
            *((FormField("accepting", t("defects.field_accepting"), hint=t("defects.hint_accepting"),
                         required=False, max_length=60),) if state else ()),
        ), t("vote.form_submit"), state=state)

    def read(self, ctx: HandlerContext, values: Mapping[str, str]) -> VoteDraft:
        t = ctx.t
        errors: dict[str, str] = {}
        out: dict[str, Any] = {}
        try:
            out["question"] = clean(values.get("question", ""), t, what=t("vote.field_question"), max_length=300)
        except UserError as error:
            errors["question"] = error.message
        options = [o.strip() for o in values.get("options", "").split(",") if o.strip()]
        if not 2 <= len(options) <= MAX_OPTIONS or len({fold(o) for o in options}) != len(options) \
                or any(len(o) > 60 for o in options):
            errors["options"] = t("vote.bad_options", max=MAX_OPTIONS)
        else:
            try:
                out["options"] = tuple(clean(o, t, what=t("vote.field_options"), max_length=60) for o in options)
            except UserError as error:
                errors["options"] = error.message
        out.update(read_kind(values, len(options), t, errors))
        accepting = fold(values.get("accepting", ""))
        if "options" in out:
            folded = [fold(o) for o in out["options"]]
            if accepting and (accepting not in folded or accepting == ABSTAIN):
                errors["accepting"] = t("defects.bad_accepting", typed=values.get("accepting", "").strip(),
                                        options=", ".join(o for o in out["options"] if fold(o) != ABSTAIN))
            else:
                out["accepting_option"] = folded.index(accepting) if accepting else 0
        out["electorate"] = values.get("electorate") if values.get("electorate") in ("members", "schools", *CIRCLES) \
            else "members"
        try:
            out["werkgebied"] = clean(values.get("werkgebied", ""), t, what=t("vote.field_werkgebied"),
                                      max_length=100, required=False)
        except UserError as error:
            errors["werkgebied"] = error.message
        out["secret"] = values.get("secret") == "ja"
        out["show_while_open"] = values.get("visible", "ja") != "nee"
        try:
            typed = clean(values.get("deadline", ""), t, what=t("vote.field_deadline"), max_length=60, required=False)
            deadline, out["time_filled"] = parse_deadline(typed, ctx.now, ctx.settings.language)
            if deadline <= ctx.now + timedelta(minutes=5):
                errors["deadline"] = t("vote.deadline_soon")
            else:
                out["deadline"] = deadline
        except UnclearDate as error:
            errors["deadline"] = error.message
        except UserError as error:
            errors["deadline"] = error.message
        except ValueError:
            errors["deadline"] = t("vote.bad_deadline")
        for name, limit in (("quorum", 100_000), ("threshold", 100)):
            typed = values.get(name, "").strip().rstrip("%").split(" ")[0]
            number = number_of(typed) if typed else 0
            if number is None or not 0 <= number <= limit:
                errors[name] = t(f"vote.bad_{name}")
            out[name] = number or 0
        if errors:
            raise FormErrors(errors)
        return VoteDraft(**out)

    async def submitted(self, ctx: HandlerContext, form: FormSubmission) -> Outcome:
        ctx.require_coordinator()
        draft = self.read(ctx, form.values)
        pitch_id = id_of(form.state)
        if form.state and pitch_id is None:
            raise UserError(ctx.t("trust.pitch_gone", p=ctx.prefix))
        if pitch_id is not None:
            pitch = await ctx.repos.pitches.get(pitch_id)
            if pitch is None:
                raise UserError(ctx.t("trust.pitch_gone", p=ctx.prefix))
            self.require_open_pitch(ctx, pitch.id, pitch.status)
        channel = form.channel or "proposals"
        if len(channel) > 255 or has_control(channel, multiline=False):  # stored: a channel id is neither
            raise UserError(ctx.t("errors.unknown_action"))
        number = await ctx.repos.votes.create(draft, pitch_id=pitch_id, channel=channel, by=ctx.member.id,
                                              now=ctx.now)
        deadline = draft.deadline
        await ctx.repos.occurrences.schedule(PlannedOccurrence(f"{CLOSE}:{number}", CLOSE, deadline,
                                                               {"vote": number}))
        nudge = deadline - timedelta(hours=ctx.settings.vote_nudge_hours)
        if ctx.settings.vote_nudge_hours and nudge > ctx.now:
            await ctx.repos.occurrences.schedule(PlannedOccurrence(f"{NUDGE}:{number}", NUDGE, nudge,
                                                                   {"vote": number}, expires_at=deadline))
        if pitch_id is not None:
            if not await ctx.repos.pitches.move(pitch_id, PitchStatus.VOTING, by=ctx.member.id, now=ctx.now,
                                                from_status=VOTABLE, note=f"stemming #{number}"):
                raise UserError(ctx.t("defects.cannot_vote", nr=pitch_id, status=ctx.t("pitch.status.in_stemming")))
            ctx.changed(f"pitch:{pitch_id}")
        vote = await ctx.repos.votes.get(number)
        assert vote is not None
        await ctx.post(channel, await self.message(ctx.repos, vote, ctx.t, ctx.settings), key=f"vote:{number}")
        started = ctx.t("vote.started", nr=number, deadline=when(deadline, ctx.settings))
        if draft.time_filled:  # "over 3 dagen": say which time of that day
            started += " " + ctx.t("defects.time_filled", time=f"{deadline:%H:%M}")
        return Reply.text(started)

    # -- the message in the channel --------------------------------------------------------------------

    async def current(self, ctx: JobContext, key: str) -> Reply | None:
        """The vote message of outbox key `vote:<nr>` as it is now (bot/refresh.py)."""
        number = id_of(key.removeprefix("vote:"))
        vote = await ctx.repos.votes.get(number) if number is not None else None
        return await self.message(ctx.repos, vote, ctx.t, ctx.settings) if vote else None

    async def message(self, repos: Repositories, vote: VoteRecord, t: Catalog, settings: Settings) -> Reply:
        """The vote as the channel sees it now: buttons while open, the tally if it may be seen."""
        ballots = await repos.votes.ballots(vote.id)
        counts, cast = counts_of(vote, ballots), len(ballots)
        rules = [*((rule_text(vote, t),) if vote.kind != SINGLE else ()),
                 t("vote.per_school") if vote.electorate == "schools" else t(f"pupil.circle_vote.{vote.electorate}")
                 if vote.electorate in CIRCLES else t("vote.per_member"),
                 t("vote.secret") if vote.secret else t("vote.open")]
        if vote.werkgebied:
            rules.append(t("vote.only_werkgebied", werkgebied=vote.werkgebied))
        if vote.pitch_id is not None and vote.accepting_option is not None:
            rules.append(t("defects.accepts", option=vote.options[vote.accepting_option], nr=vote.pitch_id))
        parts: list[Part] = [Heading(t("vote.heading", nr=vote.id, question=vote.question))]
        if vote.closed_at is None:
            parts.append(Context(t("vote.closes", deadline=when(vote.deadline, settings)) + " · " + " · ".join(rules)))
            shown = " · ".join(f"{o}: {counts.get(i, 0)}" for i, o in enumerate(vote.options))
            parts.append(Text(t.plural("vote.cast", cast) + (f" — {shown}" if vote.show_while_open else "")))
            if vote.kind == SINGLE:
                buttons = tuple(Button(o, "stemming.stem", f"{vote.id}:{i}") for i, o in enumerate(vote.options))
                parts.append(Actions(buttons, ballot=Ballot.SECRET if vote.secret else Ballot.OPEN))
            else:  # a form: checkboxes or a ranking; an open vote of several choices is also a poll (Matrix)
                poll = tuple(Button(o, "stemming.poll", f"{vote.id}:{i}") for i, o in enumerate(vote.options)) \
                    if vote.kind == MULTIPLE and not vote.secret else ()
                parts.append(Actions((Button(t("budget2.vote_button"), "stemming.biljet", str(vote.id)),),
                                     Ballot.OPEN if poll else Ballot.NONE, poll, vote.max_choices))
        else:
            parts.extend(self.result_parts(vote, t))
        return Reply(tuple(parts))

    def result_parts(self, vote: VoteRecord, t: Catalog) -> list[Part]:
        result = vote.result
        counts = result.get("counts", [])
        lines = [Item(f"{o}: {counts[i] if i < len(counts) else 0}") for i, o in enumerate(vote.options)]
        winner = result.get("winner")
        decision = t("vote.no_quorum", quorum=vote.quorum) if not result.get("quorum_met") else (
            t("vote.decided", option=vote.options[winner]) if winner is not None else t("vote.no_majority"))
        return [Text(t("vote.closed_heading")), *lines, *rounds_parts(vote, t),
                Text(t("vote.turnout", cast=result.get("cast", 0), eligible=result.get("eligible", 0))),
                Text(decision)]

    # -- a press ----------------------------------------------------------------------------------------

    async def voter(self, ctx: HandlerContext, vote: VoteRecord) -> str:
        """The ballot the actor casts in this vote (theirs or their school's); UserError when they may not."""
        t = ctx.t
        if vote.closed_at is not None or ctx.now >= vote.deadline:
            raise UserError(t("vote.is_closed", deadline=when(vote.closed_at or vote.deadline, ctx.settings)))
        voter = voter_of(vote, ctx.member)
        if voter is None:
            raise UserError(t("vote.not_eligible_school") if vote.electorate == "schools" and not vote.werkgebied
                            else t("vote.not_eligible", werkgebied=vote.werkgebied or "-"))
        if vote.electorate in CIRCLES and not await ctx.repos.circles.is_member(vote.electorate, ctx.member.id):
            raise UserError(t("pupil.not_in_circle_vote", circle=t(f"pupil.circle.{vote.electorate}")))
        return voter

    async def pressed(self, ctx: HandlerContext, action: Action) -> Outcome:
        t = ctx.t
        number, _, typed_option = action.value.partition(":")
        vote = await self.find(ctx, number, share=True)
        option = number_of(typed_option)
        if option is None or option >= len(vote.options) or vote.kind != SINGLE:
            raise UserError(t("errors.unknown_action"))
        voter = await self.voter(ctx, vote)
        # the moment of the press, not of its handling: of two quick presses the second counts, also
        # when the platform delivers or we handle them the other way round
        pressed = min(action.pressed_at or ctx.now, ctx.now)
        if await ctx.repos.votes.cast(vote.id, voter, ctx.member.id, option, pressed):
            ctx.changed(f"vote:{vote.id}")
            current = option  # this press is the ballot now
        else:  # a later press was counted already: that one stands
            later = await ctx.repos.votes.ballot(vote.id, voter)
            assert later is not None
            current = later.option
        for_whom = t("vote.for_school", school=ctx.member.organisation.name) \
            if vote.electorate == "schools" and ctx.member.organisation else ""
        return Reply.text(t("vote.your_ballot", option=vote.options[current], for_whom=for_whom,
                            deadline=when(vote.deadline, ctx.settings)))

    async def ballot(self, ctx: HandlerContext, action: Action) -> Outcome:
        """"Stemmen" under a vote with several choices or a ranking: the ballot form, with the current ballot."""
        vote = await self.find(ctx, action.value)
        if vote.kind == SINGLE:
            raise UserError(ctx.t("errors.unknown_action"))
        return ballot_form(vote, await ctx.repos.votes.ballot(vote.id, await self.voter(ctx, vote)), ctx.t)

    async def ballot_cast(self, ctx: HandlerContext, form: FormSubmission) -> Outcome:
        vote = await self.find(ctx, form.state, share=True)
        voter = await self.voter(ctx, vote)
        chosen = read_ballot(vote, form.values, ctx.t)
        if await ctx.repos.votes.cast(vote.id, voter, ctx.member.id, chosen[0], ctx.now, chosen):
            ctx.changed(f"vote:{vote.id}")
        return Reply.text(ctx.t("vote.your_ballot", option=chosen_text(vote, chosen), for_whom="",
                                deadline=when(vote.deadline, ctx.settings)))

    async def polled(self, ctx: HandlerContext, action: Action) -> Outcome:
        """The answers of an open vote's poll of several choices (Matrix), the whole ballot: "<vote>:<option>,…"."""
        pairs = [value.partition(":") for value in action.value.split(",")]
        if len({number for number, _, _ in pairs}) != 1:
            raise UserError(ctx.t("errors.unknown_action"))
        form = FormSubmission(BALLOT_FORM, {"options": ",".join(o for _, _, o in pairs)}, action.actor,
                              state=pairs[0][0], channel=action.channel)
        try:
            return await self.ballot_cast(ctx, form)
        except FormErrors as error:  # more answers than the maximum, or no option of this vote
            raise UserError(" ".join(error.errors.values())) from error

    # -- closing -----------------------------------------------------------------------------------------

    async def close_job(self, ctx: JobContext) -> None:
        """At the deadline (or at start-up after it): the result as of the deadline."""
        vote = await ctx.repos.votes.get(int(ctx.due.payload["vote"]), lock=True)
        if vote is not None and vote.closed_at is None:
            await self.close(ctx, vote, min(ctx.now, vote.deadline))

    async def close(self, ctx: AnyContext, vote: VoteRecord, at: datetime) -> VoteRecord:
        repos, t = ctx.repos, ctx.t
        eligible = len(await repos.votes.electorate(vote))
        result = count(vote, await repos.votes.ballots(vote.id), eligible)
        await repos.votes.close(vote.id, at, result)
        closed = await repos.votes.get(vote.id)
        assert closed is not None
        for_pitch: list[Part] = []
        if vote.pitch_id is not None:
            status = pitch_decision(vote, result)
            if await repos.pitches.move(vote.pitch_id, status, by=None, now=at,
                                        from_status=(PitchStatus.VOTING, PitchStatus.SUBMITTED, PitchStatus.SCHEDULED),
                                        note=f"stemming #{vote.id}"):
                for_pitch.append(Text(t("defects.pitch_now", nr=vote.pitch_id, status=t(f"pitch.status.{status}"))))
            ctx.changed(f"pitch:{vote.pitch_id}")
        await ctx.post(vote.channel, Reply((
            Heading(t("vote.result_heading", nr=vote.id, question=vote.question)),
            *self.result_parts(closed, t), *for_pitch, *(await self.names(repos, closed, t)))),
            key=f"vote:{vote.id}:result")
        ctx.changed(f"vote:{vote.id}")
        return closed

    async def names(self, repos: Repositories, vote: VoteRecord, t: Catalog) -> list[Part]:
        """Who chose what: only for an open vote, only after the close; in a vote per school, each school
        with the member who cast its ballot."""
        if vote.secret or vote.closed_at is None:
            return []
        by_option: dict[int, list[str]] = {}
        for ballot, name in await cast_by(repos, vote):
            for option in ballot.choices if vote.kind != "ranked" else ballot.choices[:1]:
                by_option.setdefault(option, []).append(name)
        return [Context(t("vote.who", option=vote.options[i], names=", ".join(sorted(names))))
                for i, names in sorted(by_option.items())]

    async def school_ballots(self, ctx: HandlerContext, vote: VoteRecord) -> list[Part]:
        """Who cast a school's ballot, for that school's members (their own school) and coordinators
        (every school): never in the channel. What it says only in an open vote."""
        if vote.electorate != "schools":
            return []
        own = voter_of(vote, ctx.member)
        lines = []
        for ballot, name in await cast_by(ctx.repos, vote):
            if ctx.is_coordinator or ballot.voter == own:
                lines.append(ctx.t("trust.school_ballot_secret", who=name) if vote.secret else
                             ctx.t("trust.school_ballot", who=name, option=chosen_text(vote, ballot.choices)))
        return [Context(line) for line in sorted(lines)]

    async def close_early(self, ctx: HandlerContext, vote: VoteRecord) -> Reply:
        occurrence = await ctx.repos.occurrences.by_key(f"{CLOSE}:{vote.id}")
        if occurrence is None or not await ctx.repos.occurrences.claim(occurrence.id, "done", ctx.now):
            raise UserError(ctx.t("vote.already_closed", nr=vote.id))
        locked = await self.find(ctx, str(vote.id), lock=True)
        await self.close(ctx, locked, ctx.now)
        return Reply.text(ctx.t("vote.closed_early", nr=vote.id))

    async def nudge_job(self, ctx: JobContext) -> None:
        """24 hours before the close: a private reminder to every member (or school) that has not voted."""
        vote = await ctx.repos.votes.get(int(ctx.due.payload["vote"]))
        if vote is None or vote.closed_at is not None:
            return
        voted = {b.voter for b in await ctx.repos.votes.ballots(vote.id)}
        nudge = Reply.text(ctx.t("vote.nudge", nr=vote.id, question=vote.question,
                                 deadline=when(vote.deadline, ctx.settings)))
        for voter, members in (await ctx.repos.votes.electorate(vote)).items():
            if voter not in voted:
                for member_id in members:
                    await ctx.post(f"member:{member_id}", nudge, key=f"vote:{vote.id}:nudge:{member_id}")

    # -- the decision log ----------------------------------------------------------------------------------

    async def listing(self, ctx: HandlerContext) -> Reply:
        votes = await ctx.repos.votes.listing()
        if not votes:
            return Reply.text(ctx.t("vote.none"))
        t = ctx.t
        items = []
        for vote in votes:
            if vote.closed_at is None:
                state = t("vote.closes", deadline=when(vote.deadline, ctx.settings))
            else:
                winner = vote.result.get("winner")
                state = t("vote.decided", option=vote.options[winner]) if winner is not None else t("vote.undecided")
            items.append(Item(f"#{vote.id} {vote.question}", (state,)))
        return Reply((Heading(t("vote.list_heading")), *items))

    async def show(self, ctx: HandlerContext, vote: VoteRecord) -> Reply:
        """The vote as in the channel (with its buttons while open: a press is answered privately)."""
        message = await self.message(ctx.repos, vote, ctx.t, ctx.settings)
        names = await self.names(ctx.repos, vote, ctx.t)
        return Reply((*message.parts, *(names or await self.school_ballots(ctx, vote))))

    async def export(self, ctx: HandlerContext, vote: VoteRecord) -> Reply:
        return await export(ctx, vote)


def when(moment: datetime, settings: Settings) -> str:
    return format_datetime(moment.astimezone(settings.zone), "EEEE d MMMM HH:mm", locale=settings.language)
