"""The close of a budget round at its deadline: an occurrence (bot/scheduler.py), so it happens exactly
once, also after a restart, with the ballots as they were at the deadline.

The allocation counts the pitches of the round that are still in play at the close (a pitch withdrawn
or rejected after the opening is left out, and ballots naming it count for the others). Each counted
pitch becomes *toegekend* (with its amount) or *niet toegekend* in its history. The result message,
with its chart as a File part, goes through the outbox to the round's channel.
"""

from __future__ import annotations

from babel.dates import format_datetime

from bot.core.reply import Context, Heading, Item, Part, Reply, Text
from handlers.budget.allocation import FUNDED, Allocation, allocate
from handlers.budget.outputs import RoundPitch, chart
from handlers.context import JobContext
from handlers.proposals.money import euros
from storage.budget import RoundRecord
from storage.proposals import PitchStatus

CLOSE = "budget.close"
OUT_OF_PLAY = (PitchStatus.WITHDRAWN, PitchStatus.REJECTED)
IN_PLAY = (PitchStatus.SUBMITTED, PitchStatus.SCHEDULED, PitchStatus.VOTING, PitchStatus.ACCEPTED)


async def close_job(ctx: JobContext) -> None:
    """At the deadline (or at start-up after it): close the round, once."""
    found = await ctx.repos.budget.get(int(ctx.due.payload["round"]), lock=True)
    if found is not None and found.closed_at is None:
        await close(ctx, found)


async def close(ctx: JobContext, budget_round: RoundRecord) -> Allocation:
    at = min(ctx.now, budget_round.deadline)
    pitches = [RoundPitch(p.id, p.title, p.amount_cents) for p in await ctx.repos.pitches.by_ids(budget_round.pitches)
               if p.status not in OUT_OF_PLAY]
    ballots = [b.choices for b in await ctx.repos.budget.ballots(budget_round.id)]
    allocation = allocate(budget_round.budget_cents, {p.id: p.cost for p in pitches}, ballots,
                          ranked=budget_round.kind == "ranked")
    await ctx.repos.budget.close(budget_round.id, at, allocation.as_json())
    lang = ctx.settings.language
    for pitch in pitches:
        funded = pitch.id in allocation.funded
        status = PitchStatus.GRANTED if funded else PitchStatus.NOT_GRANTED
        note = ctx.t("budget.history_note", nr=budget_round.id, amount=euros(pitch.cost if funded else 0, lang))
        await ctx.repos.pitches.move(pitch.id, status, by=None, now=at, from_status=IN_PLAY, note=note)
    message = result_message(ctx, budget_round, pitches, allocation)
    await ctx.post(budget_round.channel, message, key=f"budget:{budget_round.id}:result")
    ctx.changed(f"budget:{budget_round.id}")  # the round's message: closed, without its button
    return allocation


def result_message(ctx: JobContext, budget_round: RoundRecord, pitches: list[RoundPitch],
                   allocation: Allocation) -> Reply:
    t, lang = ctx.t, ctx.settings.language
    parts: list[Part] = [Heading(t("budget.result_heading", nr=budget_round.id))]
    if ctx.late:
        deadline = format_datetime(budget_round.deadline.astimezone(ctx.settings.zone), "EEEE d MMMM HH:mm",
                                   locale=lang)
        parts.append(Context(t("budget.late", deadline=deadline)))
    if not allocation.voters:
        parts.append(Text(t("budget.no_ballots")))
    for pitch in pitches:
        reason = allocation.reasons[pitch.id]
        state = t("budget.funded") if reason == FUNDED else t(f"budget.reason.{reason}")
        parts.append(Item(f"#{pitch.id} {pitch.title}", (t("budget.item", amount=euros(pitch.cost, lang),
                                                            support=allocation.support[pitch.id],
                                                            voters=allocation.voters, state=state),)))
    budget = budget_round.budget_cents
    parts.append(Text(t("budget.total", spent=euros(allocation.spent, lang), budget=euros(budget, lang),
                        left=euros(budget - allocation.spent, lang))))
    if allocation.greedy != allocation.funded:
        names = ", ".join(f"#{p}" for p in allocation.greedy) or t("budget.greedy_none")
        parts.append(Context(t("budget.greedy", pitches=names)))
    parts.append(Context(t("budget.rule") + (" " + t("budget2.ranked_rule") if budget_round.kind == "ranked" else "")))
    parts.append(chart(budget_round.id, budget, pitches, allocation, funded_label=t("budget.funded")))
    return Reply(tuple(parts))
