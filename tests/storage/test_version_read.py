"""PostgreSQL (issue 19, item 2): a repeated search reads the search version in autocommit, outside any
transaction (one round trip instead of BEGIN, SELECT, COMMIT), and is still never older than the database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from bot.core.clock import ManualClock
from bot.core.inputs import Command
from tests.conftest import started_bot
from tests.support import actor, add_expertise, add_member, run, text_of


@pytest.mark.postgres
async def test_a_repeated_search_on_postgresql_reads_the_version_outside_the_session_and_sees_other_instances(
        postgres_url: str, clock: ManualClock) -> None:
    async with started_bot(postgres_url, clock) as bot, started_bot(postgres_url, clock) as other:
        await run(bot, "/expertise gedrag")  # the asker becomes a member; the (empty) answer is cached
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        event.listen(bot.db.engine.sync_engine, "before_cursor_execute", record)
        again = await run(bot, "/expertise gedrag")
        assert not [s for s in statements if "search_state" in s], statements  # read beside the session
        member = await add_member(other, "Fatima Yilmaz")  # another instance adds a holder of gedrag
        await add_expertise(other, member, "gedrag", "Time-out plekken in de klas")
        after = await run(bot, "/expertise gedrag")
        assert "Fatima Yilmaz" not in text_of(again) and "Fatima Yilmaz" in text_of(after)


@pytest.mark.postgres
async def test_on_postgresql_only_a_transaction_that_changed_nothing_but_its_claim_skips_waiting_for_the_disk(
        postgres_url: str, clock: ManualClock) -> None:
    async with started_bot(postgres_url, clock) as bot:
        await run(bot, "/expertise gedrag")  # first contact: the member is written, durably
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        event.listen(bot.db.engine.sync_engine, "before_cursor_execute", record)
        await bot.dispatcher.dispatch(Command("expertise", "gedrag", actor(), delivery_id="d1"))
        assert any(s.startswith("INSERT INTO deliveries") for s in statements)
        assert "SET LOCAL synchronous_commit TO OFF" in statements  # a search: only its claim was written
        statements.clear()
        await bot.dispatcher.dispatch(Command("idee", "Een gedeelde time-out plek", actor(), delivery_id="d2"))
        assert any(s.startswith("INSERT INTO ideas") for s in statements)
        assert "SET LOCAL synchronous_commit TO OFF" not in statements  # an idea is stored durably
