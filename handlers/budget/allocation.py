"""Who gets the money: the Method of Equal Shares (with completion) and, for comparison, greedy.

Both are computed by `pabutools` (the maintained library of the participatory-budgeting research
community), on amounts in cents, so no rounding can fund more than the budget.

- Equal Shares: the budget is split equally over the voters (schools or members); a pitch is funded
  when its supporters can pay for it together from their shares, the pitch that costs each supporter
  the least first. Completion: while money is left, every share is raised a little and the method runs
  again (as long as the outcome still fits the budget); what is then still left goes to the pitches
  with the most support that still fit (greedy).
- Greedy: most support first, skipping what no longer fits.
- A ranked ballot (the pitches a voter supports, in order) counts in Equal Shares by its order: a
  pitch in place k of n pitches in the round is worth n - k + 1 to that voter (pabutools'
  positional satisfaction, the Borda score over the whole round, so a voter's last choice still
  counts); the completion and greedy count every pitch on the ballot as supported.

Ties are broken by the pitch number: the lower (the earlier submitted) pitch goes first. pabutools
breaks ties by project name, so the names are the zero-padded pitch numbers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pabutools.election import (
    AbstractProfile,
    ApprovalBallot,
    ApprovalProfile,
    Cost_Sat,
    Instance,
    OrdinalBallot,
    OrdinalProfile,
    Project,
)
from pabutools.election.ballot import AbstractOrdinalBallot
from pabutools.election.satisfaction import PositionalSatisfaction
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
from pabutools.tiebreaking import lexico_tie_breaking

FUNDED, NO_SUPPORT, TOO_EXPENSIVE, TOO_LITTLE_SUPPORT, BUDGET_USED = (
    "funded", "no_support", "too_expensive", "too_little_support", "budget_used")
STEPS = 100  # completion raises every share by 1/STEPS of the equal share at a time


@dataclass(frozen=True)
class Allocation:
    funded: tuple[int, ...]  # pitch ids, Equal Shares with completion
    greedy: tuple[int, ...]  # pitch ids, most support first while it fits
    support: dict[int, int]  # pitch id → voters who approved it
    reasons: dict[int, str]  # pitch id → FUNDED or why not
    spent: int  # cents, Equal Shares
    voters: int

    def as_json(self) -> dict[str, Any]:
        return {"funded": list(self.funded), "greedy": list(self.greedy), "spent": self.spent, "voters": self.voters,
                "support": {str(k): v for k, v in self.support.items()},
                "reasons": {str(k): v for k, v in self.reasons.items()}}


def name_of(pitch: int) -> str:
    return f"{pitch:09d}"


class RankedSat(PositionalSatisfaction):  # type: ignore[misc]
    """What a pitch on a ranked ballot is worth to its voter: the number of pitches in the round minus its
    place (first of 5: 5, last of 5: 1), not on the ballot: 0."""

    def __init__(self, instance: Instance, profile: AbstractProfile, ballot: AbstractOrdinalBallot) -> None:
        size = len(instance)

        def score(ranked: AbstractOrdinalBallot, project: Project) -> int:
            return size - ranked.position(project) if project in ranked else 0

        super().__init__(instance, profile, ballot, score, sum)


def allocate(budget: int, costs: Mapping[int, int], ballots: Sequence[Collection[int]], *,
             ranked: bool = False) -> Allocation:
    """The outcome for a budget and pitch costs in cents and the ballots (collections of pitch ids, in the
    voter's order when `ranked`; ids that are not among `costs` are ignored: a pitch withdrawn after the
    ballot was cast)."""
    support = {pitch: sum(1 for ballot in ballots if pitch in ballot) for pitch in costs}
    # a pitch nobody supports is no candidate at all (greedy completion would otherwise fill the rest with it)
    projects = {pitch: Project(name_of(pitch), cost) for pitch, cost in costs.items() if support[pitch]}
    instance = Instance(projects.values(), budget_limit=budget)
    profile = ApprovalProfile([ApprovalBallot(projects[p] for p in ballot if p in projects) for ballot in ballots])
    funded: list[int] = []
    greedy: list[int] = []
    if projects:
        step = max(1, budget // len(ballots) // STEPS)
        if ranked:
            order = OrdinalProfile([OrdinalBallot(projects[p] for p in dict.fromkeys(ballot) if p in projects)
                                    for ballot in ballots], instance=instance)
            mes = method_of_equal_shares(instance, order, sat_class=RankedSat, voter_budget_increment=step,
                                         tie_breaking=lexico_tie_breaking)
        else:
            mes = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=step,
                                         tie_breaking=lexico_tie_breaking)
        # the completion's last step: what is still left goes to the most supported pitches that fit
        mes = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, tie_breaking=lexico_tie_breaking,
                                         initial_budget_allocation=mes)
        funded = sorted(int(p.name) for p in mes)
        greedy = sorted(int(p.name) for p in greedy_utilitarian_welfare(
            instance, profile, sat_class=Cost_Sat, tie_breaking=lexico_tie_breaking))
    spent = sum(costs[p] for p in funded)
    assert spent <= budget, "an allocation never spends more than the budget"
    share = budget / len(ballots) if ballots else 0
    reasons: dict[int, str] = {}
    for pitch, cost in costs.items():
        if pitch in funded:
            reasons[pitch] = FUNDED
        elif not support[pitch]:
            reasons[pitch] = NO_SUPPORT
        elif cost > budget:
            reasons[pitch] = TOO_EXPENSIVE
        elif cost > support[pitch] * share:
            reasons[pitch] = TOO_LITTLE_SUPPORT  # its supporters' equal shares together are less than its cost
        else:
            reasons[pitch] = BUDGET_USED  # its supporters spent their shares on other funded pitches
    return Allocation(tuple(funded), tuple(greedy), support, reasons, spent, len(ballots))
