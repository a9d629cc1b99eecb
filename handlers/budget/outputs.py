"""What a closed budget round produces besides its message: the chart (PNG) and the Pabulib export.

The chart: a bar per pitch (its amount), funded bars coloured, the support written on each bar, the
budget as a horizontal line; matplotlib with the Agg backend (no display needed).
The export: the ballots in the open Pabulib format (written by pabutools), so anyone can recompute
the result; in a secret round the voters are numbered 1, 2, … in the order of their ballots' content,
so neither names nor the order of voting can be read from it.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from pabutools.election import ApprovalBallot, ApprovalProfile, Instance, OrdinalBallot, OrdinalProfile, Project
from pabutools.election.pabulib import election_as_pabulib_string

from bot.core.reply import File
from handlers.budget.allocation import Allocation, name_of


@dataclass(frozen=True)
class RoundPitch:
    id: int
    title: str
    cost: int  # cents


def chart(number: int, budget: int, pitches: Sequence[RoundPitch], allocation: Allocation, *,
          funded_label: str = "toegekend", budget_label: str = "budget") -> File:
    """The result as a bar chart, in euros (the amounts are cents). matplotlib is imported here, when a round
    closes: at the start it cost 0.65 s of the 3.4 s that importing the bot took (`python -X importtime`), for
    every start (a restart after a crash too) and every CLI command."""
    from matplotlib.figure import Figure  # Figure draws with the Agg backend: no display, no global state
    from matplotlib.patches import Patch

    figure = Figure(figsize=(max(6.0, 0.6 * len(pitches) + 2), 4.5), dpi=100)
    axes = figure.subplots()
    labels = [f"#{p.id}" for p in pitches]
    heights = [p.cost / 100 for p in pitches]
    colours = ["#2a9d8f" if p.id in allocation.funded else "#c9c9c9" for p in pitches]
    bars = axes.bar(labels, heights, color=colours)
    for bar, pitch in zip(bars, pitches, strict=True):
        axes.annotate(str(allocation.support.get(pitch.id, 0)), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                      ha="center", va="bottom", fontsize=9)
    line = axes.axhline(budget / 100, color="#e76f51", linestyle="--")
    axes.set_ylabel("€")
    axes.legend([line, Patch(color="#2a9d8f")], [budget_label, funded_label], loc="upper right")
    axes.set_title(f"Begrotingsronde #{number}")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return File(f"begrotingsronde-{number}.png", "image/png", out.getvalue(), f"Begrotingsronde #{number}")


def pabulib(number: int, budget: int, pitches: Sequence[RoundPitch], ballots: Sequence[tuple[str, Collection[int]]],
            *, secret: bool, ranked: bool = False, description: str = "") -> File:
    """The round in the Pabulib format: costs in cents (unit noted in the description), approval ballots
    (vote_type approval) or the ranked ballots in the voters' order (vote_type ordinal)."""
    projects = {p.id: Project(name_of(p.id), p.cost) for p in pitches}
    instance = Instance(projects.values(), budget_limit=budget, meta={
        "description": description or f"netwerkbot begrotingsronde {number} (bedragen in eurocent)",
        "country": "Netherlands", "unit": "netwerkbot", "instance": str(number),
        "rule": "equalshares (completion: add-share, then greedy)"},
        project_meta={projects[p.id]: {"project_id": name_of(p.id), "cost": p.cost,
                                          "name": " ".join(p.title.replace(";", ",").split())}
                      for p in pitches})
    rows = [(voter, [p for p in chosen if p in projects] if ranked else sorted(p for p in chosen if p in projects))
            for voter, chosen in ballots]
    if secret:
        rows = [(str(i), chosen) for i, (_, chosen) in enumerate(sorted(rows, key=lambda row: row[1]), start=1)]
    profile = OrdinalProfile([OrdinalBallot((projects[p] for p in chosen), name=voter) for voter, chosen in rows],
                             instance=instance) if ranked else \
        ApprovalProfile([ApprovalBallot((projects[p] for p in chosen), name=voter) for voter, chosen in rows])
    text = election_as_pabulib_string(instance, profile)
    return File(f"begrotingsronde-{number}.pb", "text/plain", text.encode(), f"Begrotingsronde #{number} (Pabulib)")
