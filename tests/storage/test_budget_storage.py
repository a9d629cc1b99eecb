"""Budget rounds in the database, on SQLite and PostgreSQL: the last ballot counts, a round closes once."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Bot
from tests.support import add_member


async def test_the_last_ballot_counts_and_a_late_delivered_earlier_one_does_not(bot: Bot) -> None:
    anna = await add_member(bot, "Anna")
    now = bot.clock.now()
    async with bot.db.transaction() as repos:
        number = await repos.budget.create(budget_cents=40_000_00, pitches=[1, 2, 3], electorate="members",
                                           werkgebied="", secret=True, kind="approval",
                                           deadline=now + timedelta(days=2), channel="proposals", by=anna.id, now=now)
        assert await repos.budget.cast(number, f"m:{anna.id}", anna.id, [1, 2], now)
        assert await repos.budget.cast(number, f"m:{anna.id}", anna.id, [3], now + timedelta(minutes=1))
        assert not await repos.budget.cast(number, f"m:{anna.id}", anna.id, [1], now)  # earlier, delivered late
    async with bot.db.transaction() as repos:
        [ballot] = await repos.budget.ballots(number)
        assert ballot.choices == (3,)
        budget_round = await repos.budget.get(number, lock=True)
        assert budget_round is not None and budget_round.pitches == (1, 2, 3) and budget_round.secret
        assert await repos.budget.close(number, now, {"funded": [3]})
        assert not await repos.budget.close(number, now, {"funded": []})
    async with bot.db.transaction() as repos:
        closed = await repos.budget.get(number)
        assert closed is not None and closed.result == {"funded": [3]} and closed.closed_at == now
