"""Coordinator rights are kept in memory between inputs, yet never older than the database: a coordinator added
or removed through another instance (or in this one) counts from the next input on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.reply import Reply
from storage.records import MemberRecord
from storage.repositories import MemberRepository
from tests.conftest import started_bot
from tests.support import actor, add_member, run, text_of

BOSS = actor("coord", name="Marieke")  # in NETWERKBOT_COORDINATORS (tests/conftest.py)
ANNA = actor("anna", name="Anna")


async def may_change_settings(bot: Bot, who: str) -> bool:
    """`/netwerkbot instellingen` is for coordinators only: what Anna notices of her rights."""
    outcome = await run(bot, "/netwerkbot instellingen", actor(who))
    if isinstance(outcome, Reply) and outcome.is_error:
        assert text_of(outcome) == "! Dit kunnen alleen coördinatoren."
        return False
    return "Instellingen" in text_of(outcome)


@pytest.fixture
async def two(database_url: str, clock: ManualClock) -> AsyncIterator[tuple[Bot, Bot]]:
    """Two instances of the bot on one database."""
    async with started_bot(database_url, clock) as first, started_bot(database_url, clock) as second:
        for who in (BOSS, ANNA):
            await add_member(first, who.name, user_id=who.user_id)
        yield first, second


async def test_rights_given_or_taken_in_another_instance_count_at_the_next_input(two: tuple[Bot, Bot]) -> None:
    first, second = two
    assert not await may_change_settings(second, "anna")  # second now keeps: Anna is no coordinator
    assert not await may_change_settings(second, "anna")

    assert text_of(await run(first, "/netwerkbot coordinatoren toevoegen Anna", BOSS)) == "Anna is nu coördinator."
    assert await may_change_settings(second, "anna")
    assert await may_change_settings(second, "anna")  # now kept the other way

    removed = await run(first, "/netwerkbot coordinatoren verwijderen Anna", BOSS)
    assert text_of(removed) == "Anna is geen coördinator meer."
    assert not await may_change_settings(second, "anna")


async def test_rights_taken_in_the_same_instance_count_at_once(two: tuple[Bot, Bot]) -> None:
    first, _ = two
    await run(first, "/netwerkbot coordinatoren toevoegen Anna", BOSS)
    assert await may_change_settings(first, "anna")
    await run(first, "/netwerkbot coordinatoren verwijderen Anna", BOSS)
    assert not await may_change_settings(first, "anna")


async def test_kept_rights_cost_no_statement_about_coordinators(two: tuple[Bot, Bot]) -> None:
    """The point of keeping them: an input of someone already seen does not ask the database again."""
    first, _ = two
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    await run(first, "/expertise gedrag", ANNA)
    event.listen(first.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        await run(first, "/expertise gedrag", ANNA)
    finally:
        event.remove(first.db.engine.sync_engine, "before_cursor_execute", record)
    assert statements and not [s for s in statements if "coordinators" in s]


async def test_inputs_of_one_account_arriving_together_after_a_rename_read_the_member_once(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a change to a member, the inputs of that member that arrive together wait for one read of it
    (issue 19: 50 askers of 10 accounts read 50 members side by side), and all see the new name."""
    anna = await add_member(bot, "Anna", user_id="U1")
    assert "Anna" in text_of(await run(bot, "/netwerkbot profiel", actor("U1")))
    async with bot.db.transaction() as repos:
        await repos.members.update(anna.id, name="Anna de Vries")
    read: list[str] = []
    by_identity = MemberRepository.by_identity

    async def watched(self: MemberRepository, platform: str, user_id: str) -> MemberRecord | None:
        read.append(user_id)  # a member by account, beside the session or through it (storage/accounts.py)
        await asyncio.sleep(0)  # as a read through the session does: the others arrive meanwhile
        return await by_identity(self, platform, user_id)

    monkeypatch.setattr(MemberRepository, "by_identity", watched)
    answers = await asyncio.gather(*(run(bot, "/netwerkbot profiel", actor("U1")) for _ in range(12)))
    assert all("Anna de Vries" in text_of(a) for a in answers)
    assert len(read) == 1
