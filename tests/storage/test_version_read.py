"""PostgreSQL (issue 19, item 2): a repeated search reads the search version in autocommit, outside any
transaction (one round trip instead of BEGIN, SELECT, COMMIT), and is still never older than the database."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.inputs import Command
from bot.core.reply import Reply
from storage.changes import KEEP_VERSIONS, NOTHING_AFTER, Change, RecentChanges
from storage.committed import CommittedStatePostgres
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


def pooled_reads(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The version reads (and other reads beside the session) that took a connection from the pool."""
    state = bot.db._committed_state
    assert isinstance(state, CommittedStatePostgres) and state._pool is not None
    taken: list[str] = []
    fetch = type(state._pool).fetch

    async def counting(pool: Any, sql: str, *params: Any) -> Any:
        taken.append(sql)
        return await fetch(pool, sql, *params)

    monkeypatch.setattr(type(state._pool), "fetch", counting)  # (a pool's attributes are read-only)
    return taken


@pytest.mark.postgres
async def test_on_postgresql_reads_one_after_another_take_no_connection_from_the_pool(
        postgres_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    async with started_bot(postgres_url, clock) as bot:
        await run(bot, "/expertise gedrag")
        taken = pooled_reads(bot, monkeypatch)
        for _ in range(5):
            await run(bot, "/expertise gedrag")
        assert taken == []  # the kept connection, free each time
        state = bot.db._committed_state
        assert isinstance(state, CommittedStatePostgres)
        together = await asyncio.gather(*(state() for _ in range(3)))
        assert len(set(together)) == 1 and taken == []  # overlapping: the first on the kept connection, the two
        # that asked while it was under way share the read after it, on the kept connection too


@pytest.mark.postgres
async def test_on_postgresql_who_asks_while_a_version_read_is_under_way_shares_the_next_one_never_that_one(
        postgres_url: str, clock: ManualClock) -> None:
    """Many searches at once read the version a few times, not once each; yet a read sent before someone asked is
    never theirs: what another instance committed before they asked is in what they read."""
    async with started_bot(postgres_url, clock) as bot, started_bot(postgres_url, clock) as other:
        await run(bot, "/expertise gedrag")  # the reads' pool opens
        state = bot.db._committed_state
        assert isinstance(state, CommittedStatePostgres)
        fetch, read, answered, sent = state._fetch, asyncio.Event(), asyncio.Event(), []
        running: list[asyncio.Task[Any] | None] = []

        async def answered_later(sql: str, *params: Any) -> Any:
            running.append(asyncio.current_task())  # (a pool connection opened here puts its timeout on this task)
            rows = await fetch(sql, *params)  # read now ...
            sent.append(int(rows[0][0]))
            read.set()
            if len(sent) == 1:
                await answered.wait()  # ... the first one answered only later
            return rows

        state._fetch = answered_later  # type: ignore[method-assign]
        first = asyncio.create_task(state())
        await read.wait()
        member = await add_member(other, "Fatima Yilmaz")  # meanwhile another instance writes
        await add_expertise(other, member, "gedrag", "Time-out plekken in de klas")
        later = [asyncio.create_task(state()) for _ in range(5)]  # and then five ask
        await asyncio.sleep(0)  # (one turn: each has asked)
        later[0].cancel()  # one of them stops waiting: that stops it for nobody else
        answered.set()

        before, *after = await asyncio.gather(first, *later[1:])
        assert before is not None and all(a is not None and a[0] > before[0] for a in after) and len(after) == 4
        assert len(sent) == 2 and later[0].cancelled()  # the five shared one read
        assert running[1] is not None and running[1] not in later  # in a task of its own, not in a callback


@pytest.mark.postgres
async def test_on_postgresql_a_kept_connection_that_dies_costs_no_answer(postgres_url: str,
                                                                         clock: ManualClock) -> None:
    async with started_bot(postgres_url, clock) as bot:
        await run(bot, "/expertise gedrag")
        state = bot.db._committed_state
        assert isinstance(state, CommittedStatePostgres) and state._kept is not None
        killer = await asyncpg.connect(state.dsn)
        try:
            await killer.execute("SELECT pg_terminate_backend($1)", state._kept.get_server_pid())
        finally:
            await killer.close()
        member = await add_member(bot, "Fatima Yilmaz")
        await add_expertise(bot, member, "gedrag", "Time-out plekken in de klas")
        for _ in range(3):  # the read that finds it dead, and those after it
            answer = await run(bot, "/expertise gedrag")
            assert isinstance(answer, Reply) and not answer.is_error and "Fatima Yilmaz" in text_of(answer)


@pytest.mark.postgres
async def test_on_postgresql_fifty_first_reads_at_once_open_one_pool(postgres_url: str, clock: ManualClock,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Fifty askers right after a start: one pool, not fifty (each with connections of its own, until PostgreSQL
    refused more and askers got an apology; bench/ack_concurrency.py --postgres)."""
    opened: list[str] = []
    create_pool = asyncpg.create_pool

    def counting(dsn: str, **options: Any) -> Any:
        opened.append(dsn)
        return create_pool(dsn, **options)

    monkeypatch.setattr(asyncpg, "create_pool", counting)
    async with started_bot(postgres_url, clock) as bot:
        answers = await asyncio.gather(*(run(bot, "/expertise gedrag", actor(f"U{n}")) for n in range(50)))
        assert all(isinstance(a, Reply) and not a.is_error for a in answers)
        assert len(opened) == 1


@pytest.mark.postgres
async def test_on_postgresql_the_reads_beside_the_session_are_not_planned_again_at_every_input(
        postgres_url: str, clock: ManualClock) -> None:
    """PostgreSQL plans a statement with parameters anew at each execution while it guesses that a plan for the
    values at hand is cheaper (always for its first five): the version read with what changed, and a member's
    read, cost more to plan than to run (bench/README.md). They are planned once per connection."""
    async with started_bot(postgres_url, clock) as bot:
        await add_member(bot, "Fatima Yilmaz", user_id="U7")
        for n in range(8):  # eight askers: eight version reads and member reads, on the kept connection
            answer = await run(bot, "/expertise gedrag", actor(f"U{n}"))
            assert isinstance(answer, Reply) and not answer.is_error
        state = bot.db._committed_state
        assert isinstance(state, CommittedStatePostgres) and state._kept is not None
        plans = {row["statement"]: (row["generic_plans"], row["custom_plans"]) for row in await state._kept.fetch(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")}
        version = next(plan for statement, plan in plans.items() if "search_changes" in statement)
        member = next(plan for statement, plan in plans.items() if "identities" in statement)
        assert version[0] >= 8 and member[0] >= 1, plans
        assert [plan for plan in plans.values() if plan[1]] == [], plans  # none planned for the values at hand


def fetched(bot: Bot) -> list[str]:
    """Every read beside the session on PostgreSQL (the version read included), as it is made."""
    state = bot.db._committed_state
    assert isinstance(state, CommittedStatePostgres)
    made: list[str] = []
    fetch = state._fetch

    async def counting(sql: str, *params: Any) -> Any:
        made.append(sql)
        return await fetch(sql, *params)

    state._fetch = counting  # type: ignore[method-assign]
    return made


@pytest.mark.postgres
async def test_on_postgresql_what_another_instance_changed_comes_with_the_version_read(
        postgres_url: str, clock: ManualClock) -> None:
    """After a change, the members kept and the cached search catch up on what it named with no read of their
    own: the version read brought it (before: two more round trips on the next input's ack)."""
    async with started_bot(postgres_url, clock) as bot, started_bot(postgres_url, clock) as other:
        holder = await add_member(bot, "Fatima Yilmaz", user_id="U7")
        await add_expertise(bot, holder, "gedrag", "Time-out plekken in de klas")
        await add_member(bot, "Jan de Vries", user_id="U9")
        for who in ("U7", "U9"):  # both kept in memory, the search cached
            await run(bot, "/expertise gedrag", actor(who))
        made = fetched(bot)
        async with other.db.transaction() as repos:  # another instance renames the holder
            await repos.members.update(holder.id, name="Fatima El Amrani")
        answer = await run(bot, "/expertise gedrag", actor("U9"))
        assert "Fatima El Amrani" in text_of(answer) and "Fatima Yilmaz" not in text_of(answer)
        assert len(made) == 1 and "search_changes" in made[0]  # one read: the version with what changed
        own = await run(bot, "/expertise gedrag", actor("U7"))  # she, renamed, is read again (not Jan)
        assert len(made) == 3 and "identities" in made[2] and "Stuur bericht" not in text_of(own)


def test_recent_changes_are_joined_as_they_are_read_and_forgotten_when_the_database_went_back() -> None:
    recent = RecentChanges()
    assert recent.after() == NOTHING_AFTER
    recent.heard(NOTHING_AFTER, 10, [(None, None, None)])  # the first read: only the version
    assert recent.since(10, 10) == [] and recent.since(9, 10) is None
    recent.heard(recent.after(), 12, [(11, "member", 7), (12, "expertise", 3)])
    recent.heard(10, 11, [(11, "member", 7)])  # a read that overlapped, answered later: nothing new
    assert recent.since(10, 12) == [Change(11, "member", 7), Change(12, "expertise", 3)]
    assert recent.since(11, 12) == [Change(12, "expertise", 3)] and recent.since(10, 13) is None
    recent.heard(recent.after(), 12, [(None, None, None)])  # nothing changed since
    assert recent.after() == 12 and recent.since(12, 12) == []
    recent.heard(recent.after(), 11, [(None, None, None)])  # lower than it asked after: a restore
    assert recent.since(10, 11) is None and recent.after() == NOTHING_AFTER
    recent.heard(11, 11 + KEEP_VERSIONS + 5, [(v, "member", v) for v in range(12, 11 + KEEP_VERSIONS + 6)])
    assert recent.since(11, 20) is None and len(recent.since(16, 11 + KEEP_VERSIONS + 5) or []) == KEEP_VERSIONS
