"""The allocation of a budget round: Equal Shares with completion, greedy for comparison (pabutools)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.budget.allocation import BUDGET_USED, FUNDED, NO_SUPPORT, TOO_EXPENSIVE, TOO_LITTLE_SUPPORT, allocate

A, B, C = 1, 2, 3


def test_equal_shares_and_greedy_differ_on_a_hand_checked_instance() -> None:
    """Budget € 100 for 10 schools, so each school's equal share is € 10.
    A (€ 60) and B (€ 40) are both supported by the same 6 schools; C (€ 40) by the other 4.

    Greedy (most support first while it fits): A (6), B (6): € 100 spent, C gets nothing although
    4 of the 10 schools want only C.
    Equal Shares: A and B cost their supporters the same per euro (tie: the lower number, A, first);
    A's 6 supporters pay € 10 each, all they have, so nothing is left for B. C's 4 supporters pay
    € 10 each: C is funded. Outcome A and C, € 100: the minority of 4 gets its proportional part.
    """
    ballots = [{A, B}] * 6 + [{C}] * 4
    result = allocate(100_00, {A: 60_00, B: 40_00, C: 40_00}, ballots)
    assert result.funded == (A, C)
    assert result.greedy == (A, B)
    assert result.spent == 100_00
    assert result.support == {A: 6, B: 6, C: 4}
    assert result.reasons == {A: FUNDED, B: BUDGET_USED, C: FUNDED}


def test_ties_go_to_the_lower_pitch_number_whatever_the_order_of_ballots_or_pitches() -> None:
    """Two pitches of € 60 with the same support, room for one: the lower number wins, always; also with
    ranked ballots that put them level (half the voters rank 5 first, half 9)."""
    for order in ([{5, 9}] * 3, [{9, 5}] * 3):
        for costs in ({5: 60_00, 9: 60_00}, {9: 60_00, 5: 60_00}):
            result = allocate(100_00, costs, order)
            assert result.funded == (5,) and result.greedy == (5,)
            level = allocate(100_00, costs, [[9, 5], [5, 9]] * 2, ranked=True)
            assert level.funded == (5,) and level.greedy == (5,)


def test_no_ballots_funds_nothing() -> None:
    result = allocate(100_00, {A: 10_00, B: 20_00}, [])
    assert result.funded == () and result.greedy == () and result.spent == 0
    assert result.reasons == {A: NO_SUPPORT, B: NO_SUPPORT}


def test_a_pitch_withdrawn_after_the_ballots_is_ignored_and_its_money_goes_elsewhere() -> None:
    """Ballots still name pitch A, but A is no longer in the round: B and C share the budget."""
    ballots = [{A, B}] * 6 + [{C}] * 4
    result = allocate(100_00, {B: 40_00, C: 40_00}, ballots)
    assert result.funded == (B, C)
    assert A not in result.support


def test_why_not_funded() -> None:
    """Too expensive for the whole budget; too little support (its supporters' shares together are
    less than its cost); no support at all."""
    ballots = [{A, B}] + [{C}] * 9
    result = allocate(100_00, {A: 150_00, B: 50_00, C: 90_00, 4: 5_00}, ballots)
    assert result.reasons[A] == TOO_EXPENSIVE
    assert result.reasons[B] == TOO_LITTLE_SUPPORT  # one school of ten: € 10 of shares for € 50
    assert result.reasons[C] == FUNDED
    assert result.reasons[4] == NO_SUPPORT


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_the_budget_is_never_exceeded(seed: int) -> None:
    r = random.Random(seed)
    costs = {i: r.randint(1, 5_000_00) for i in range(1, r.randint(1, 12))}
    ballots = [{p for p in costs if r.random() < 0.4} for _ in range(r.randint(0, 30))]
    budget = r.randint(1, 10_000_00)
    ranked = r.random() < 0.5  # ranked ballots: the same pitches in a random order
    result = allocate(budget, costs, [r.sample(sorted(b), len(b)) for b in ballots] if ranked else ballots,
                      ranked=ranked)
    assert sum(costs[p] for p in result.funded) <= budget
    assert sum(costs[p] for p in result.greedy) <= budget
    assert result.spent == sum(costs[p] for p in result.funded)
