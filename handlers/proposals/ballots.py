"""How a `/stemming` is counted, per kind of vote, and the ballot of the kinds without a button per option.

- **single** (a button per option): the option with a majority of the votes cast without abstentions (or
  at least `threshold` percent of them); a tie is no decision.
- **multiple** (tick at most `max_choices` options, in a form): each ticked option counts once; the option
  ticked on the most ballots wins (with a threshold: on at least that percentage of the ballots); a tie
  is no decision.
- **ranked** (order the options, in a form): instant-runoff, counted by `pyrankvote`: each ballot counts
  for its highest option still in the race; while no option has more than half of those ballots, the
  option with the fewest is dropped (a tie at the bottom: the fewest second choices, then third, …;
  options that together cannot catch up are dropped at once) and its ballots go to their next choice.
  A tie in the last round is no decision. Every round is kept in the result and shown.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pyrankvote import Ballot as RankedBallot
from pyrankvote import Candidate, instant_runoff_voting
from pyrankvote.helpers import CandidateStatus

from bot.core.errors import FormErrors
from bot.core.numbers import number_of
from bot.core.reply import Choice, Context, FieldKind, Form, FormField, Item, Part
from config.i18n import Catalog
from handlers.text import fold
from storage.proposals import BallotRecord, PitchStatus, VoteRecord

SINGLE, MULTIPLE, RANKED = "single", "multiple", "ranked"
KINDS = (SINGLE, MULTIPLE, RANKED)
ABSTAIN = "onthouding"
BALLOT_FORM = "stemming.stembiljet"


def outcome(vote: VoteRecord, counts: Mapping[int, int], eligible: int) -> dict[str, Any]:
    """Counts, turnout, quorum and the decision of a vote with one choice per ballot."""
    cast = sum(counts.values())
    counted = {i: n for i, n in counts.items() if fold(vote.options[i]) != ABSTAIN}
    valid = sum(counted.values())
    quorum_met = cast >= vote.quorum
    winner = None
    if quorum_met and valid:
        best = max(counted, key=lambda i: counted[i])
        share = 100 * counted[best] / valid
        tied = sum(1 for n in counted.values() if n == counted[best]) > 1
        if not tied and (share >= vote.threshold if vote.threshold else share > 50):
            winner = best
    return {"counts": [counts.get(i, 0) for i in range(len(vote.options))], "cast": cast, "eligible": eligible,
            "quorum_met": quorum_met, "winner": winner}


def counts_of(vote: VoteRecord, ballots: Iterable[BallotRecord]) -> dict[int, int]:
    """Per option: the ballots that chose it (multiple), or that put it first (single, ranked)."""
    counted: Counter[int] = Counter()
    for ballot in ballots:
        counted.update(ballot.choices if vote.kind == MULTIPLE else ballot.choices[:1])
    return dict(counted)


def count(vote: VoteRecord, ballots: Sequence[BallotRecord], eligible: int) -> dict[str, Any]:
    """The result of a closed vote of any kind (stored as `votes.result`)."""
    counts = counts_of(vote, ballots)
    if vote.kind == SINGLE:
        return outcome(vote, counts, eligible)
    result: dict[str, Any] = {"counts": [counts.get(i, 0) for i in range(len(vote.options))], "cast": len(ballots),
                              "eligible": eligible, "quorum_met": len(ballots) >= vote.quorum, "winner": None}
    if vote.kind == RANKED:
        result["winner"], result["rounds"] = instant_runoff(vote.options, [b.choices for b in ballots])
    elif ballots:
        best = max(counts.values(), default=0)
        top = [i for i, n in counts.items() if n == best and fold(vote.options[i]) != ABSTAIN]
        if len(top) == 1 and 100 * best / len(ballots) >= vote.threshold:
            result["winner"] = top[0]
    if not result["quorum_met"]:
        result["winner"] = None
    return result


def instant_runoff(options: Sequence[str],
                   rankings: Sequence[Sequence[int]]) -> tuple[int | None, list[dict[str, Any]]]:
    """The winner (an option index, or None on a tie or without ballots) and every round: the votes per
    option still in the race and the options dropped in it."""
    candidates = {i: Candidate(str(i)) for i, o in enumerate(options) if fold(o) != ABSTAIN}
    ballots = [RankedBallot([candidates[i] for i in dict.fromkeys(r) if i in candidates]) for r in rankings]
    if not ballots or not candidates:
        return None, []
    state = random.getstate()
    random.seed(0)  # pyrankvote draws lots only on a complete tie; a fixed seed makes even that repeatable
    try:
        election = instant_runoff_voting(list(candidates.values()), ballots)
    finally:
        random.setstate(state)
    rounds: list[dict[str, Any]] = []
    out: set[int] = set()
    for result in election.rounds:
        votes = {int(c.candidate.name): round(c.number_of_votes) for c in result.candidate_results
                 if int(c.candidate.name) not in out}
        decided = any(c.status == CandidateStatus.Elected for c in result.candidate_results)
        dropped = [] if decided else sorted(i for i in votes if any(
            c.status == CandidateStatus.Rejected and int(c.candidate.name) == i for c in result.candidate_results))
        out.update(dropped)
        rounds.append({"votes": {str(i): n for i, n in sorted(votes.items())}, "out": dropped})
    winners = [int(c.name) for c in election.get_winners()]
    final = rounds[-1]["votes"] if rounds else {}
    counted = sum(final.values())
    winner = winners[0] if len(winners) == 1 and 2 * final.get(str(winners[0]), 0) > counted else None
    return winner, rounds


def pitch_decision(vote: VoteRecord, result: Mapping[str, Any]) -> str:
    """What the posted decision means for the pitch: accepted when the accepting option won, rejected
    when another did, and back on the agenda when there was no decision (no quorum, no majority)."""
    winner = result.get("winner")
    if winner is None:
        return PitchStatus.SCHEDULED
    accepting = vote.accepting_option
    if accepting is None:  # a vote from before the form asked
        accepting = next((i for i, o in enumerate(vote.options) if fold(o) == "voor"), 0)
    return PitchStatus.ACCEPTED if winner == accepting else PitchStatus.REJECTED


# -- the form that starts a vote, and the ballot form -------------------------------------------------------

def kind_fields(t: Catalog) -> tuple[FormField, ...]:
    return (FormField("kind", t("budget2.field_kind"), FieldKind.CHOICE, initial=SINGLE,
                      choices=tuple(Choice(k, t(f"budget2.kind.{k}")) for k in KINDS)),
            FormField("max", t("budget2.field_max"), hint=t("budget2.hint_max"), required=False, max_length=5))


def read_kind(values: Mapping[str, str], options: int, t: Catalog, errors: dict[str, str]) -> dict[str, Any]:
    kind = values.get("kind") if values.get("kind") in KINDS else SINGLE
    typed = values.get("max", "").strip()
    most = number_of(typed) if typed else options
    if kind == MULTIPLE and (most is None or not 1 <= most <= max(options, 1)):
        errors["max"] = t("budget2.bad_max", options=options)
    return {"kind": kind, "max_choices": most if kind == MULTIPLE and most else 1}


def rule_text(vote: VoteRecord, t: Catalog) -> str:
    return t(f"budget2.rule.{vote.kind}", max=vote.max_choices)


def ballot_form(vote: VoteRecord, current: BallotRecord | None, t: Catalog) -> Form:
    """Multiple: the options as checkboxes (typed numbers where a platform has none); ranked: a select per
    place, the first required (a ranking of one is a ballot too)."""
    choices = tuple(Choice(str(i), o) for i, o in enumerate(vote.options))
    chosen = current.choices if current else ()
    if vote.kind == MULTIPLE:
        fields: tuple[FormField, ...] = (FormField(
            "options", t("budget2.field_multiple", max=vote.max_choices), FieldKind.MULTI_CHOICE, hint=t(
                "budget2.hint_multiple", max=vote.max_choices), max_length=100, choices=choices,
            initial=",".join(map(str, chosen))),)
    else:
        fields = tuple(FormField(f"rank{place}", t("budget2.field_rank", place=place), FieldKind.CHOICE,
                                 required=place == 1, hint=t("budget2.hint_rank") if place == 1 else "",
                                 choices=choices, initial=str(chosen[place - 1]) if place <= len(chosen) else "")
                       for place in range(1, len(vote.options) + 1))
    return Form(BALLOT_FORM, t("budget2.ballot_title", nr=vote.id), fields, t("budget2.ballot_submit"),
                state=str(vote.id))


def read_ballot(vote: VoteRecord, values: Mapping[str, str], t: Catalog) -> list[int]:
    """The chosen option indices, in order; FormErrors for anything else (nothing is stored then)."""
    if vote.kind == MULTIPLE:
        listed = [p.strip() for p in values.get("options", "").split(",") if p.strip()]
        picked = [number_of(p) for p in listed]
        chosen = [p for p in picked if p is not None and p < len(vote.options)]
        if not chosen or len(chosen) != len(listed) or len(set(chosen)) > vote.max_choices:
            raise FormErrors({"options": t("budget2.bad_multiple", max=vote.max_choices)})
        return sorted(set(chosen))
    ranked: list[int] = []
    for place in range(1, len(vote.options) + 1):
        typed = values.get(f"rank{place}", "").strip()
        option = number_of(typed) if typed else None
        if typed and (option is None or option >= len(vote.options) or option in ranked):
            raise FormErrors({f"rank{place}": t("budget2.bad_rank", place=place)})
        if option is not None:
            ranked.append(option)
    if not ranked:
        raise FormErrors({"rank1": t("budget2.bad_rank", place=1)})
    return ranked


def chosen_text(vote: VoteRecord, choices: Sequence[int]) -> str:
    return (" > " if vote.kind == RANKED else ", ").join(vote.options[i] for i in choices if i < len(vote.options))


def rounds_parts(vote: VoteRecord, t: Catalog) -> list[Part]:
    """The rounds of an instant-runoff count, one line each: the votes per option, and who dropped out."""
    parts: list[Part] = []
    for number, one in enumerate(vote.result.get("rounds", []), start=1):
        shown = " · ".join(f"{vote.options[int(i)]}: {n}" for i, n in one["votes"].items())
        dropped = ", ".join(vote.options[i] for i in one["out"])
        parts.append(Item(t("budget2.round", nr=number), (shown + (" — " + t("budget2.dropped", options=dropped)
                                                                    if dropped else ""),)))
    if parts:
        parts.append(Context(t("budget2.irv_rule")))
    return parts
