"""Who cast which ballot of a `/stemming`, and its CSV export (the counts; per ballot who and what in an
open vote, only the counts in a secret one)."""

from __future__ import annotations

import csv
import io

from bot.core.reply import File, Heading, Reply
from handlers.context import HandlerContext
from handlers.proposals.ballots import chosen_text, counts_of
from storage.proposals import BallotRecord, VoteRecord
from storage.repositories import Repositories


async def cast_by(repos: Repositories, vote: VoteRecord) -> list[tuple[BallotRecord, str]]:
    """Every ballot with who it is: the member, or "school (member who cast it)" in a vote per school."""
    ballots = await repos.votes.ballots(vote.id)
    if vote.electorate != "schools":
        return [(b, b.member_name) for b in ballots]
    schools = {f"s:{o.id}": o.name for o in await repos.organisations.all()}
    return [(b, f"{schools.get(b.voter, '?')} ({b.member_name or '?'})") for b in ballots]


async def export(ctx: HandlerContext, vote: VoteRecord) -> Reply:
    """CSV: the counts, and per ballot who and what (an open vote) or only what (a secret one)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["stemming", "vraag", "optie", "stemmen"])
    counts = counts_of(vote, await ctx.repos.votes.ballots(vote.id))
    if vote.closed_at is not None:  # the result keeps the counts after the ballots' retention (PRIVACY.md)
        counts = dict(enumerate(vote.result.get("counts", [])))
    for i, option in enumerate(vote.options):
        writer.writerow([vote.id, spreadsheet_safe(vote.question), spreadsheet_safe(option), counts.get(i, 0)])
    if not vote.secret and vote.closed_at is not None:
        writer.writerow([])
        writer.writerow(["stemming", "naam", "optie"])
        for ballot, name in await cast_by(ctx.repos, vote):
            writer.writerow([vote.id, spreadsheet_safe(name), spreadsheet_safe(chosen_text(vote, ballot.choices))])
    return Reply((Heading(ctx.t("vote.export_heading", nr=vote.id)),
                  File(f"stemming-{vote.id}.csv", "text/csv", out.getvalue().encode("utf-8-sig"),
                       ctx.t("vote.export_heading", nr=vote.id))))


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: a question or name starting with = + - @ is no formula."""
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@") else cell
